package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sockspawn/sockspawn/activation"
	"github.com/sockspawn/sockspawn/cmd/sockspawn/idlewatch"
	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

// supervise is the supervisor's event loop once the stage runs: relay
// notify messages to the host, turn termination signals into a clean
// shutdown, hold the console, and return the container's exit status.
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
	waited := make(chan error, 1)
	go func() { waited <- st.Cmd.Wait() }()

	sd := activation.Shutdown{Boot: c.Boot}
	// The first stop request is taken on the main thread as it comes,
	// where the signal the init gets at once (Shutdown.Immediate) is sent
	// before the loop below hears of it; the loop keeps armed up to date,
	// and only the waiter takes it away. Later signals, and any that reach
	// Go's handler first (the main thread was busy), come through sigs.
	var armed atomic.Int32
	early := make(chan earlyStop, 1) // the waiter takes one signal at most
	// While a booted container starts up (until its READY=1) and while
	// any container stops, its manager's moves of the processes it starts
	// into cgroups stay off RCU grace periods (payload.MigrationWarmer).
	// SOCKSPAWN_CGROUP_WARMER=0 turns that off.
	var warmer *payload.MigrationWarmer
	if os.Getenv("SOCKSPAWN_CGROUP_WARMER") != "0" {
		warmer = payload.NewMigrationWarmer(payload.WarmInterval, payload.WarmLimit)
	}
	defer warmer.Close()
	waiter := activation.NewSignalWaiter(syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	ran := make(chan struct{})
	runWaiter := func() {
		defer close(ran)
		_ = waiter.Run(func(sig syscall.Signal) {
			a := activation.Action(armed.Swap(int32(activation.None)))
			// The request is queued before the signal goes out: the init
			// may exit at once, and the loop must still count it as
			// stopped.
			early <- earlyStop{sig: sig, sent: a}
			if a != activation.None {
				warmer.StartStop()
				_ = st.Signal(a.Signal())
			}
		}) // on another thread than the main one, sigs alone carry requests
	}
	if !activation.OnMainThread(runWaiter) {
		go runWaiter()
	}
	status, stopped = superviseLoop(st, d, c, &sd, &armed, early, sigs, waited, con, relay, warmer, idle)
	warmer.Close() // before gone moves the supervisor out of its cgroup
	ctl.Close()    // before gone: the machine's lock goes with it
	for _, m := range st.TTYs {
		m.Close()
	}
	unregister()
	gone()
	waiter.Stop()
	<-ran
	select {
	case <-early: // came after the init's end: still a stop request
		stopped = true
	default:
	}
	return status, stopped
}

// releaseAfter is how long after the start the supervisor gives back its
// start-up memory when the container has not reported READY=1 by then.
const releaseAfter = 10 * time.Second

// earlyStop is a stop request the signal waiter took, with what it sent
// the container's init already.
type earlyStop struct {
	sig  syscall.Signal
	sent activation.Action
}

