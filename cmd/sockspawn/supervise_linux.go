package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/sockspawn/sockspawn/activation"
	"github.com/sockspawn/sockspawn/cmd/sockspawn/supervisor"
	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

// supervise wires the supervisor's event loop (package supervisor) to a
// running stage: the notify relay, the console, machined, the control
// socket and the signal waiter, and returns the container's exit status.
// gone is called once the container's init has exited (not when starting
// the payload failed), before the console and the relay are closed.
func supervise(st *payload.Stage, d decision, c units.Config, sigs <-chan os.Signal, gone func(), idle idleSetup) (status int, stopped bool) {
	pid := st.Cmd.Process.Pid
	relay := activation.NewRelay(st.Notify, func(sender int32) bool {
		return int(sender) == pid || (c.AsPid2 && parentPID(int(sender)) == pid)
	})
	if debugLogging() {
		relay.SetDebug(func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "sockspawn: "+format+"\n", args...)
		})
		defer func() {
			st := relay.Stats()
			fmt.Fprintf(os.Stderr, "sockspawn: notify: %d accepted, %d dropped (%d with fds, %d truncated, %d without credentials, %d from other processes, %d malformed)\n",
				st.Accepted, st.Dropped, st.WithFDs, st.Truncated, st.NoCredentials, st.Rejected, st.Malformed)
		}()
	}
	defer relay.Close()
	kill := func() { _ = st.Signal(syscall.SIGKILL) }
	con, err := startConsole(d.Console, st.Console, st.Peer, os.Stdin, os.Stdout, kill)
	if err != nil {
		kill()
		_ = st.Cmd.Wait()
		return errorf("console: %v", err), false
	}
	defer con.close()
	if err := st.WaitExec(); err != nil {
		kill()
		_ = st.Cmd.Wait()
		return errorf("%s: %v", d.Machine, err), false
	}
	trace("payload executed")
	registered, err := register(d, c, pid)
	if err != nil {
		kill()
		_ = st.Cmd.Wait()
		return errorf("%v", err), false
	}
	// What registering made goes before gone: the runtime directory
	// holds the tunnel machined was told of.
	unregister := func() {}
	if registered {
		unlink := func() {}
		if d.Tunnel != "" {
			if unlink, err = activation.LinkPropagation(d.Machine, d.Tunnel); err != nil && !c.Quiet {
				fmt.Fprintf(os.Stderr, "sockspawn: %v\n", err)
			}
		}
		unregister = func() {
			unlink()
			_ = activation.UnregisterMachine(d.Machine)
		}
	}
	ctl, err := serveControl(st, d)
	if err != nil {
		kill()
		_ = st.Cmd.Wait()
		unregister()
		return errorf("%s: %v", d.Machine, err), false
	}
	notifyHost(fmt.Sprintf("X_SOCKSPAWN_LEADER_PID=%d", pid))
	if !d.NotifyReady {
		notifyHost("READY=1\nSTATUS=Container running.")
	}
	exited := make(chan syscall.WaitStatus, 1)
	go func() {
		_ = st.Cmd.Wait()
		ws, _ := st.Cmd.ProcessState.Sys().(syscall.WaitStatus)
		exited <- ws
	}()

	sv := supervisor.New(supervisor.Config{
		Boot:        c.Boot,
		NotifyReady: d.NotifyReady,
		Init:        supervisor.StageInit(st),
		Host:        hostManager{},
		Messages:    relay.Messages(),
		Signals:     sigs,
		Exited:      exited,
		StartIdle: func(poweroff func(quit <-chan struct{})) supervisor.IdleWatcher {
			if w := idle.start(d.Machine, pid, c.Quiet, poweroff); w != nil {
				return w
			}
			return nil // not a nil *idlewatch.Watcher in the interface
		},
		Resize:  func() { con.resize(os.Stdin) },
		Release: releaseStartupMemory,
		Trace:   trace,
	})
	// The first stop request is taken on the main thread as it comes,
	// where the signal the init gets at once is sent before the loop
	// hears of it (Supervisor.TakeSignal). Later signals, and any that
	// reach Go's handler first (the main thread was busy), come through
	// sigs.
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
	ctl.Close() // before gone: the machine's lock goes with it
	for _, m := range st.TTYs {
		m.Close()
	}
	unregister()
	gone()
	waiter.Stop()
	<-ran
	if sv.LateStop() { // came after the init's end: still a stop request
		stopped = true
	}
	return status, stopped
}

// hostManager is sockspawn's own service manager, for the supervisor.
type hostManager struct{}

func (hostManager) Notify(state string) { notifyHost(state) }

// register tells systemd-machined about the container, as --register
// asks: by default only when machined is there; with --register=yes a
// failure is an error. registered says whether machined took it.
func register(d decision, c units.Config, leader int) (registered bool, err error) {
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
