// Package idlewatch is the supervisor's idle watcher: it carries out what
// activation.Idle decides, with the sockets' load (activation.IdleProbe),
// the busy hold inside the container, and the payload's freezer
// (payload.Freezer).
package idlewatch

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/sockspawn/sockspawn/activation"
	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

// freezeTimeout bounds how long a freeze may take before it is given up
// (and the payload thawed): a process in uninterruptible sleep delays it.
const freezeTimeout = 10 * time.Second

// Config says what to watch and how to act.
type Config struct {
	Action  activation.IdleAction
	Period  time.Duration
	Sockets []*os.File // the supervisor's copies of the listening sockets
	Cgroup  string     // the payload's cgroup2 directory; "" when it cannot be frozen
	Init    int        // the host pid of the container's init, for /run/host/busy
	// Status is told the idle state for STATUS= when it changes.
	Status func(string)
	// Log is told of freezes, thaws and errors, for the journal.
	Log func(string)
	// Poweroff asks the supervisor for the container's clean shutdown and
	// returns once the signal is sent, or once quit is closed (Stop was
	// called).
	Poweroff func(quit <-chan struct{})
}

// Watcher watches one running container.
type Watcher struct {
	cfg      Config
	probe    *activation.IdleProbe
	arrivals *arrivals
	freezer  *payload.Freezer
	hold     *busyHold
	cmds     chan command
	quit     chan struct{}
	done     chan struct{}
	release  func() // detaches the SYN filters of a poweroff
	// guestFailed: watchGuest failed once, and said so.
	guestFailed bool
	stopOnce    sync.Once

	mu      sync.Mutex
	wakeups int
}

type command int

const (
	cmdFreeze command = iota + 1
	cmdWake
)

// Start starts watching. The container must be up: with a booted init,
// once it has reported READY=1.
func Start(cfg Config) (*Watcher, error) {
	w := &Watcher{cfg: cfg, cmds: make(chan command, 4), quit: make(chan struct{}), done: make(chan struct{}), release: func() {}}
	var err error
	if w.probe, err = activation.NewIdleProbe(cfg.Sockets); err != nil {
		return nil, err
	}
	if cfg.Cgroup != "" {
		if w.freezer, err = payload.OpenFreezer(cfg.Cgroup); err != nil {
			w.probe.Close()
			return nil, err
		}
	}
	if w.arrivals, err = newArrivals(cfg.Sockets); err != nil {
		w.probe.Close()
		w.freezer.Close()
		return nil, err
	}
	if cfg.Init > 0 {
		// A container without it (not built by this sockspawn) just has
		// no busy hold.
		w.hold, _ = openBusyHold(cfg.Init)
	}
	go w.run()
	return w, nil
}

// FreezeNow asks for a freeze at once (an operator's request).
func (w *Watcher) FreezeNow() { w.send(cmdFreeze) }

// WakeNow asks for a thaw at once (an operator's request).
func (w *Watcher) WakeNow() { w.send(cmdWake) }

func (w *Watcher) send(c command) {
	if w == nil {
		return
	}
	select {
	case w.cmds <- c:
	default:
	}
}

// Wakeups counts the thaws after a freeze so far.
func (w *Watcher) Wakeups() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.wakeups
}

// Stop ends the watch and returns once the payload is thawed (if it was
// frozen) and every socket is as it was. Safe to call more than once,
// and on a nil Watcher.
func (w *Watcher) Stop() {
	if w == nil {
		return
	}
	w.stopOnce.Do(func() {
		close(w.quit)
		<-w.done
		w.release()
		w.arrivals.close()
		w.probe.Close()
		w.freezer.Close()
		w.hold.close()
	})
}

