package activation

import (
	"fmt"
	"strconv"
	"time"
)

// IdleAction is what happens to a machine idle for a whole period.
type IdleAction int

// The idle actions (IdleAction= in the machine's configuration).
const (
	IdleIgnore   IdleAction = iota // nothing: the machine runs until stopped
	IdleFreeze                     // freeze the payload's cgroup; thaw on the next connection
	IdlePoweroff                   // shut the container down cleanly; the next connection boots it
)

// String names the action as IdleAction= spells it.
func (a IdleAction) String() string {
	switch a {
	case IdleIgnore:
		return "ignore"
	case IdleFreeze:
		return "freeze"
	case IdlePoweroff:
		return "poweroff"
	}
	return "IdleAction(" + strconv.Itoa(int(a)) + ")"
}

// IdleStep is what the supervisor does next for an Idle.
type IdleStep int

// The steps of an Idle.
const (
	StepNothing IdleStep = iota
	// StepSample: read the sockets' load and the busy hold, re-arming
	// the wake-ups on the listening sockets first; then call Sampled.
	StepSample
	// StepFreeze: freeze the payload, wait until it is frozen, read the
	// load again (nothing inside can change it now), and call Frozen.
	StepFreeze
	// StepThaw: thaw the payload.
	StepThaw
	// StepPoweroff: shut the container down cleanly; if it is frozen,
	// signal it first and thaw it after, so that the signal is the first
	// thing it sees.
	StepPoweroff
)

// String names the step.
func (s IdleStep) String() string {
	switch s {
	case StepNothing:
		return "nothing"
	case StepSample:
		return "sample"
	case StepFreeze:
		return "freeze"
	case StepThaw:
		return "thaw"
	case StepPoweroff:
		return "poweroff"
	}
	return "IdleStep(" + strconv.Itoa(int(s)) + ")"
}

// Bounds of the default sampling interval, a tenth of the period.
const (
	minIdleInterval = 100 * time.Millisecond
	maxIdleInterval = 5 * time.Second
)

// Idle decides when a machine is idle and what to do about it. It is a
// pure state machine, like Shutdown: the caller feeds it events with the
// time, carries out the step it returns, and calls Deadline when the
// returned deadline passes (the zero time: no deadline, and no timer).
//
// A machine is idle when no sample for a whole Period found it busy (a
// connection held or queued on one of its sockets, or the busy hold taken
// inside) and no Activity (a connection or datagram arriving between
// samples) came in that time. Samples come every Interval while the
// machine is awake; none while it is frozen, where only Wake ends the
// wait.
//
// Nothing is lost at a transition because the decision is checked again
// where the guest can no longer change it: the payload is frozen first
// (for both actions, when Freezer is set) and sampled frozen; a
// connection that came in meanwhile, accepted or queued, thaws it again.
// Without a freezer, poweroff follows the last sample.
type Idle struct {
	Action   IdleAction
	Period   time.Duration
	Interval time.Duration // zero: a tenth of Period, within 100ms..5s
	Freezer  bool          // the payload's cgroup can be frozen

	state    idleState
	lastBusy time.Time // the last time the machine was seen busy
	busy     bool      // the last sample's verdict
	next     time.Time // the pending deadline
	since    time.Time // when the current state began
	wake     bool      // a wake-up came while freezing
	wakeups  int
}

type idleState int

const (
	idleOff      idleState = iota // not started, or stopped
	idleAwake                     // running, sampled
	idleFreezing                  // freeze under way
	idleFrozen                    // frozen, waiting for a connection
	idleGone                      // powering off: nothing more to do
)

// Interval is the sampling interval in use.
func (s *Idle) interval() time.Duration {
	if s.Interval > 0 {
		return s.Interval
	}
	return min(max(s.Period/10, minIdleInterval), maxIdleInterval)
}

// Start begins watching a machine that has just started: it counts as
// busy now. It returns the first deadline.
func (s *Idle) Start(now time.Time) time.Time {
	if s.Action == IdleIgnore || s.Period <= 0 {
		return time.Time{}
	}
	s.state, s.lastBusy, s.busy, s.since = idleAwake, now, true, now
	s.next = now.Add(s.interval())
	return s.next
}

// Deadline handles the passing of the last deadline returned.
func (s *Idle) Deadline(now time.Time) (IdleStep, time.Time) {
	if s.state != idleAwake || s.next.IsZero() || now.Before(s.next) {
		return StepNothing, s.next
	}
	s.next = time.Time{}
	return StepSample, s.next
}

// Sampled takes the verdict of a sample asked for by StepSample.
func (s *Idle) Sampled(now time.Time, busy bool) (IdleStep, time.Time) {
	if s.state != idleAwake {
		return StepNothing, s.next
	}
	if busy {
		s.lastBusy = now
	}
	s.busy = busy
	if !busy && now.Sub(s.lastBusy) >= s.Period {
		return s.act(now)
	}
	s.next = now.Add(s.interval())
	return StepNothing, s.next
}

