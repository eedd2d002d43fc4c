package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sockspawn/sockspawn/activation"
	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

// supervise is the supervisor's event loop once the stage runs: relay
// notify messages to the host, turn termination signals into a clean
// shutdown, hold the console, and return the container's exit status.
func supervise(st *payload.Stage, d decision, c units.Config, sigs <-chan os.Signal) (status int, stopped bool) {
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
	if registered {
		defer func() { _ = activation.UnregisterMachine(d.Machine) }()
		if d.Tunnel != "" {
			unlink, err := activation.LinkPropagation(d.Machine, d.Tunnel)
			if err != nil && !c.Quiet {
				fmt.Fprintf(os.Stderr, "sockspawn: %v\n", err)
			}
			defer unlink()
		}
	}
	notifyHost(fmt.Sprintf("X_SOCKSPAWN_LEADER_PID=%d", pid))
	if !d.NotifyReady {
		notifyHost("READY=1\nSTATUS=Container running.")
	}
	waited := make(chan error, 1)
	go func() { waited <- st.Cmd.Wait() }()
	releaseStartupMemory()

	sd := activation.Shutdown{Boot: c.Boot}
	var timer *time.Timer
	var timerC <-chan time.Time
	act := func(a activation.Action, deadline time.Time) {
		if timer != nil {
			timer.Stop()
			timer, timerC = nil, nil
		}
		if !deadline.IsZero() {
			timer = time.NewTimer(time.Until(deadline))
			timerC = timer.C
		}
		switch a {
		case activation.SendRTMin3:
			_ = st.Signal(sigRTMin3)
		case activation.SendTerm:
			_ = st.Signal(syscall.SIGTERM)
		case activation.SendKill:
			kill()
		}
	}
	readySeen := false
	msgs := relay.Messages()
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				msgs = nil
				continue
			}
			// systemd announces X_SYSTEMD_SIGNALS_LEVEL=2 since v254; older
			// ones install their SIGRTMIN+3 handler long before READY=1,
			// so from an init READY=1 counts as the same announcement.
			if m.SignalsLevel2 || (c.Boot && m.Ready) {
				act(sd.Level2(time.Now()))
			}
			if m.Ready {
				trace("READY=1 from the container")
			}
			if m.Ready && !d.NotifyReady {
				m.Ready = false // already told the host
			}
			if fwd := activation.ForwardState(m, readySeen); fwd != "" {
				notifyHost(fwd)
			}
			readySeen = readySeen || m.Ready
		case sig := <-sigs:
			if sigWinch(sig) {
				con.resize(os.Stdin)
				continue
			}
			stopped = true
			trace("asked to stop")
			// The container first, the host manager after: telling it
			// costs a socket round trip the shutdown need not wait for.
			act(sd.Request(time.Now()))
			trace("stop signal sent to the container's init")
			notifyHost("STOPPING=1")
		case <-timerC:
			timer, timerC = nil, nil
			act(sd.Deadline(time.Now()))
		case <-waited:
			trace("the container's init exited")
			if timer != nil {
				timer.Stop()
			}
			ws, _ := st.Cmd.ProcessState.Sys().(syscall.WaitStatus)
			return activation.ExitStatus(ws), stopped
		}
	}
}

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

// sigRTMin3 is SIGRTMIN+3 as systemd counts (glibc's SIGRTMIN is 34).
const sigRTMin3 = syscall.Signal(37)

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
