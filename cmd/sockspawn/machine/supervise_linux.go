package machine

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/sockspawn/sockspawn/activation"
	"github.com/sockspawn/sockspawn/cmd/sockspawn/console"
	"github.com/sockspawn/sockspawn/cmd/sockspawn/supervisor"
	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

// supervise wires the supervisor's event loop (package supervisor) to a
// running stage: the notify relay, the console, machined, the control
// socket and the signal waiter, and returns the container's exit status.
// gone is called once the container's init has exited (not when starting
// the payload failed), before the console and the relay are closed. An
// error comes with status 1.
func (r *run) supervise(st *payload.Stage, gone func(), idle idleSetup) (status int, stopped bool, err error) {
	d := r.d
	pid := st.Cmd.Process.Pid
	relay := r.notifyRelay(st)
	defer logRelayStats(relay) // once it is closed
	defer relay.Close()
	kill := func() { _ = st.Signal(syscall.SIGKILL) }
	abandon := func(err error) (int, bool, error) {
		kill()
		_ = st.Cmd.Wait()
		return 1, false, err
	}
	con, err := console.Start(d.Console, st.Console, st.Peer, os.Stdin, os.Stdout, kill)
	if err != nil {
		return abandon(fmt.Errorf("console: %w", err))
	}
	defer con.Close()
	aborted, err := r.waitExec(st)
	if aborted {
		trace("stopped before the payload ran")
		_ = st.Cmd.Wait()
		return 0, true, nil
	}
	if err != nil {
		return abandon(fmt.Errorf("%s: %w", d.Machine, err))
	}
	trace("payload executed")
	unregister, err := r.register(pid)
	if err != nil {
		return abandon(err)
	}
	ctl, err := serveControl(st, d)
	if err != nil {
		status, stopped, err := abandon(fmt.Errorf("%s: %w", d.Machine, err))
		unregister()
		return status, stopped, err
	}
	notifyHost(fmt.Sprintf("X_SOCKSPAWN_LEADER_PID=%d", pid))
	if !d.NotifyReady {
		notifyHost("READY=1\nSTATUS=Container running.")
	}
	sv := supervisor.New(supervisor.Config{
		Boot:        r.c.Boot,
		NotifyReady: d.NotifyReady,
		Init:        supervisor.StageInit(st),
		Host:        hostManager{},
		Messages:    relay.Messages(),
		Signals:     r.stop,
		Exited:      waitExit(st),
		StartIdle: func(poweroff func(quit <-chan struct{})) supervisor.IdleWatcher {
			if w := idle.start(d.Machine, pid, r.c.Quiet, poweroff); w != nil {
				return w
			}
			return nil // not a nil *idlewatch.Watcher in the interface
		},
		Resize:  func() { con.Resize(os.Stdin) },
		Release: releaseStartupMemory,
		Trace:   trace,
	})
	status, stopped = runWithWaiter(sv, func() {
		ctl.Close() // before gone: the machine's lock goes with it
		for _, m := range st.TTYs {
			m.Close()
		}
		unregister()
		gone()
	})
	return status, stopped, nil
}

// waitExec waits until the stage executes the payload. A stop request
// that comes first kills the stage instead (aborted): none of the guest
// has run, and a booting systemd would hear the request only once its
// start-up is over. Other signals wait in r.stop for the supervisor.
func (r *run) waitExec(st *payload.Stage) (aborted bool, err error) {
	done := make(chan error, 1)
	go func() { done <- st.WaitExec() }()
	var later []os.Signal
	defer func() {
		for _, s := range later {
			select {
			case r.stop <- s:
			default: // full: a resize or a freeze before the start is moot
			}
		}
	}()
	for {
		select {
		case err := <-done:
			return false, err
		case s := <-r.stop:
			later = append(later, s)
			if !isStopRequest(s) || st.Executing() {
				continue
			}
			_ = st.Signal(syscall.SIGKILL)
			<-done
			return true, nil
		}
	}
}

