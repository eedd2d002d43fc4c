package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

// trivialInitMain is the payload of measurement (1): run as a container's
// PID 1, it sends READY=1 to $NOTIFY_SOCKET at once, then waits for
// SIGTERM, SIGINT or SIGRTMIN+3 and exits 0. As PID 1 it gets only the
// signals it has handlers for, so the handlers are installed first.
func trivialInitMain() int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, systemd.SigRTMin3)
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return fail("trivial-init: $NOTIFY_SOCKET is not set")
	}
	if err := sendNotify(addr, "READY=1"); err != nil {
		return fail("trivial-init: %v", err)
	}
	<-sigs
	return 0
}
