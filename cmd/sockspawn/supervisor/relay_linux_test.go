package supervisor

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/sockspawn/sockspawn/activation"
	"github.com/sockspawn/sockspawn/payload"
)

func parse(t *testing.T, s string) activation.Message {
	t.Helper()
	m, err := activation.ParseNotify([]byte(s))
	if err != nil {
		t.Fatalf("ParseNotify(%q): %v", s, err)
	}
	return m
}

// TestRelay checks what of the container's notify messages reaches the
// host, in order; "" means nothing does.
func TestRelay(t *testing.T) {
	type step struct{ in, out string }
	tests := []struct {
		name        string
		notifyReady bool
		steps       []step
	}{
		{
			name:        "the container's readiness is the host's",
			notifyReady: true,
			steps: []step{
				{"STATUS=Booting", "STATUS=Booting"},
				{"RELOADING=1", ""}, // before READY=1: no reload to report
				{"READY=1\nSTATUS=Up", "READY=1\nSTATUS=Up"},
				{"RELOADING=1\nMONOTONIC_USEC=1234", "RELOADING=1\nMONOTONIC_USEC=1234"},
				{"READY=1", "READY=1"},
				{"MAINPID=7\nWATCHDOG=1\nX_SYSTEMD_UNIT_ACTIVE=foo.service", ""},
				{"STOPPING=1\nSTATUS=Bye", "STOPPING=1\nSTATUS=Bye"},
			},
		},
		{
			name: "the host was told READY=1 at the start",
			steps: []step{
				{"READY=1", ""},
				{"READY=1\nSTATUS=Up", "STATUS=Up"},
				{"STATUS=", "STATUS="},
				{"ERRNO=5", ""},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, setup{boot: true, notifyReady: tt.notifyReady})
			for _, s := range tt.steps {
				h.send(parse(t, s.in))
				if s.out != "" {
					h.wantNotify(s.out)
				}
			}
			h.send(parse(t, "STATUS=end")) // a sync point: nothing came between
			h.wantNotify("STATUS=end")
			h.noNotify()
			close(h.msgs) // the relay stopped: the loop waits on
			h.signal(syscall.SIGWINCH)
			if got := h.exit(exitedWith(0)); got != (result{0, false}) {
				t.Errorf("Run() = %+v, want 0, not stopped", got)
			}
		})
	}
}

// TestRelease checks when the start-up memory is given back.
func TestRelease(t *testing.T) {
	t.Run("at the start when the host was told READY=1 then", func(t *testing.T) {
		h := start(t, setup{})
		h.signal(syscall.SIGWINCH) // a sync point
		if n := h.release.Load(); n != 1 {
			t.Errorf("released %d times, want 1", n)
		}
		h.exit(exitedWith(0))
	})
	t.Run("after the container's READY=1", func(t *testing.T) {
		h := start(t, setup{boot: true, notifyReady: true})
		h.signal(syscall.SIGWINCH)
		if n := h.release.Load(); n != 0 {
			t.Errorf("released %d times before READY=1, want 0", n)
		}
		h.send(ready)
		h.wantNotify("READY=1")
		h.signal(syscall.SIGWINCH)
		h.clock.advance(ReleaseAfter)
		h.send(ready)
		h.wantNotify("READY=1")
		if n := h.release.Load(); n != 1 {
			t.Errorf("released %d times, want 1", n)
		}
		h.exit(exitedWith(0))
	})
	t.Run("after a while without READY=1", func(t *testing.T) {
		h := start(t, setup{boot: true, notifyReady: true})
		h.signal(syscall.SIGWINCH)
		if n := h.release.Load(); n != 0 {
			t.Errorf("released %d times before the time, want 0", n)
		}
		h.clock.advance(ReleaseAfter)
		h.waitFor("the release", func() bool { return h.release.Load() == 1 })
		// A boot that outlasts ReleaseAfter touched pages again: they go
		// at its READY=1, once.
		h.send(ready)
		h.wantNotify("READY=1")
		h.signal(syscall.SIGWINCH)
		if n := h.release.Load(); n != 2 {
			t.Errorf("released %d times after a late READY=1, want 2", n)
		}
		h.send(ready)
		h.wantNotify("READY=1")
		h.signal(syscall.SIGWINCH)
		if n := h.release.Load(); n != 2 {
			t.Errorf("released %d times after a second READY=1, want 2", n)
		}
		h.exit(exitedWith(0))
	})
	t.Run("at the start and at the READY=1 of a boot the host was told of at the start", func(t *testing.T) {
		h := start(t, setup{boot: true})
		h.signal(syscall.SIGWINCH)
		if n := h.release.Load(); n != 1 {
			t.Errorf("released %d times at the start, want 1", n)
		}
		h.send(ready)
		h.signal(syscall.SIGWINCH)
		if n := h.release.Load(); n != 2 {
			t.Errorf("released %d times after the container's READY=1, want 2", n)
		}
		h.exit(exitedWith(0))
	})
}

