package supervisor

import (
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sockspawn/sockspawn/activation"
)

// Run is the event loop: notify messages, stop requests, the deadlines of
// a stop, and the end of the container's init, whose exit status it
// returns. stopped says a stop request came (not an idle poweroff, and
// not the init's own end).
func (s *Supervisor) Run() (status int, stopped bool) {
	c, sd, armed := &s.c, &s.sd, &s.armed
	var timer Timer
	var timerC <-chan time.Time
	act := func(a activation.Action, deadline time.Time) {
		if timer != nil {
			timer.Stop()
			timer, timerC = nil, nil
		}
		if !deadline.IsZero() {
			timer = c.Clock.NewTimer(deadline.Sub(c.Clock.Now()))
			timerC = timer.C()
		}
		if sig := a.Signal(); sig != 0 {
			_ = c.Init.Signal(sig)
			c.Trace(a.String() + " sent to the container's init")
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
	// The idle watcher starts once the container is up, and asks for its
	// poweroff on idleOff; it is stopped (the payload thawed) before any
	// stop, and before the loop returns.
	var watcher IdleWatcher
	stopWatcher := func() {
		if watcher != nil {
			watcher.Stop()
		}
	}
	defer stopWatcher()
	idleOff := make(chan chan struct{})
	idleStarted := false
	startIdle := func() {
		if idleStarted || stopped || c.StartIdle == nil {
			return
		}
		idleStarted = true
		watcher = c.StartIdle(func(quit <-chan struct{}) {
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
		stopWatcher()
		stopped = true
		if sent != activation.None {
			c.Trace("asked to stop; " + sent.String() + " sent from the main thread")
			lastArmed = int32(activation.None) // the waiter emptied armed
		} else {
			c.Trace("asked to stop")
			if armed.CompareAndSwap(lastArmed, int32(activation.None)) {
				lastArmed = int32(activation.None)
			}
		}
		a, deadline := sd.Request(c.Clock.Now())
		if a == sent {
			a = activation.None // sent by the waiter; only the deadline is new
		}
		// The container first, the host manager after: telling it
		// costs a socket round trip the shutdown need not wait for.
		act(a, deadline)
		c.Trace("stop request handled")
		c.Host.Notify("STOPPING=1")
	}
	// What starting and booting the container needed is given back once
	// the container is up: after its READY=1 (and after the READY=1 the
	// host is told of, so that what forwarding it touched is dropped
	// too). Before that: at the start when the host was told READY=1
	// then, or after ReleaseAfter if the container has not sent READY=1
	// by then, and once more at its READY=1, since on a crowded host a
	// boot outlasts ReleaseAfter and touches pages and heap again.
	upSeen, releasedUp := false, false
	releaseLater := c.Clock.NewTimer(ReleaseAfter)
	defer releaseLater.Stop()
	if !c.NotifyReady {
		releaseLater.Stop() // the host was told READY=1 at the start
		c.Release()
	}
	readySeen, earlySeen := false, false
	msgs := c.Messages
	watch := haltWatch{init: c.Init, clock: c.Clock}
	defer watch.stop()
	for {
		if watch.check(sd) {
			c.Trace("the init takes SIGRTMIN+3 (its signal masks say so)")
			act(sd.Level2(c.Clock.Now()))
		}
		rearm()
		if upSeen && !releasedUp {
			releasedUp = true
			releaseLater.Stop() // no wake-up for it later
			c.Release()
		}
		select {
		case <-releaseLater.C():
			c.Release()
		case m, ok := <-msgs:
			if !ok {
				msgs = nil
				continue
			}
			// systemd announces X_SYSTEMD_SIGNALS_LEVEL=2 since v254; older
			// ones install their SIGRTMIN+3 handler long before READY=1,
			// so from an init READY=1 counts as the same announcement.
			if m.SignalsLevel2 || (c.Boot && m.Ready) {
				act(sd.Level2(c.Clock.Now()))
			}
			if m.Ready {
				upSeen = true
				c.Trace("READY=1 from the container")
				startIdle()
			}
			if m.Ready && !c.NotifyReady {
				m.Ready = false // already told the host
			}
			if fwd := activation.ForwardState(m, readySeen); fwd != "" {
				c.Host.Notify(fwd)
			}
			readySeen = readySeen || m.Ready
		case e := <-s.early:
			earlySeen = true
			c.Trace(unix.SignalName(e.sig) + " taken on the main thread")
			stop(e.sent)
		case sig := <-c.Signals:
			switch sig {
			case syscall.SIGWINCH:
				c.Resize()
				continue
			case FreezeSignal:
				if watcher != nil {
					watcher.FreezeNow()
				}
				continue
			case ThawSignal:
				if watcher != nil {
					watcher.WakeNow()
				}
				continue
			}
			stop(activation.None)
		case <-watch.C: // checked at the top of the loop
		case <-timerC:
			timer, timerC = nil, nil
			// A held stop's fallback is SIGTERM, which systemd takes as
			// "re-execute": never for a systemd init.
			sd.Systemd = sd.Systemd || c.Init.IsSystemd()
			act(sd.Deadline(c.Clock.Now()))
		case req := <-idleOff:
			// Idle poweroff: a clean stop, but not a stop request: with
			// --listen the sockets are re-armed afterwards.
			c.Trace("idle: powering off")
			act(sd.Request(c.Clock.Now()))
			close(req)
			c.Host.Notify("STOPPING=1")
		case ws := <-c.Exited:
			if !earlySeen && s.taken.Load() {
				// A stop the init obeyed before the loop saw it; the
				// waiter is queueing it.
				e := <-s.early
				earlySeen = true
				stop(e.sent)
			}
			c.Trace("the container's init exited")
			if timer != nil {
				timer.Stop()
			}
			return activation.ExitStatus(ws), stopped
		}
	}
}
