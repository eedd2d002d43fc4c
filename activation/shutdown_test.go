package activation

import (
	"testing"
	"time"
)

func TestShutdown(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	const (
		request  = "request"
		level2   = "level2"
		deadline = "deadline"
	)
	type step struct {
		event        string
		at           time.Duration
		want         Action
		wantDeadline time.Duration // -1: none
	}
	tests := []struct {
		name  string
		s     Shutdown
		steps []step
	}{
		{"boot, level 2 before the request", Shutdown{Boot: true}, []step{
			{level2, 0, None, -1},
			{request, time.Second, SendRTMin3, time.Second + DefaultBootKillAfter},
			{deadline, time.Second + DefaultBootKillAfter, SendKill, -1},
		}},
		{"boot, request held until level 2", Shutdown{Boot: true, Grace: 3 * time.Second, KillAfter: 20 * time.Second}, []step{
			{request, 0, None, 3 * time.Second},
			{level2, time.Second, SendRTMin3, 21 * time.Second},
			{deadline, 21 * time.Second, SendKill, -1},
		}},
		{"boot, no level 2 in time, never announced", Shutdown{Boot: true}, []step{
			{request, 0, None, DefaultGrace},
			{deadline, DefaultGrace, SendTerm, DefaultGrace + DefaultBootKillAfter},
			{deadline, DefaultGrace + DefaultBootKillAfter, SendKill, -1},
		}},
		{"boot, level 2 after the SIGTERM fallback gets SIGRTMIN+3", Shutdown{Boot: true}, []step{
			{request, 0, None, DefaultGrace},
			{deadline, DefaultGrace, SendTerm, DefaultGrace + DefaultBootKillAfter},
			{level2, DefaultGrace + time.Second, SendRTMin3, DefaultGrace + time.Second + DefaultBootKillAfter},
			{level2, DefaultGrace + 2*time.Second, None, DefaultGrace + time.Second + DefaultBootKillAfter},
			{deadline, DefaultGrace + time.Second + DefaultBootKillAfter, SendKill, -1},
		}},
		{"boot, systemd never gets SIGTERM: held, then killed", Shutdown{Boot: true, Systemd: true}, []step{
			{request, 0, None, DefaultGrace},
			{deadline, DefaultGrace, None, DefaultGrace + DefaultBootKillAfter},
			{deadline, DefaultGrace + DefaultBootKillAfter - time.Nanosecond, None, DefaultGrace + DefaultBootKillAfter},
			{deadline, DefaultGrace + DefaultBootKillAfter, SendKill, -1},
		}},
		{"boot, systemd takes SIGRTMIN+3 late, while overdue", Shutdown{Boot: true, Systemd: true}, []step{
			{request, 0, None, DefaultGrace},
			{deadline, DefaultGrace, None, DefaultGrace + DefaultBootKillAfter},
			{level2, DefaultGrace + time.Second, SendRTMin3, DefaultGrace + time.Second + DefaultBootKillAfter},
			{deadline, DefaultGrace + time.Second + DefaultBootKillAfter, SendKill, -1},
		}},
		{"not boot, systemd flag changes nothing", Shutdown{Systemd: true}, []step{
			{request, 0, SendTerm, DefaultKillAfter},
			{deadline, DefaultKillAfter, SendKill, -1},
		}},
		{"boot, early deadline call does nothing", Shutdown{Boot: true}, []step{
			{request, 0, None, DefaultGrace},
			{deadline, DefaultGrace - time.Nanosecond, None, DefaultGrace},
			{deadline, DefaultGrace + time.Second, SendTerm, DefaultGrace + time.Second + DefaultBootKillAfter},
		}},
		{"boot, second request while held", Shutdown{Boot: true}, []step{
			{request, 0, None, DefaultGrace},
			{request, time.Second, SendKill, -1},
			{level2, 2 * time.Second, None, -1},
			{deadline, DefaultGrace, None, -1},
		}},
		{"boot, second request after SIGRTMIN+3", Shutdown{Boot: true}, []step{
			{level2, 0, None, -1},
			{request, 0, SendRTMin3, DefaultBootKillAfter},
			{request, time.Second, SendKill, -1},
			{request, 2 * time.Second, SendKill, -1},
		}},
		{"not boot", Shutdown{}, []step{
			{request, 0, SendTerm, DefaultKillAfter},
			{deadline, DefaultKillAfter, SendKill, -1},
			{deadline, 2 * DefaultKillAfter, None, -1},
		}},
		{"not boot ignores level 2", Shutdown{KillAfter: time.Second}, []step{
			{level2, 0, None, -1},
			{request, 0, SendTerm, time.Second},
			{request, time.Millisecond, SendKill, -1},
		}},
		{"nothing before a request", Shutdown{Boot: true}, []step{
			{deadline, time.Hour, None, -1},
			{level2, time.Hour, None, -1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.s
			for i, st := range tt.steps {
				var a Action
				var d time.Time
				switch st.event {
				case request:
					imm := s.Immediate()
					a, d = s.Request(at(st.at))
					// What Immediate promised is what Request sends; when
					// it promised nothing, Request sends no stop signal.
					if imm != None && a != imm || imm == None && (a == SendRTMin3 || a == SendTerm) {
						t.Fatalf("step %d: Immediate said %v, then Request sent %v", i, imm, a)
					}
				case level2:
					a, d = s.Level2(at(st.at))
				case deadline:
					a, d = s.Deadline(at(st.at))
				}
				wantD := time.Time{}
				if st.wantDeadline >= 0 {
					wantD = at(st.wantDeadline)
				}
				if a != st.want || !d.Equal(wantD) {
					t.Fatalf("step %d (%s at %v): %v until %v, want %v until %v", i, st.event, st.at, a, d, st.want, wantD)
				}
			}
		})
	}
}

// Immediate names the signal a stop request sends at once, and only
// while one does.
func TestShutdownImmediate(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		setup func(s *Shutdown)
		boot  bool
		want  Action
	}{
		{"boot, not announced", func(*Shutdown) {}, true, None},
		{"boot, announced", func(s *Shutdown) { s.Level2(now) }, true, SendRTMin3},
		{"boot, held", func(s *Shutdown) { s.Request(now) }, true, None},
		{"boot, held then announced", func(s *Shutdown) { s.Request(now); s.Level2(now) }, true, None},
		{"boot, signalled", func(s *Shutdown) { s.Level2(now); s.Request(now) }, true, None},
		{"not boot", func(*Shutdown) {}, false, SendTerm},
		{"not boot, signalled", func(s *Shutdown) { s.Request(now) }, false, None},
		{"not boot, killed", func(s *Shutdown) { s.Request(now); s.Request(now) }, false, None},
	}
	for _, tt := range tests {
		s := Shutdown{Boot: tt.boot}
		tt.setup(&s)
		if got := s.Immediate(); got != tt.want {
			t.Errorf("%s: Immediate() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// Waiting holds exactly while a request waits for the init's handler.
func TestShutdownWaiting(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := Shutdown{Boot: true}
	if s.Waiting() {
		t.Fatal("waiting before any request")
	}
	s.Request(now)
	if !s.Waiting() {
		t.Fatal("not waiting after a request before the init takes SIGRTMIN+3")
	}
	if a, _ := s.Level2(now); a != SendRTMin3 || s.Waiting() {
		t.Fatalf("the init takes SIGRTMIN+3: %v sent, waiting %v; want SIGRTMIN+3, not waiting", a, s.Waiting())
	}
	s = Shutdown{Boot: true}
	s.Request(now)
	if a, _ := s.Deadline(now.Add(DefaultGrace)); a != SendTerm || s.Waiting() {
		t.Fatalf("grace over: %v sent, waiting %v; want SIGTERM, not waiting", a, s.Waiting())
	}
	s = Shutdown{}
	s.Request(now)
	if s.Waiting() {
		t.Fatal("waiting outside boot mode")
	}
}

func TestActionString(t *testing.T) {
	for a, want := range map[Action]string{None: "none", SendRTMin3: "SIGRTMIN+3", SendTerm: "SIGTERM", SendKill: "SIGKILL", 9: "Action(9)"} {
		if got := a.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(a), got, want)
		}
	}
}

// Whatever comes in whatever order, a systemd init in boot mode is never
// sent SIGTERM, and SIGKILL comes only from a deadline or a second request.
func FuzzShutdownSystemdNoTerm(f *testing.F) {
	f.Add([]byte{0, 2, 2, 1})
	f.Add([]byte{0, 2, 1, 2, 0})
	f.Fuzz(func(t *testing.T, events []byte) {
		s := Shutdown{Boot: true, Systemd: true}
		now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		requests := 0
		for i, e := range events {
			now = now.Add(time.Duration(e>>2) * time.Second)
			var a Action
			switch e % 3 {
			case 0:
				requests++
				a, _ = s.Request(now)
			case 1:
				a, _ = s.Level2(now)
			case 2:
				a, _ = s.Deadline(now)
			}
			if a == SendTerm {
				t.Fatalf("event %d (%v): SIGTERM sent to a systemd init", i, events[:i+1])
			}
			if a == SendKill && e%3 == 1 {
				t.Fatalf("event %d: SIGKILL on the news of level 2", i)
			}
		}
	})
}
