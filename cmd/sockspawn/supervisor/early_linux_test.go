package supervisor

import (
	"syscall"
	"testing"
	"time"

	"github.com/sockspawn/sockspawn/activation"
	"github.com/sockspawn/sockspawn/internal/systemd"
)

// TestEarlySignal covers the first stop request taken by the signal
// waiter on the main thread (TakeSignal): the signal the init can take
// goes out from there, once, and the loop adds only the deadline.
func TestEarlySignal(t *testing.T) {
	tests := []struct {
		name      string
		setup     setup
		ready     bool              // the init announced signals level 2 first
		armed     activation.Action // what the loop arms for the waiter
		sent      string            // the trace of the request
		killAfter time.Duration
	}{
		{
			name:      "a plain payload gets SIGTERM from the main thread",
			armed:     activation.SendTerm,
			sent:      "asked to stop; SIGTERM sent from the main thread",
			killAfter: activation.DefaultKillAfter,
		},
		{
			name:      "an init at signals level 2 gets SIGRTMIN+3 from the main thread",
			setup:     setup{boot: true},
			ready:     true,
			armed:     activation.SendRTMin3,
			sent:      "asked to stop; SIGRTMIN+3 sent from the main thread",
			killAfter: activation.DefaultBootKillAfter,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, tt.setup)
			if tt.ready {
				h.send(level2)
			}
			h.waitArmed(tt.armed)
			h.sv.TakeSignal(syscall.SIGTERM)
			h.wantSignal(tt.armed.Signal()) // sent by TakeSignal itself
			h.wantTimer(tt.killAfter)
			h.wantNotify("STOPPING=1")
			h.noSignal() // not sent twice
			if !h.traced(tt.sent) {
				t.Errorf("no trace %q", tt.sent)
			}
			if a := activation.Action(h.sv.armed.Load()); a != activation.None {
				t.Errorf("armed after the stop: %v, want none", a)
			}
			h.clock.advance(tt.killAfter)
			h.wantSignal(syscall.SIGKILL)
			if got := h.exit(killedBy(syscall.SIGKILL)); got != (result{137, true}) {
				t.Errorf("Run() = %+v, want 137, stopped", got)
			}
			if h.sv.LateStop() {
				t.Error("LateStop after a stop the loop saw")
			}
		})
	}
}

// TestEarlySignalHeld: a request the waiter takes before the init can
// take SIGRTMIN+3 sends nothing at once, and is held like any other.
func TestEarlySignalHeld(t *testing.T) {
	h := start(t, setup{boot: true})
	h.sv.TakeSignal(syscall.SIGINT)
	h.wantTimer(activation.DefaultGrace)
	h.wantNotify("STOPPING=1")
	h.noSignal()
	if !h.traced("SIGINT taken on the main thread") || !h.traced("asked to stop") {
		t.Errorf("traces %q", h.traces)
	}
	h.wantTimer(haltPollInterval)
	h.send(level2)
	h.wantSignal(systemd.SigRTMin3)
	if got := h.exit(exitedWith(0)); got != (result{0, true}) {
		t.Errorf("Run() = %+v, want 0, stopped", got)
	}
}

// TestEarlySignalRace sends the first request through the waiter and a
// second through os/signal at the same time, as both paths can: whichever
// comes first, the init gets SIGTERM, and SIGKILL for the second request
// (SIGTERM may go out twice, harmlessly, when the loop hears of the
// second request before the waiter's).
func TestEarlySignalRace(t *testing.T) {
	for i := 0; i < 50; i++ {
		h := start(t, setup{})
		go h.sv.TakeSignal(syscall.SIGTERM)
		h.signal(syscall.SIGTERM)
		h.wantSignal(syscall.SIGTERM)
		if sig := h.nextSignal(); sig == syscall.SIGTERM {
			h.wantSignal(syscall.SIGKILL)
		} else if sig != syscall.SIGKILL {
			t.Fatalf("the init got signal %d, want SIGKILL", sig)
		}
		if got := h.exit(killedBy(syscall.SIGKILL)); got != (result{137, true}) {
			t.Fatalf("Run() = %+v, want 137, stopped", got)
		}
		h.noSignal()
	}
}

// TestEarlySignalBeforeExit: the init may obey the signal the waiter sent
// and be gone before the loop hears of the request; it still counts as a
// stop.
func TestEarlySignalBeforeExit(t *testing.T) {
	for i := 0; i < 50; i++ {
		h := start(t, setup{})
		h.waitArmed(activation.SendTerm)
		h.sv.TakeSignal(syscall.SIGTERM)
		h.wantSignal(syscall.SIGTERM)
		if got := h.exit(killedBy(syscall.SIGTERM)); got != (result{128 + 15, true}) {
			t.Fatalf("Run() = %+v, want 143, stopped", got)
		}
		h.noSignal()
	}
}

// TestEarlySignalExitFirst: the init obeys the waiter's signal and the
// loop sees it exit before the waiter has queued the request. It is still
// a stop, and the host hears STOPPING=1 (CI once saw it lost).
func TestEarlySignalExitFirst(t *testing.T) {
	for i := 0; i < 20; i++ {
		h := start(t, setup{})
		h.waitArmed(activation.SendTerm)
		h.init.onSignal = func(syscall.Signal) {
			h.exited <- exitedWith(0) // the loop has taken the exit
			time.Sleep(time.Millisecond)
		}
		h.sv.TakeSignal(syscall.SIGTERM)
		h.wantSignal(syscall.SIGTERM)
		select {
		case got := <-h.done:
			if got != (result{0, true}) {
				t.Fatalf("Run() = %+v, want 0, stopped", got)
			}
		case <-time.After(hang):
			t.Fatal("the loop did not return after the init's end")
		}
		h.wantNotify("STOPPING=1")
		if h.sv.LateStop() {
			t.Error("LateStop after a stop the loop saw")
		}
	}
}

// TestLateStop: a request the waiter takes after the loop returned is
// still one (with --listen, no boot follows).
func TestLateStop(t *testing.T) {
	h := start(t, setup{})
	if got := h.exit(exitedWith(0)); got.stopped {
		t.Fatalf("Run() = %+v, want not stopped", got)
	}
	if h.sv.LateStop() {
		t.Fatal("LateStop before any request")
	}
	h.sv.TakeSignal(syscall.SIGTERM)
	if !h.sv.LateStop() {
		t.Error("LateStop after a request the loop did not see: false")
	}
}
