package supervisor

import (
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sockspawn/sockspawn/activation"
)

// hang is how long a test waits for something the loop must do before it
// calls the loop stuck: a guard against a hang, not a measure of speed.
const hang = time.Minute

// fakeClock is a clock that moves only when the test says so. created
// gets the duration of every timer and ticker made, so that a test knows
// the loop has armed one before it moves the clock.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	created chan time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Unix(1_700_000_000, 0), created: make(chan time.Duration, 64)}
}

type fakeTimer struct {
	clock   *fakeClock
	at      time.Time
	period  time.Duration // 0 for a timer
	c       chan time.Time
	stopped bool
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer  { return c.add(d, 0) }
func (c *fakeClock) NewTicker(d time.Duration) Timer { return c.add(d, d) }

func (c *fakeClock) add(d, period time.Duration) Timer {
	c.mu.Lock()
	t := &fakeTimer{clock: c, at: c.now.Add(d), period: period, c: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	c.created <- d
	return t
}

// advance moves the clock by d and fires what is due.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for _, t := range c.timers {
		if t.stopped || t.at.After(c.now) {
			continue
		}
		select {
		case t.c <- c.now:
		default:
		}
		if t.period == 0 {
			t.stopped = true
			continue
		}
		for !t.at.After(c.now) {
			t.at = t.at.Add(t.period)
		}
	}
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	t.stopped = true
	select { // nothing is delivered after Stop, as with time.Timer
	case <-t.c:
	default:
	}
}

// fakeInit records the signals the loop sends.
type fakeInit struct {
	sigs    chan syscall.Signal
	halt    atomic.Bool // takes SIGRTMIN+3
	systemd bool
	// onSignal, if set, runs inside Signal before the signal is recorded:
	// what the init does the moment it gets it.
	onSignal func(sig syscall.Signal)
}

func (i *fakeInit) Signal(sig syscall.Signal) error {
	if i.onSignal != nil {
		i.onSignal(sig)
	}
	i.sigs <- sig
	return nil
}
func (i *fakeInit) HaltHandled() bool { return i.halt.Load() }
func (i *fakeInit) IsSystemd() bool   { return i.systemd }

// fakeHost records what the host's manager is told.
type fakeHost struct{ states chan string }

func (h *fakeHost) Notify(state string) { h.states <- state }

// fakeWatcher stands for the idle watcher; poweroff is the loop's.
type fakeWatcher struct {
	poweroff       func(quit <-chan struct{})
	quit           chan struct{}
	stopOnce       sync.Once
	freeze, wake   atomic.Int32
	stoppedWatcher atomic.Bool
}

func (w *fakeWatcher) Stop() {
	w.stopOnce.Do(func() { close(w.quit) })
	w.stoppedWatcher.Store(true)
}
func (w *fakeWatcher) FreezeNow() { w.freeze.Add(1) }
func (w *fakeWatcher) WakeNow()   { w.wake.Add(1) }

// harness runs one Supervisor against fakes.
type harness struct {
	t       *testing.T
	clock   *fakeClock
	init    *fakeInit
	host    *fakeHost
	msgs    chan activation.Message
	sigs    chan os.Signal
	exited  chan syscall.WaitStatus
	sv      *Supervisor
	watcher chan *fakeWatcher // each watcher StartIdle made
	resized atomic.Int32
	release atomic.Int32
	traceMu sync.Mutex
	traces  []string
	done    chan result
}

type result struct {
	status  int
	stopped bool
}

type setup struct {
	boot, notifyReady, systemd, idle bool
}

