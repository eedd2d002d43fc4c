package supervisor

import (
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sockspawn/sockspawn/activation"
)

// Operators freeze and thaw a running machine through its supervisor,
// which does it as its idle watcher would: SIGUSR1 asks for a freeze
// (checked like an idle one: a machine with a connection open is not
// frozen), SIGUSR2 for a thaw.
const (
	FreezeSignal = syscall.SIGUSR1
	ThawSignal   = syscall.SIGUSR2
)

// ReleaseAfter is how long after the start the supervisor gives back its
// start-up memory when the container has not reported READY=1 by then.
const ReleaseAfter = 10 * time.Second

// Init is the container's init as the loop sees it (StageInit is the
// real one).
type Init interface {
	// Signal sends sig to the init.
	Signal(sig syscall.Signal) error
	// HaltHandled reports whether the init takes SIGRTMIN+3 now
	// (activation.HaltHandled); an error counts as no.
	HaltHandled() bool
	// IsSystemd reports whether the init runs systemd
	// (activation.IsSystemd).
	IsSystemd() bool
}

// Host is sockspawn's own service manager, told of the container's state
// in sd_notify's words ("READY=1", "STOPPING=1", "STATUS=...").
type Host interface {
	Notify(state string)
}

// IdleWatcher is what the loop drives of idlewatch.Watcher.
type IdleWatcher interface {
	Stop()
	FreezeNow()
	WakeNow()
}

// Config is what one Supervisor acts on. Init, Host, Messages, Signals and
// Exited are required; the rest may be left zero.
type Config struct {
	// Boot says the payload is an init (-b).
	Boot bool
	// NotifyReady says the container's own READY=1 goes to the host;
	// without it the host was told READY=1 when the payload started.
	NotifyReady bool

	Init Init
	Host Host
	// Messages are the container's notify messages (activation.Relay).
	Messages <-chan activation.Message
	// Signals are the supervisor's signals from os/signal: stop requests
	// (SIGTERM, SIGINT, SIGHUP), SIGWINCH, FreezeSignal and ThawSignal.
	Signals <-chan os.Signal
	// Exited delivers the init's wait status once it is gone.
	Exited <-chan syscall.WaitStatus

	Clock Clock // nil: RealClock
	// StartIdle starts the idle watcher, once the container is up;
	// poweroff is how the watcher asks for the container's clean stop.
	// nil, or a nil result: no watcher.
	StartIdle func(poweroff func(quit <-chan struct{})) IdleWatcher
	// Resize passes the terminal's new size to the console (SIGWINCH).
	Resize func()
	// Release gives back the memory starting the container needed, once
	// it is up (after READY=1, or ReleaseAfter).
	Release func()
	// Trace reports a step, for debug logging.
	Trace func(step string)
}

// Supervisor runs the event loop of one container's init.
type Supervisor struct {
	c  Config
	sd activation.Shutdown
	// armed is the signal the waiter sends the init at once when it takes
	// the first stop request (Shutdown.Immediate); the loop keeps it up
	// to date, and only the waiter takes it away.
	armed atomic.Int32
	early chan earlyStop // the waiter takes one signal at most
	// taken is set by the waiter before it signals the init: an init
	// that exits at once may be seen gone before early is queued.
	taken atomic.Bool
}

// earlyStop is a stop request the signal waiter took, with what it sent
// the container's init already.
type earlyStop struct {
	sig  syscall.Signal
	sent activation.Action
}

// New returns the supervisor of the init c describes. Call Run, and
// TakeSignal from the signal waiter.
func New(c Config) *Supervisor {
	if c.Clock == nil {
		c.Clock = RealClock{}
	}
	if c.Resize == nil {
		c.Resize = func() {}
	}
	if c.Release == nil {
		c.Release = func() {}
	}
	if c.Trace == nil {
		c.Trace = func(string) {}
	}
	return &Supervisor{c: c, sd: activation.Shutdown{Boot: c.Boot}, early: make(chan earlyStop, 1)}
}

// TakeSignal is the signal waiter's (activation.SignalWaiter) handler of
// the first stop request, called on the main thread as the request comes:
// it sends the init the signal Shutdown.Immediate says, if any, before
// the loop hears of the request. Call it once at most, from any goroutine.
func (s *Supervisor) TakeSignal(sig syscall.Signal) {
	s.taken.Store(true)
	a := activation.Action(s.armed.Swap(int32(activation.None)))
	// The signal goes out before the loop hears of the request, so that
	// nothing the loop sends on a second request (SIGKILL) can overtake
	// it. An init that exits at once still counts as stopped: the loop
	// waits for the request when the init exits after taken was set, and
	// the waiter's caller asks LateStop after the loop.
	if a != activation.None {
		_ = s.c.Init.Signal(a.Signal())
	}
	s.early <- earlyStop{sig: sig, sent: a}
}

// LateStop reports whether the waiter took a stop request the loop did
// not see: it came after the init's end, and still counts as one. Call it
// after Run, once the waiter has returned.
func (s *Supervisor) LateStop() bool {
	select {
	case <-s.early:
		return true
	default:
		return false
	}
}
