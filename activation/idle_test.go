package activation

import (
	"strings"
	"testing"
	"time"
)

// idleEvent is one event fed to an Idle at a time (seconds after t0).
type idleEvent struct {
	at    float64
	kind  string // start, deadline, sampled, busy (a busy sample), activity, frozen, frozenbusy, wake, freezenow, stop
	step  IdleStep
	next  float64 // the deadline returned, in seconds; -1 for none
	state string  // the Status prefix expected after the event, if any
}

func TestIdle(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 10, 2, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	freeze := Idle{Action: IdleFreeze, Period: 10 * time.Second, Interval: time.Second, Freezer: true}
	poweroff := freeze
	poweroff.Action = IdlePoweroff
	bare := poweroff
	bare.Freezer = false
	for _, c := range []struct {
		name   string
		idle   Idle
		events []idleEvent
	}{
		{"samples until idle for a whole period, then freezes", freeze, []idleEvent{
			{0, "start", StepNothing, 1, "Busy"},
			{0.5, "deadline", StepNothing, 1, ""}, // early: nothing
			{1, "deadline", StepSample, -1, ""},
			{1, "sampled", StepNothing, 2, "Idle since 10:02:00; freeze at 10:02:10."},
			{9.9, "sampled", StepNothing, 10.9, "Idle since 10:02:00; freeze at 10:02:10."},
			{10, "sampled", StepFreeze, -1, "Freezing"},
			{10.1, "frozen", StepNothing, -1, "Frozen since 10:02:10, 0 wake-ups"},
			{20, "deadline", StepNothing, -1, ""}, // no timer while frozen
			{30, "wake", StepThaw, 31, "Busy"},
		}},
		{"a busy sample restarts the period", freeze, []idleEvent{
			{0, "start", StepNothing, 1, ""},
			{5, "busy", StepNothing, 6, "Busy"},
			{10, "sampled", StepNothing, 11, "Idle since 10:02:05; freeze at 10:02:15."},
			{15, "sampled", StepFreeze, -1, ""},
		}},
		{"activity between samples restarts the period", freeze, []idleEvent{
			{0, "start", StepNothing, 1, ""},
			{6, "activity", StepNothing, 1, "Busy"},
			{10, "sampled", StepNothing, 11, "Idle since 10:02:06; freeze at 10:02:16."},
			{16, "sampled", StepFreeze, -1, ""},
		}},
		{"a connection that came in while freezing thaws", freeze, []idleEvent{
			{0, "start", StepNothing, 1, ""},
			{10, "sampled", StepFreeze, -1, ""},
			{10.1, "frozenbusy", StepThaw, 11.1, "Busy"},
			{11.1, "deadline", StepSample, -1, ""},
			{11.1, "sampled", StepNothing, 12.1, ""},
			{20, "sampled", StepNothing, 21, ""}, // the period counts from the thaw
			{20.1, "sampled", StepFreeze, -1, ""},
		}},
		{"a wake-up while freezing is kept for the frozen sample", freeze, []idleEvent{
			{0, "start", StepNothing, 1, ""},
			{10, "sampled", StepFreeze, -1, ""},
			{10.05, "activity", StepNothing, -1, ""},
			{10.1, "frozen", StepThaw, 11.1, "Busy"},
		}},
		{"wake-ups are counted", freeze, []idleEvent{
			{0, "start", StepNothing, 1, ""},
			{10, "sampled", StepFreeze, -1, ""},
			{10, "frozen", StepNothing, -1, ""},
			{12, "activity", StepThaw, 13, ""},
			{22, "sampled", StepFreeze, -1, ""},
			{22, "frozen", StepNothing, -1, "Frozen since 10:02:22, 1 wake-up"},
			{23, "wake", StepThaw, 24, ""},
			{33, "sampled", StepFreeze, -1, ""},
			{33, "frozen", StepNothing, -1, "Frozen since 10:02:33, 2 wake-ups"},
		}},
		{"poweroff goes through a frozen check", poweroff, []idleEvent{
			{0, "start", StepNothing, 1, ""},
			{10, "sampled", StepFreeze, -1, ""},
			{10.1, "frozen", StepPoweroff, -1, "Idle for 10s: powering off"},
			{11, "wake", StepNothing, -1, ""}, // too late: the next boot serves it
			{12, "deadline", StepNothing, -1, ""},
		}},
		{"poweroff checked frozen and busy thaws instead", poweroff, []idleEvent{
			{0, "start", StepNothing, 1, ""},
			{10, "sampled", StepFreeze, -1, ""},
			{10.1, "frozenbusy", StepThaw, 11.1, "Busy"},
		}},
		{"poweroff without a freezer follows the sample", bare, []idleEvent{
			{0, "start", StepNothing, 1, ""},
			{10, "sampled", StepPoweroff, -1, "Idle for 10s: powering off"},
		}},
		{"an operator freezes at once", freeze, []idleEvent{
			{0, "start", StepNothing, 1, ""},
			{2, "freezenow", StepFreeze, -1, "Freezing"},
			{2.1, "frozen", StepNothing, -1, "Frozen"},
			{2.2, "freezenow", StepNothing, -1, "Frozen"},
			{3, "wake", StepThaw, 4, ""},
		}},
		{"no operator freeze without a freezer", bare, []idleEvent{
			{0, "start", StepNothing, 1, ""},
			{2, "freezenow", StepNothing, 1, "Busy"},
		}},
		{"a stop thaws a frozen payload, then nothing more", freeze, []idleEvent{
			{0, "start", StepNothing, 1, ""},
			{10, "sampled", StepFreeze, -1, ""},
			{10, "frozen", StepNothing, -1, ""},
			{11, "stop", StepThaw, -1, ""},
			{12, "wake", StepNothing, -1, ""},
			{13, "deadline", StepNothing, -1, ""},
		}},
		{"a stop while freezing thaws too", freeze, []idleEvent{
			{0, "start", StepNothing, 1, ""},
			{10, "sampled", StepFreeze, -1, ""},
			{10.05, "stop", StepThaw, -1, ""},
			{10.1, "frozen", StepNothing, -1, ""},
		}},
		{"a stop while awake needs no thaw", freeze, []idleEvent{
			{0, "start", StepNothing, 1, ""},
			{5, "stop", StepNothing, -1, ""},
			{10, "sampled", StepNothing, -1, ""},
		}},
		{"ignore does nothing", Idle{Action: IdleIgnore, Period: time.Second}, []idleEvent{
			{0, "start", StepNothing, -1, ""},
			{5, "sampled", StepNothing, -1, ""},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.idle
			for i, e := range c.events {
				now := at(e.at)
				var step IdleStep
				var next time.Time
				switch e.kind {
				case "start":
					next = s.Start(now)
				case "deadline":
					step, next = s.Deadline(now)
				case "sampled":
					step, next = s.Sampled(now, false)
				case "busy":
					step, next = s.Sampled(now, true)
				case "activity":
					step, next = s.Activity(now)
				case "frozen":
					step, next = s.Frozen(now, false)
				case "frozenbusy":
					step, next = s.Frozen(now, true)
				case "wake":
					step, next = s.Wake(now)
				case "freezenow":
					step, next = s.FreezeNow(now)
				case "stop":
					step = s.Stop()
					next = s.next
				default:
					t.Fatalf("unknown event %q", e.kind)
				}
				want := time.Time{}
				if e.next >= 0 {
					want = at(e.next)
				}
				if step != e.step || !next.Equal(want) {
					t.Errorf("event %d (%s at %vs): got %v, next %v; want %v, next %v", i, e.kind, e.at, step, next.Sub(t0), e.step, want.Sub(t0))
				}
				if e.state != "" && !strings.HasPrefix(s.Status(now), e.state) {
					t.Errorf("event %d (%s at %vs): status %q, want it to begin %q", i, e.kind, e.at, s.Status(now), e.state)
				}
			}
		})
	}
}

func TestIdleInterval(t *testing.T) {
	for _, c := range []struct {
		period, interval, want time.Duration
	}{
		{30 * time.Second, 0, 3 * time.Second},
		{time.Second, 0, 100 * time.Millisecond},
		{100 * time.Millisecond, 0, 100 * time.Millisecond},
		{time.Hour, 0, 5 * time.Second},
		{time.Hour, time.Second, time.Second},
	} {
		s := Idle{Action: IdleFreeze, Period: c.period, Interval: c.interval}
		if got := s.interval(); got != c.want {
			t.Errorf("period %v, interval %v: sampling every %v, want %v", c.period, c.interval, got, c.want)
		}
	}
}

func TestFmtSpan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                    "0s",
		1500 * time.Millisecond:              "1.5s",
		12*time.Second + 40*time.Millisecond: "12s",
		5 * time.Minute:                      "5min",
		5*time.Minute + 30*time.Second:       "5min 30s",
		2*time.Hour + time.Second:            "2h 1s",
	} {
		if got := fmtSpan(d); got != want {
			t.Errorf("fmtSpan(%v) = %q, want %q", d, got, want)
		}
	}
}
