package payload

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sockspawn/sockspawn/internal/systemd"
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
	lastPID := -1
	if fd, err := strconv.Atoi(args[0]); err == nil {
		lastPID = fd
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGCHLD, systemd.SigRTMin3)
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
	gcPercent := -1
	if lastPID >= 0 {
		// The Go runtime's own threads took the first PIDs after ours:
		// make the next one 2 again (free since the stage's threads ended
		// at execve), as a command run with --as-pid2 expects.
		settleThreads()
		gcPercent = debug.SetGCPercent(-1)
		setLastPID(lastPID)
	}
	pid, err := syscall.ForkExec(argv[0], argv, attr)
	if gcPercent != -1 {
		debug.SetGCPercent(gcPercent)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "sockspawn: stub PID 1: execute %s: %v\n", argv[0], err)
		return 127
	}
	if lastPID >= 0 && pid != 2 {
		fmt.Fprintf(os.Stderr, "sockspawn: stub PID 1: %s runs as PID %d, not 2: a thread of the stub took PID 2\n", argv[0], pid)
	}
	for sig := range sigs {
		if sig != unix.SIGCHLD {
			s := sig.(syscall.Signal)
			if s == systemd.SigRTMin3 {
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

// settleThreads lets the goroutine of os/signal start and block, so that
// the threads the runtime makes for it (a blocked goroutine hands its P
// to another thread, a new one if none is idle) are made now: a thread
// made between setLastPID and the fork would take PID 2. In a test under
// load, without it, 1 start in 200 gave the command PID 3.
func settleThreads() {
	for i := 0; i < 3; i++ {
		runtime.Gosched()
	}
	// Not time.Sleep: its timer would start the runtime's poller, and
	// leave its epoll and eventfd open in PID 1 for the container's life.
	ts := unix.NsecToTimespec(int64(time.Millisecond))
	_ = unix.Nanosleep(&ts, nil)
}

// setLastPID writes 1 to the namespace's ns_last_pid (fd), so that the
// next process gets PID 2, and closes fd. Raw system calls: the runtime
// does not see them, so it cannot hand this thread's P to a new thread
// while one takes long. Garbage collection, which starts workers, is off
// until the fork (StubMain).
func setLastPID(fd int) {
	one := [1]byte{'1'}
	_, _, _ = unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&one[0])), 1)
	_, _, _ = unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
}

func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}