func (w *Watcher) run() {
	defer close(w.done)
	idle := activation.Idle{Action: w.cfg.Action, Period: w.cfg.Period, Freezer: w.freezer != nil}
	var timer *time.Timer
	var timerC <-chan time.Time
	setDeadline := func(next time.Time) {
		if timer != nil {
			timer.Stop()
			timer, timerC = nil, nil
		}
		if !next.IsZero() {
			timer = time.NewTimer(time.Until(next))
			timerC = timer.C
		}
	}
	defer setDeadline(time.Time{})
	lastPhase := ""
	report := func(now time.Time) {
		st := idle.Status(now)
		phase, _, _ := strings.Cut(st, " ")
		if phase != lastPhase && st != "" {
			lastPhase = phase
			w.cfg.Status(st)
		}
	}
	setDeadline(idle.Start(time.Now()))
	report(time.Now())
	for {
		var step activation.IdleStep
		var next time.Time
		select {
		case <-w.quit:
			if idle.Stop() == activation.StepThaw {
				w.thaw("the container is stopping")
			}
			return
		case <-timerC:
			timer, timerC = nil, nil
			step, next = idle.Deadline(time.Now())
		case <-w.arrivals.C:
			step, next = idle.Activity(time.Now())
		case c := <-w.cmds:
			switch {
			case c == cmdFreeze && w.freezer != nil && w.busy():
				// Not even briefly: `sockspawn freeze` watches for it.
				w.cfg.Log("not frozen on request: busy")
				step, next = idle.Activity(time.Now())
			case c == cmdFreeze:
				step, next = idle.FreezeNow(time.Now())
			default:
				step, next = idle.Wake(time.Now())
			}
		}
		for step != activation.StepNothing {
			step, next = w.do(&idle, step, next)
		}
		setDeadline(next)
		report(time.Now())
		w.mu.Lock()
		w.wakeups = idle.Wakeups()
		w.mu.Unlock()
	}
}

// do carries out one step and returns the next.
func (w *Watcher) do(idle *activation.Idle, step activation.IdleStep, next time.Time) (activation.IdleStep, time.Time) {
	switch step {
	case activation.StepSample:
		return idle.Sampled(time.Now(), w.busy())
	case activation.StepFreeze:
		if err := w.freezer.Freeze(freezeTimeout); err != nil {
			w.cfg.Log(err.Error())
			_, n := idle.Frozen(time.Now(), true) // thawed already: carry on awake
			return activation.StepNothing, n
		}
		// Before a poweroff, new connections are held off before the
		// check, not after: one that came in between would be drained.
		held := false
		if w.cfg.Action == activation.IdlePoweroff {
			w.release, held = holdSYNs(w.arrivals.fds), true
		}
		busy := w.busy()
		s, n := idle.Frozen(time.Now(), busy)
		if held && s != activation.StepPoweroff {
			w.release()
			w.release = func() {}
		}
		switch {
		case s == activation.StepThaw:
			w.thaw("a connection came in while it froze")
			return activation.StepNothing, n
		case s == activation.StepNothing:
			if err := w.arrivals.watchGuest(w.cfg.Init); err != nil && !w.guestFailed {
				w.guestFailed = true
				w.cfg.Log("the container's own sockets (for systemctl -M, machinectl shell) cannot wake it while frozen: " + err.Error())
			}
			w.cfg.Log(fmt.Sprintf("frozen after %s idle", units.FormatTimespan(w.cfg.Period)))
		}
		return s, n
	case activation.StepThaw:
		w.thaw("a connection is pending")
		return activation.StepNothing, next
	case activation.StepPoweroff:
		w.cfg.Log(fmt.Sprintf("powering off after %s idle", units.FormatTimespan(w.cfg.Period)))
		if w.freezer == nil {
			w.release = holdSYNs(w.arrivals.fds)
		}
		w.cfg.Poweroff(w.quit)
		if w.freezer != nil {
			_ = w.freezer.Thaw() // the signal is the first thing the init sees
		}
		return activation.StepNothing, time.Time{}
	}
	return activation.StepNothing, next
}

func (w *Watcher) thaw(why string) {
	w.arrivals.dropGuest()
	if err := w.freezer.Thaw(); err != nil {
		w.cfg.Log(err.Error())
		return
	}
	w.cfg.Log("thawed: " + why)
}

// busy arms the arrival wake-ups, then reads the load: an arrival after
// the arming is told by arrivals, one before it is in the load.
func (w *Watcher) busy() bool {
	if err := w.arrivals.arm(); err != nil {
		w.cfg.Log(err.Error())
		return true
	}
	loads, err := w.probe.Sample()
	if err != nil {
		w.cfg.Log(err.Error())
		return true // unknown: not idle
	}
	for _, l := range loads {
		if l.Busy() {
			return true
		}
	}
	return w.hold.held()
}
