// Command sockspawn runs OS containers, usually with systemd inside, as
// ordinary systemd services: see `sockspawn --help`.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/sockspawn/sockspawn/activation"
	"github.com/sockspawn/sockspawn/payload"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "devel"

func init() {
	// The main goroutine keeps the main thread, where the supervisor
	// takes stop requests as they come (activation.SignalWaiter).
	runtime.LockOSThread()
}

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "run" || os.Args[1] == "boot") {
		// The supervisor works on other threads, and the main thread
		// only waits for stop requests when it is asked to.
		os.Exit(activation.ServeMainThread(func() int { return dispatch(os.Args[1:]) }))
	}
	os.Exit(dispatch(os.Args[1:]))
}

// dispatch runs one subcommand and returns the exit status.
func dispatch(args []string) int {
	if len(args) == 0 {
		writeUsage(os.Stderr)
		return 2
	}
	switch args[0] {
	case payload.StageCommand:
		fd, err := strconv.Atoi(argAt(args, 1))
		if err != nil {
			fmt.Fprintln(os.Stderr, "sockspawn: the init stage is started by sockspawn itself")
			return 1
		}
		return payload.StageMain(fd)
	case payload.UserNSHoldCommand:
		return payload.UserNSHoldMain()
	case payload.StubCommand:
		return payload.StubMain(args[1:])
	case "run":
		return cmdRun(args[1:])
	case "boot":
		return cmdBoot(args[1:])
	case "new":
		return cmdNew(args[1:])
	case "cat":
		return cmdCat(args[1:])
	case "check":
		return cmdCheck(args[1:])
	case "freeze", "thaw":
		return cmdFreeze(args[1:], args[0] == "freeze")
	case "login":
		return cmdLogin(args[1:])
	case "bind":
		return cmdBind(args[1:])
	case "help", "-h", "--help":
		writeHelp(os.Stdout)
		return 0
	case "--version", "version":
		fmt.Printf("sockspawn %s (%s)\n", version, runtime.Version())
		return 0
	case "__man":
		writeMan(os.Stdout, version)
		return 0
	case "__flags-md":
		writeFlagTable(os.Stdout)
		return 0
	case "__cleanup":
		return cmdCleanup(args[1:])
	case "__install-units":
		return cmdInstallUnits(args[1:])
	}
	fmt.Fprintf(os.Stderr, "sockspawn: unknown command %q (commands: %s; see sockspawn --help)\n", args[0], strings.Join(commandNames(), ", "))
	return 1
}

func argAt(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}

// errorf prints a one-line error and returns the failure status.
func errorf(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "sockspawn: "+format+"\n", args...)
	return 1
}
