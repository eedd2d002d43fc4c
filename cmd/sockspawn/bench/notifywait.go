package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// notifyWaitMain is `bench notify-wait [-stay] [-timeout D] SOCKET KEY`:
// bind a notify socket at SOCKET, print "listening SOCKET" once it is
// bound, then every line of every datagram as "notify +SECONDS: LINE". It
// exits 0 when a datagram carries the line KEY, or, with -stay, keeps
// printing until SIGTERM or SIGINT and then exits 0 if KEY came. It exits
// 1 if KEY did not come within the timeout.
func notifyWaitMain(args []string) int {
	fs := flag.NewFlagSet("notify-wait", flag.ContinueOnError)
	stay := fs.Bool("stay", false, "keep receiving after KEY until SIGTERM or SIGINT")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up if KEY has not come by then")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: bench notify-wait [-stay] [-timeout D] SOCKET KEY")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return 2
	}
	path, key := fs.Arg(0), fs.Arg(1)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	r, err := listenNotify(path)
	if err != nil {
		return fail("%v", err)
	}
	defer r.Close()
	start := time.Now()
	fmt.Printf("listening %s\n", path)

	deadline := time.NewTimer(*timeout)
	defer deadline.Stop()
	got := false
	for {
		select {
		case n, ok := <-r.C:
			if !ok {
				return fail("notify socket %s closed", path)
			}
			for _, l := range n.lines {
				fmt.Printf("notify +%.3fs: %s\n", n.at.Sub(start).Seconds(), l)
			}
			if !got && n.has(key) {
				got = true
				deadline.Stop()
				fmt.Printf("notify-wait: %s after %.3fs\n", key, n.at.Sub(start).Seconds())
				if !*stay {
					return 0
				}
			}
		case <-deadline.C:
			return fail("no %s on %s within %v", key, path, *timeout)
		case <-stop:
			return exitIf(got)
		}
	}
}

func exitIf(ok bool) int {
	if ok {
		return 0
	}
	return 1
}
