// Command bench measures sockspawn against systemd-nspawn on the same
// image in the same run, alternating between the two, and prints the
// medians and their ratios next to the targets of issues 2 and 4.
//
//	bench [-rounds N] [-tools sockspawn,nspawn] [-sockspawn PATH] [-nspawn PATH]
//	      [-socket-activate PATH] [-warm N]
//	bench notify-wait SOCKET KEY [TIMEOUT]
//	bench trivial-init
//
// notify-wait binds a notify socket ($NOTIFY_SOCKET for a supervisor
// started next to it), prints every datagram it receives, and exits 0 when
// one carries the line KEY (such as READY=1); `make demo` uses it.
// trivial-init is the payload of measurement (1): run as a container's
// PID 1, it sends READY=1 at once and exits 0 on SIGTERM, SIGINT or
// SIGRTMIN+3.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "notify-wait":
			os.Exit(notifyWaitMain(os.Args[2:]))
		case "trivial-init":
			os.Exit(trivialInitMain())
		}
	}
	os.Exit(benchMain(os.Args[1:]))
}

// fail prints a one-line error and returns the failure status.
func fail(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	return 1
}