// runWithWaiter runs the supervisor's loop, with the first stop request
// taken on the main thread as it comes, where the signal the init gets
// at once is sent before the loop hears of it (Supervisor.TakeSignal).
// Later signals, and any that reach Go's handler first (the main thread
// was busy), come through the loop's channel. ended is called when the
// loop returns, before the waiter stops.
func runWithWaiter(sv *supervisor.Supervisor, ended func()) (status int, stopped bool) {
	waiter := activation.NewSignalWaiter(syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	ran := make(chan struct{})
	runWaiter := func() {
		defer close(ran)
		_ = waiter.Run(sv.TakeSignal) // on another thread than the main one, sigs alone carry requests
	}
	if !activation.OnMainThread(runWaiter) {
		go runWaiter()
	}
	status, stopped = sv.Run()
	ended()
	waiter.Stop()
	<-ran
	if sv.LateStop() { // came after the init's end: still a stop request
		stopped = true
	}
	return status, stopped
}

// notifyRelay relays the notifications of the container's init (and,
// with --as-pid2, of its child) to the supervisor, with counts on the
// way out when debugging.
func (r *run) notifyRelay(st *payload.Stage) *activation.Relay {
	pid := st.Cmd.Process.Pid
	relay := activation.NewRelay(st.Notify, func(sender int32) bool {
		return int(sender) == pid || (r.c.AsPid2 && parentPID(int(sender)) == pid)
	})
	if !debugLogging() {
		return relay
	}
	relay.SetDebug(func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "sockspawn: "+format+"\n", args...)
	})
	return relay
}

// logRelayStats says, when debugging, what the relay accepted and
// dropped.
func logRelayStats(relay *activation.Relay) {
	if !debugLogging() {
		return
	}
	st := relay.Stats()
	fmt.Fprintf(os.Stderr, "sockspawn: notify: %d accepted, %d dropped (%d with fds, %d truncated, %d without credentials, %d from other processes, %d malformed)\n",
		st.Accepted, st.Dropped, st.WithFDs, st.Truncated, st.NoCredentials, st.Rejected, st.Malformed)
}

// waitExit waits for the stage's end and sends its wait status.
func waitExit(st *payload.Stage) <-chan syscall.WaitStatus {
	exited := make(chan syscall.WaitStatus, 1)
	go func() {
		_ = st.Cmd.Wait()
		ws, _ := st.Cmd.ProcessState.Sys().(syscall.WaitStatus)
		exited <- ws
	}()
	return exited
}

// hostManager is sockspawn's own service manager, for the supervisor.
type hostManager struct{}

func (hostManager) Notify(state string) { notifyHost(state) }

// register tells systemd-machined about the container, as --register
// asks: by default only when machined is there; with --register=yes a
// failure is an error. unregister undoes it, and what came with it.
func (r *run) register(leader int) (unregister func(), err error) {
	registered, err := registerMachine(r.d, r.c, leader)
	if err != nil || !registered {
		return func() {}, err
	}
	// What registering made goes before gone: the runtime directory
	// holds the tunnel machined was told of.
	unlink := func() {}
	if r.d.Tunnel != "" {
		if unlink, err = activation.LinkPropagation(r.d.Machine, r.d.Tunnel); err != nil && !r.c.Quiet {
			fmt.Fprintf(os.Stderr, "sockspawn: %v\n", err)
		}
	}
	return func() {
		unlink()
		_ = activation.UnregisterMachine(r.d.Machine)
	}, nil
}

// registerMachine registers the container with machined; registered
// says whether machined took it.
func registerMachine(d decision, c units.Config, leader int) (registered bool, err error) {
	if c.Register != nil && !*c.Register {
		return false, nil
	}
	err = activation.RegisterMachine(activation.Machine{Name: d.Machine, UUID: d.UUID, Leader: leader, Directory: d.Image})
	switch {
	case err == nil:
		return true, nil
	case c.Register == nil && errors.Is(err, activation.ErrNoMachined):
		return false, nil
	case c.Register == nil:
		if !c.Quiet {
			fmt.Fprintf(os.Stderr, "sockspawn: not registered with systemd-machined: %v\n", err)
		}
		return false, nil
	}
	return false, fmt.Errorf("--register=yes: %w", err)
}

// debugLogging reports whether debug output was asked for, the way
// systemd tools take it: SYSTEMD_LOG_LEVEL=debug (or SOCKSPAWN_LOG_LEVEL).
func debugLogging() bool {
	for _, k := range []string{"SOCKSPAWN_LOG_LEVEL", "SYSTEMD_LOG_LEVEL"} {
		if v := os.Getenv(k); v == "debug" || v == "7" {
			return true
		}
	}
	return false
}

// notifyHost sends state to sockspawn's own service manager, if any.
func notifyHost(state string) {
	if _, err := activation.NotifyHost(state); err != nil {
		fmt.Fprintf(os.Stderr, "sockspawn: notify: %v\n", err)
	}
}

// parentPID reads the parent of pid from /proc (0 if unknown).
func parentPID(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0
	}
	p, _ := strconv.Atoi(f[1])
	return p
}