// TestConsoleResize checks the console's resizes.
func TestConsoleResize(t *testing.T) {
	h := start(t, setup{boot: true, notifyReady: true})
	h.signal(syscall.SIGWINCH)
	h.signal(syscall.SIGWINCH)
	// The loop takes the next message only once it has handled the
	// second SIGWINCH: a sync point for the count.
	h.send(ready)
	h.wantNotify("READY=1")
	if n := h.resized.Load(); n != 2 {
		t.Errorf("resized %d times, want 2", n)
	}
	h.send(parse(t, "STOPPING=1"))
	h.wantNotify("STOPPING=1")
	h.exit(exitedWith(0))
}

// TestRealDefaults runs the loop with only what Config requires: the real
// clock and no console or idle watcher.
func TestRealDefaults(t *testing.T) {
	init := &fakeInit{sigs: make(chan syscall.Signal, 4)}
	host := &fakeHost{states: make(chan string, 4)}
	sigs := make(chan os.Signal)
	exited := make(chan syscall.WaitStatus)
	sv := New(Config{Init: init, Host: host, Messages: make(chan activation.Message), Signals: sigs, Exited: exited})
	done := make(chan result, 1)
	go func() {
		status, stopped := sv.Run()
		done <- result{status, stopped}
	}()
	sigs <- syscall.SIGWINCH
	sigs <- FreezeSignal // no watcher: nothing to do
	sigs <- syscall.SIGTERM
	if got := <-init.sigs; got != syscall.SIGTERM {
		t.Errorf("the init got %d, want SIGTERM", got)
	}
	if got := <-host.states; got != "STOPPING=1" {
		t.Errorf("the host was told %q, want STOPPING=1", got)
	}
	exited <- killedBy(syscall.SIGTERM)
	if got := <-done; got != (result{143, true}) {
		t.Errorf("Run() = %+v, want 143, stopped", got)
	}
}

func TestRealClock(t *testing.T) {
	var c RealClock
	if d := time.Since(c.Now()); d < 0 || d > time.Hour {
		t.Errorf("Now is %v off", d)
	}
	tm := c.NewTimer(time.Millisecond)
	<-tm.C()
	tm.Stop()
	tk := c.NewTicker(time.Millisecond)
	<-tk.C()
	<-tk.C()
	tk.Stop()
}

// TestStageInit looks at a real process through StageInit: it is not
// systemd, does not take SIGRTMIN+3, and gets the signal sent.
func TestStageInit(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skipf("no sleep to run: %v", err)
	}
	i := StageInit(&payload.Stage{Cmd: cmd, PidFD: -1})
	if i.IsSystemd() {
		t.Error("sleep taken for systemd")
	}
	if i.HaltHandled() {
		t.Error("sleep taken for an init that takes SIGRTMIN+3")
	}
	if err := i.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("Signal: %v", err)
	}
	_ = cmd.Wait()
	if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("sleep ended with %v, want killed by SIGKILL", cmd.ProcessState)
	}
}
