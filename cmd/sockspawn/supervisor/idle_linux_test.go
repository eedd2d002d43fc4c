package supervisor

import (
	"syscall"
	"testing"
	"time"
)

func (h *harness) wantWatcher() *fakeWatcher {
	h.t.Helper()
	select {
	case w := <-h.watcher:
		return w
	case <-time.After(hang):
		h.t.Fatal("no idle watcher started")
	}
	return nil
}

func (h *harness) noWatcher() {
	h.t.Helper()
	select {
	case <-h.watcher:
		h.t.Fatal("an idle watcher started, want none")
	default:
	}
}

// TestIdlePoweroff: the idle watcher's poweroff is a clean stop, but not
// a stop request (with --listen the machine boots again).
func TestIdlePoweroff(t *testing.T) {
	h := start(t, setup{idle: true})
	w := h.wantWatcher() // a plain payload is watched from the start
	off := make(chan struct{})
	go func() {
		w.poweroff(w.quit)
		close(off)
	}()
	h.wantSignal(syscall.SIGTERM)
	h.wantTimer(5 * time.Second)
	h.wantNotify("STOPPING=1")
	<-off
	if !h.traced("idle: powering off") {
		t.Errorf("traces %q", h.traces)
	}
	if got := h.exit(killedBy(syscall.SIGTERM)); got != (result{143, false}) {
		t.Errorf("Run() = %+v, want 143, not stopped", got)
	}
	if !w.stoppedWatcher.Load() {
		t.Error("the watcher runs on after the loop returned")
	}
}

// TestIdleBoot: a booted container is watched once it is up; operators'
// freeze and thaw go to the watcher; a stop request ends the watch, and a
// poweroff asked for after it goes nowhere.
func TestIdleBoot(t *testing.T) {
	h := start(t, setup{boot: true, idle: true})
	h.signal(FreezeSignal) // not watched yet: nothing to freeze
	h.noWatcher()
	h.send(ready)
	w := h.wantWatcher()
	h.signal(FreezeSignal)
	h.signal(ThawSignal)
	h.signal(ThawSignal)
	h.signal(syscall.SIGWINCH) // a sync point
	if f, k := w.freeze.Load(), w.wake.Load(); f != 1 || k != 2 {
		t.Errorf("the watcher was asked %d freezes and %d thaws, want 1 and 2", f, k)
	}
	h.signal(syscall.SIGTERM)
	h.wantSignal(37)
	h.wantTimer(60 * time.Second)
	h.wantNotify("STOPPING=1")
	if !w.stoppedWatcher.Load() {
		t.Error("the watcher runs on after a stop request")
	}
	w.poweroff(w.quit) // returns: the watch is over
	h.send(ready)      // no second watcher
	h.noWatcher()
	if got := h.exit(exitedWith(0)); got != (result{0, true}) {
		t.Errorf("Run() = %+v, want 0, stopped", got)
	}
}

// TestIdleNotAfterStop: a stop requested before the container is up
// means no watch at all.
func TestIdleNotAfterStop(t *testing.T) {
	h := start(t, setup{boot: true, idle: true})
	h.signal(syscall.SIGTERM)
	h.wantTimer(10 * time.Second)
	h.wantNotify("STOPPING=1")
	h.send(ready)
	h.wantSignal(37)
	h.noWatcher()
	h.exit(exitedWith(0))
}