func start(t *testing.T, s setup) *harness {
	t.Helper()
	h := &harness{
		t:       t,
		clock:   newFakeClock(),
		init:    &fakeInit{sigs: make(chan syscall.Signal, 16), systemd: s.systemd},
		host:    &fakeHost{states: make(chan string, 16)},
		msgs:    make(chan activation.Message),
		sigs:    make(chan os.Signal),
		exited:  make(chan syscall.WaitStatus),
		watcher: make(chan *fakeWatcher, 4),
		done:    make(chan result, 1),
	}
	c := Config{
		Boot: s.boot, NotifyReady: s.notifyReady,
		Init: h.init, Host: h.host, Messages: h.msgs, Signals: h.sigs, Exited: h.exited,
		Clock:   h.clock,
		Resize:  func() { h.resized.Add(1) },
		Release: func() { h.release.Add(1) },
		Trace: func(step string) {
			h.traceMu.Lock()
			defer h.traceMu.Unlock()
			h.traces = append(h.traces, step)
		},
	}
	if s.idle {
		c.StartIdle = func(poweroff func(quit <-chan struct{})) IdleWatcher {
			w := &fakeWatcher{poweroff: poweroff, quit: make(chan struct{})}
			h.watcher <- w
			return w
		}
	}
	h.sv = New(c)
	go func() {
		status, stopped := h.sv.Run()
		h.done <- result{status, stopped}
	}()
	h.wantTimer(ReleaseAfter) // the loop runs
	return h
}

// wantTimer waits for the loop to make a timer or ticker of d.
func (h *harness) wantTimer(d time.Duration) {
	h.t.Helper()
	select {
	case got := <-h.clock.created:
		if got != d {
			h.t.Fatalf("the loop made a timer of %v, want %v", got, d)
		}
	case <-time.After(hang):
		h.t.Fatalf("the loop made no timer of %v", d)
	}
}

func (h *harness) wantSignal(want syscall.Signal) {
	h.t.Helper()
	if got := h.nextSignal(); got != want {
		h.t.Fatalf("the init got signal %d, want %d", got, want)
	}
}

// nextSignal waits for the next signal the init gets.
func (h *harness) nextSignal() syscall.Signal {
	h.t.Helper()
	select {
	case got := <-h.init.sigs:
		return got
	case <-time.After(hang):
		h.t.Fatalf("the init got no signal")
	}
	return 0
}

// noSignal checks that the init got no signal so far; only meaningful
// after a sync point (wantNotify, wantTimer).
func (h *harness) noSignal() {
	h.t.Helper()
	select {
	case got := <-h.init.sigs:
		h.t.Fatalf("the init got signal %d, want none", got)
	default:
	}
}

func (h *harness) wantNotify(want string) {
	h.t.Helper()
	select {
	case got := <-h.host.states:
		if got != want {
			h.t.Fatalf("the host was told %q, want %q", got, want)
		}
	case <-time.After(hang):
		h.t.Fatalf("the host was never told %q", want)
	}
}

func (h *harness) noNotify() {
	h.t.Helper()
	select {
	case got := <-h.host.states:
		h.t.Fatalf("the host was told %q, want nothing", got)
	default:
	}
}

func (h *harness) send(m activation.Message) {
	h.t.Helper()
	select {
	case h.msgs <- m:
	case <-time.After(hang):
		h.t.Fatalf("the loop took no notify message")
	}
}

func (h *harness) signal(sig os.Signal) {
	h.t.Helper()
	select {
	case h.sigs <- sig:
	case <-time.After(hang):
		h.t.Fatalf("the loop took no signal")
	}
}

// exit ends the init with ws and returns what the loop returned.
func (h *harness) exit(ws syscall.WaitStatus) result {
	h.t.Helper()
	select {
	case h.exited <- ws:
	case <-time.After(hang):
		h.t.Fatalf("the loop did not wait for the init")
	}
	select {
	case r := <-h.done:
		return r
	case <-time.After(hang):
		h.t.Fatalf("the loop did not return after the init's end")
	}
	return result{}
}

// waitArmed waits until the loop has armed a for the waiter.
func (h *harness) waitArmed(a activation.Action) {
	h.t.Helper()
	h.waitFor("armed "+a.String(), func() bool { return activation.Action(h.sv.armed.Load()) == a })
}

// waitFor waits until cond holds, for what has no event of its own.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(hang)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("never came: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (h *harness) traced(step string) bool {
	h.traceMu.Lock()
	defer h.traceMu.Unlock()
	for _, s := range h.traces {
		if s == step {
			return true
		}
	}
	return false
}

// Wait statuses as wait(2) reports them.
func exitedWith(code int) syscall.WaitStatus         { return syscall.WaitStatus(code << 8) }
func killedBy(sig syscall.Signal) syscall.WaitStatus { return syscall.WaitStatus(sig) }