// superviseLoop is supervise's event loop: notify messages, stop requests,
// the deadlines of a stop, and the end of the container's init.
func superviseLoop(st *payload.Stage, d decision, c units.Config, sd *activation.Shutdown, armed *atomic.Int32,
	early <-chan earlyStop, sigs <-chan os.Signal, waited <-chan error, con *consoleRelay, relay *activation.Relay,
	warmer *payload.MigrationWarmer, idle idleSetup) (status int, stopped bool) {
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
		if sig := a.Signal(); sig != 0 {
			_ = st.Signal(sig)
			trace(a.String() + " sent to the container's init")
		}
	}
	// lastArmed is what the loop last put in armed: when armed no longer
	// holds it, the waiter took it, and its earlyStop is on the way.
	lastArmed := int32(activation.None)
	rearm := func() {
		if next := int32(sd.Immediate()); armed.CompareAndSwap(lastArmed, next) {
			lastArmed = next
		}
	}
	// The warmer runs while a booted container starts, and from the stop
	// on (started by the waiter before its signal, a stop request, or the
	// container's STOPPING=1, whichever comes first).
	if c.Boot {
		warmer.StartBoot()
	}
	// The idle watcher starts once the container is up, and asks for its
	// poweroff on idleOff; it is stopped (the payload thawed) before any
	// stop, and before the loop returns.
	var watcher *idlewatch.Watcher
	defer func() { watcher.Stop() }()
	idleOff := make(chan chan struct{})
	idleStarted := false
	startIdle := func() {
		if idleStarted || stopped {
			return
		}
		idleStarted = true
		watcher = idle.start(d.Machine, st.Cmd.Process.Pid, c.Quiet, func(quit <-chan struct{}) {
			req := make(chan struct{})
			select {
			case idleOff <- req:
				select {
				case <-req:
				case <-quit:
				}
			case <-quit:
			}
		})
	}
	if !c.Boot {
		startIdle()
	}
	stop := func(sent activation.Action) {
		watcher.Stop()
		stopped = true
		if sent != activation.None {
			trace("asked to stop; " + sent.String() + " sent from the main thread")
			lastArmed = int32(activation.None) // the waiter emptied armed
		} else {
			trace("asked to stop")
			if armed.CompareAndSwap(lastArmed, int32(activation.None)) {
				lastArmed = int32(activation.None)
			}
		}
		a, deadline := sd.Request(time.Now())
		if a == sent {
			a = activation.None // sent by the waiter; only the deadline is new
		}
		// The container first, the host manager after: telling it
		// costs a socket round trip the shutdown need not wait for.
		act(a, deadline)
		trace("stop request handled")
		notifyHost("STOPPING=1")
		warmer.StartStop()
	}
	// What starting and booting the container needed is given back once
	// the container is up (releaseStartupMemory): after the READY=1 the
	// host is told of, so that what the boot touched is dropped too, or
	// after a while if that never comes.
	released := false
	releaseLater := time.NewTimer(releaseAfter)
	defer releaseLater.Stop()
	release := func() {
		if !released {
			released = true
			releaseLater.Stop() // no wake-up for it later
			releaseStartupMemory()
		}
	}
	if !d.NotifyReady {
		release() // the host was told READY=1 at the start
	}
	readySeen := false
	msgs := relay.Messages()
	watch := haltWatch{pid: st.Cmd.Process.Pid}
	defer watch.stop()
	for {
		if watch.check(sd) {
			trace("the init takes SIGRTMIN+3 (its signal masks say so)")
			act(sd.Level2(time.Now()))
		}
		rearm()
		if readySeen {
			release()
		}
		select {
		case <-releaseLater.C:
			release()
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
				warmer.EndBoot()
				startIdle()
			}
			if m.Stopping {
				warmer.StartStop()
			}
			if m.Ready && !d.NotifyReady {
				m.Ready = false // already told the host
			}
			if fwd := activation.ForwardState(m, readySeen); fwd != "" {
				notifyHost(fwd)
			}
			readySeen = readySeen || m.Ready
		case e := <-early:
			trace(unix.SignalName(e.sig) + " taken on the main thread")
			stop(e.sent)
		case sig := <-sigs:
			if sigWinch(sig) {
				con.resize(os.Stdin)
				continue
			}
			switch sig {
			case freezeSignal:
				watcher.FreezeNow()
				continue
			case thawSignal:
				watcher.WakeNow()
				continue
			}
			stop(activation.None)
		case <-watch.C: // checked at the top of the loop
		case <-timerC:
			timer, timerC = nil, nil
			// A held stop's fallback is SIGTERM, which systemd takes as
			// "re-execute": never for a systemd init.
			sd.Systemd = sd.Systemd || activation.IsSystemd(st.Cmd.Process.Pid)
			act(sd.Deadline(time.Now()))
		case req := <-idleOff:
			// Idle poweroff: a clean stop, but not a stop request: with
			// --listen the sockets are re-armed afterwards.
			trace("idle: powering off")
			act(sd.Request(time.Now()))
			close(req)
			notifyHost("STOPPING=1")
			warmer.StartStop()
		case <-waited:
			select {
			case e := <-early: // a stop the init obeyed before the loop saw it
				stop(e.sent)
			default:
			}
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
