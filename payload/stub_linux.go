package payload

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// StubCommand is the hidden subcommand of the stub PID 1 used with
// --as-pid2.
const StubCommand = "__pid2"

// StubMain is a minimal PID 1 for payloads that are not init systems: it
// runs argv as PID 2, forwards termination signals to it, reaps every
// zombie re-parented to it, and exits with the payload's status. args are
// the fd of the namespace's ns_last_pid, opened by the stage, then argv.
func StubMain(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "sockspawn: stub PID 1: no command")
		return 1
	}
	argv := args[1:]
	var lastPID *os.File
	if fd, err := strconv.Atoi(args[0]); err == nil {
		lastPID = os.NewFile(uintptr(fd), "ns_last_pid")
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGCHLD, sigRTMin3)
	attr := &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{Setsid: true, Setctty: isTerminal(0), Ctty: 0},
	}
	// Listening fds (LISTEN_FDS) are passed on to the payload.
	for fd := 3; ; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			break
		}
		attr.Files = append(attr.Files, uintptr(fd))
	}
	if lastPID != nil {
		// The Go runtime's own threads took the first PIDs after ours:
		// make the next one 2 again (free since the stage's threads ended
		// at execve), as a command run with --as-pid2 expects.
		_, _ = lastPID.WriteString("1")
		lastPID.Close()
	}
	pid, err := syscall.ForkExec(argv[0], argv, attr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sockspawn: stub PID 1: execute %s: %v\n", argv[0], err)
		return 127
	}
	for sig := range sigs {
		if sig != unix.SIGCHLD {
			s := sig.(syscall.Signal)
			if s == sigRTMin3 {
				s = unix.SIGTERM // a clean-shutdown request for a non-init payload
			}
			_ = unix.Kill(pid, s)
			continue
		}
		for {
			var ws unix.WaitStatus
			wpid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil || wpid <= 0 {
				break
			}
			if wpid == pid {
				if ws.Signaled() {
					return 128 + int(ws.Signal())
				}
				return ws.ExitStatus()
			}
		}
	}
	return 0
}

func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// sigRTMin3 is SIGRTMIN+3 as systemd counts (glibc's SIGRTMIN is 34): the
// signal that asks systemd for a clean poweroff.
const sigRTMin3 = syscall.Signal(37)
