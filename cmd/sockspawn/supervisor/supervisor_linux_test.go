package supervisor

import (
	"syscall"
	"testing"

	"github.com/sockspawn/sockspawn/activation"
	"github.com/sockspawn/sockspawn/internal/systemd"
)

var (
	level2 = activation.Message{SignalsLevel2: true, Fields: []string{"X_SYSTEMD_SIGNALS_LEVEL=2"}}
	ready  = activation.Message{Ready: true, Fields: []string{"READY=1"}}
)

// TestStopPaths drives the loop through each way a stop request goes, and
// checks the signals the init gets, what the host is told and the exit.
func TestStopPaths(t *testing.T) {
	const rtmin3 = systemd.SigRTMin3
	tests := []struct {
		name   string
		setup  setup
		script func(h *harness)
		exit   syscall.WaitStatus
		want   result
	}{
		{
			name:  "a plain payload gets SIGTERM, then SIGKILL",
			setup: setup{},
			script: func(h *harness) {
				h.signal(syscall.SIGTERM)
				h.wantSignal(syscall.SIGTERM)
				h.wantTimer(activation.DefaultKillAfter)
				h.wantNotify("STOPPING=1")
				h.clock.advance(activation.DefaultKillAfter - 1)
				h.signal(syscall.SIGWINCH) // a sync point: the deadline did not pass
				h.noSignal()
				h.clock.advance(1)
				h.wantSignal(syscall.SIGKILL)
			},
			exit: killedBy(syscall.SIGKILL),
			want: result{status: 128 + 9, stopped: true},
		},
		{
			name:  "a second request kills at once",
			setup: setup{},
			script: func(h *harness) {
				h.signal(syscall.SIGINT)
				h.wantSignal(syscall.SIGTERM)
				h.wantNotify("STOPPING=1")
				h.signal(syscall.SIGHUP)
				h.wantSignal(syscall.SIGKILL)
				h.wantNotify("STOPPING=1")
			},
			exit: killedBy(syscall.SIGKILL),
			want: result{status: 137, stopped: true},
		},
		{
			name:  "an init that announced signals level 2 gets SIGRTMIN+3 at once",
			setup: setup{boot: true},
			script: func(h *harness) {
				h.send(level2)
				h.signal(syscall.SIGTERM)
				h.wantSignal(rtmin3)
				h.wantTimer(activation.DefaultBootKillAfter)
				h.wantNotify("STOPPING=1")
			},
			exit: exitedWith(0),
			want: result{status: 0, stopped: true},
		},
		{
			name:  "READY=1 from a booted init counts as signals level 2",
			setup: setup{boot: true, notifyReady: true},
			script: func(h *harness) {
				h.send(ready)
				h.wantNotify("READY=1")
				h.signal(syscall.SIGTERM)
				h.wantSignal(rtmin3)
				h.wantTimer(activation.DefaultBootKillAfter)
				h.wantNotify("STOPPING=1")
			},
			exit: killedBy(syscall.SIGINT), // reboot(2) for poweroff
			want: result{status: 0, stopped: true},
		},
		{
			name:  "a held request goes out once the signal masks show SIGRTMIN+3 taken",
			setup: setup{boot: true},
			script: func(h *harness) {
				h.signal(syscall.SIGTERM)
				h.wantTimer(activation.DefaultGrace)
				h.wantNotify("STOPPING=1")
				h.wantTimer(haltPollInterval) // watching the masks
				h.clock.advance(haltPollInterval)
				h.signal(syscall.SIGWINCH) // a sync point: the tick was looked at
				h.noSignal()
				h.init.halt.Store(true)
				h.clock.advance(haltPollInterval)
				h.wantSignal(rtmin3)
				h.wantTimer(activation.DefaultBootKillAfter)
			},
			exit: exitedWith(0),
			want: result{status: 0, stopped: true},
		},
		{
			name:  "a held request for an init that never says falls back to SIGTERM, then SIGRTMIN+3 when it announces",
			setup: setup{boot: true},
			script: func(h *harness) {
				h.signal(syscall.SIGTERM)
				h.wantTimer(activation.DefaultGrace)
				h.wantNotify("STOPPING=1")
				h.wantTimer(haltPollInterval)
				h.clock.advance(activation.DefaultGrace)
				h.wantSignal(syscall.SIGTERM)
				h.wantTimer(activation.DefaultBootKillAfter)
				h.send(level2)
				h.wantSignal(rtmin3) // it was systemd after all: SIGTERM is its re-exec
				h.wantTimer(activation.DefaultBootKillAfter)
				h.clock.advance(activation.DefaultBootKillAfter)
				h.wantSignal(syscall.SIGKILL)
			},
			exit: killedBy(syscall.SIGKILL),
			want: result{status: 137, stopped: true},
		},
		{
			name:  "a held request for systemd never falls back to SIGTERM, only to SIGKILL",
			setup: setup{boot: true, systemd: true},
			script: func(h *harness) {
				h.signal(syscall.SIGTERM)
				h.wantTimer(activation.DefaultGrace)
				h.wantNotify("STOPPING=1")
				h.wantTimer(haltPollInterval)
				h.clock.advance(activation.DefaultGrace)
				h.wantTimer(activation.DefaultBootKillAfter) // still held
				h.noSignal()
				h.clock.advance(activation.DefaultBootKillAfter)
				h.wantSignal(syscall.SIGKILL)
			},
			exit: killedBy(syscall.SIGKILL),
			want: result{status: 137, stopped: true},
		},
		{
			name:  "a payload that ends by itself was not stopped",
			setup: setup{},
			script: func(h *harness) {
				h.noSignal()
			},
			exit: exitedWith(3),
			want: result{status: 3, stopped: false},
		},
		{
			name:  "an init that asked to reboot ends with 133",
			setup: setup{boot: true},
			script: func(h *harness) {
				h.send(level2)
			},
			exit: killedBy(syscall.SIGHUP),
			want: result{status: activation.ExitReboot, stopped: false},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, tt.setup)
			tt.script(h)
			if got := h.exit(tt.exit); got != tt.want {
				t.Errorf("Run() = %+v, want %+v", got, tt.want)
			}
			h.noSignal()
		})
	}
}

// TestExitStatus checks the supervisor's exit status for each way the
// init can end.
func TestExitStatus(t *testing.T) {
	for _, tt := range []struct {
		ws   syscall.WaitStatus
		want int
	}{
		{exitedWith(0), 0},
		{exitedWith(1), 1},
		{exitedWith(255), 255},
		{killedBy(syscall.SIGINT), 0},                     // poweroff or halt
		{killedBy(syscall.SIGHUP), activation.ExitReboot}, // reboot
		{killedBy(syscall.SIGKILL), 137},
		{killedBy(syscall.SIGSEGV), 139},
		{syscall.WaitStatus(0x137f), activation.ExitNotTerminated}, // stopped by SIGSTOP
	} {
		h := start(t, setup{boot: true})
		if got := h.exit(tt.ws); got.status != tt.want || got.stopped {
			t.Errorf("wait status %#x: Run() = %+v, want status %d, not stopped", uint32(tt.ws), got, tt.want)
		}
	}
}
