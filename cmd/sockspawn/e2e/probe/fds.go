//go:build linux

package main

import (
	"os"
	"os/signal"
	"strconv"

	"golang.org/x/sys/unix"
)

type fdsReport struct {
	Pid       int               `json:"pid"`
	FDs       []int             `json:"fds"`     // open when main started
	Targets   map[string]string `json:"targets"` // readlink /proc/self/fd/N of each
	ListenFDs string            `json:"listen_fds"`
}

// probeFDs is `probe fds`: it reports the fds it was started with and
// waits for SIGTERM, so that the test can list them from the host too.
func probeFDs(fds []int) error {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT)
	r := fdsReport{Pid: os.Getpid(), FDs: fds, Targets: map[string]string{}, ListenFDs: os.Getenv("LISTEN_FDS")}
	for _, fd := range fds {
		t, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
		if err != nil {
			t = errnoName(err)
		}
		r.Targets[strconv.Itoa(fd)] = t
	}
	if err := emit(r); err != nil {
		return err
	}
	<-sigs
	return nil
}