// act carries out the idle action, through a freeze where there is a
// freezer.
func (s *Idle) act(now time.Time) (IdleStep, time.Time) {
	s.next = time.Time{}
	s.since = now
	if s.Freezer {
		s.state, s.wake = idleFreezing, false
		return StepFreeze, s.next
	}
	s.state = idleGone
	return StepPoweroff, s.next
}

// Activity handles a connection or datagram that arrived on a listening
// socket. While awake it makes the machine busy now; while freezing or
// frozen it wakes the machine (see Wake).
func (s *Idle) Activity(now time.Time) (IdleStep, time.Time) {
	switch s.state {
	case idleAwake:
		s.lastBusy, s.busy = now, true
		return StepNothing, s.next
	}
	return s.Wake(now)
}

// Frozen takes the sample made once the payload is frozen, as StepFreeze
// asked: busy if a connection came in while it froze. A busy machine is
// thawed; an idle one stays frozen (IdleFreeze) or is powered off.
func (s *Idle) Frozen(now time.Time, busy bool) (IdleStep, time.Time) {
	if s.state != idleFreezing {
		return StepNothing, s.next
	}
	if busy || s.wake {
		s.state, s.lastBusy, s.busy, s.since, s.wake = idleAwake, now, true, now, false
		s.next = now.Add(s.interval())
		return StepThaw, s.next
	}
	if s.Action == IdlePoweroff {
		s.state = idleGone
		return StepPoweroff, time.Time{}
	}
	s.state, s.since = idleFrozen, now
	return StepNothing, time.Time{}
}

// Wake handles a connection pending on a listening socket of a frozen
// machine, or an operator's request to wake it. A wake-up while freezing
// is kept for Frozen, which then thaws.
func (s *Idle) Wake(now time.Time) (IdleStep, time.Time) {
	switch s.state {
	case idleFreezing:
		s.wake = true
		return StepNothing, s.next
	case idleFrozen:
		s.wakeups++
		s.state, s.lastBusy, s.busy, s.since = idleAwake, now, true, now
		s.next = now.Add(s.interval())
		return StepThaw, s.next
	case idleAwake:
		s.lastBusy, s.busy = now, true
	}
	return StepNothing, s.next
}

// FreezeNow handles an operator's request to freeze the machine at once,
// as if its period had passed. It is still checked frozen, as any freeze.
func (s *Idle) FreezeNow(now time.Time) (IdleStep, time.Time) {
	if s.state != idleAwake || !s.Freezer {
		return StepNothing, s.next
	}
	s.state, s.since, s.wake, s.next = idleFreezing, now, false, time.Time{}
	return StepFreeze, s.next
}

// Stop ends the watch: the container is being stopped for another reason.
// A frozen (or freezing) payload must be thawed so that it can stop.
func (s *Idle) Stop() IdleStep {
	st := s.state
	s.state, s.next = idleOff, time.Time{}
	if st == idleFreezing || st == idleFrozen {
		return StepThaw
	}
	return StepNothing
}

// IsFrozen says whether the payload is (being) frozen.
func (s *Idle) IsFrozen() bool { return s.state == idleFreezing || s.state == idleFrozen }

// Wakeups counts the thaws that followed a freeze.
func (s *Idle) Wakeups() int { return s.wakeups }

// Status is the machine's idle state for STATUS=, as of now.
func (s *Idle) Status(now time.Time) string {
	switch s.state {
	case idleAwake:
		if s.busy {
			return fmt.Sprintf("Busy; %s after %s idle.", s.Action, fmtSpan(s.Period))
		}
		return fmt.Sprintf("Idle since %s; %s at %s.", s.lastBusy.Format("15:04:05"), s.Action, s.lastBusy.Add(s.Period).Format("15:04:05"))
	case idleFreezing:
		return "Freezing."
	case idleFrozen:
		return fmt.Sprintf("Frozen since %s, %s.", s.since.Format("15:04:05"), plural(s.wakeups, "wake-up"))
	case idleGone:
		return fmt.Sprintf("Idle for %s: powering off.", fmtSpan(s.Period))
	}
	return ""
}

// fmtSpan writes a duration the way systemd does, to a tenth of a second
// below a minute ("12s", "1.5s", "5min 30s").
func fmtSpan(d time.Duration) string {
	if d < time.Minute {
		d = d.Round(100 * time.Millisecond)
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
	}
	d = d.Round(time.Second)
	out := ""
	if h := d / time.Hour; h > 0 {
		out, d = strconv.Itoa(int(h))+"h", d-h*time.Hour
	}
	if m := d / time.Minute; m > 0 {
		out, d = join(out, strconv.Itoa(int(m))+"min"), d-m*time.Minute
	}
	if d > 0 {
		out = join(out, strconv.Itoa(int(d/time.Second))+"s")
	}
	return out
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + " " + b
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
