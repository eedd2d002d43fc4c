package activation

import (
	"strconv"
	"time"
)

// Action is what the supervisor does to the container's init next.
type Action int

// The actions of a Shutdown.
const (
	None       Action = iota // nothing now
	SendRTMin3               // SIGRTMIN+3: systemd's "halt", a clean shutdown
	SendTerm                 // SIGTERM: for systemd a re-exec, for others a stop
	SendKill                 // SIGKILL
)

// String names the action.
func (a Action) String() string {
	switch a {
	case None:
		return "none"
	case SendRTMin3:
		return "SIGRTMIN+3"
	case SendTerm:
		return "SIGTERM"
	case SendKill:
		return "SIGKILL"
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// Default timeouts of a Shutdown, used where its fields are zero.
const (
	// DefaultGrace is how long a booting container's init may take, after
	// a stop was requested, to show that it takes SIGRTMIN+3 (see
	// Shutdown), before the supervisor falls back to SIGTERM.
	DefaultGrace = 10 * time.Second
	// DefaultBootKillAfter is how long a booted init may take to shut down
	// before SIGKILL. It is below systemd's default stop timeout of 90s so
	// that the supervisor, not the host manager, kills the init and still
	// reports its exit.
	DefaultBootKillAfter = 60 * time.Second
	// DefaultKillAfter is the same for a payload that is not an init: a
	// plain process either handles SIGTERM quickly or not at all.
	DefaultKillAfter = 5 * time.Second
)

// Shutdown decides how to stop the container's init when the supervisor is
// asked to stop (SIGTERM or SIGINT). It is a pure state machine: the caller
// feeds it events with the current time, carries out the Action it returns
// and calls Deadline when the returned deadline passes.
//
// Every method returns the deadline now pending, which replaces any earlier
// one; the zero time means none.
//
// In boot mode a systemd init is stopped cleanly with SIGRTMIN+3, but only
// once it can take it (before that the kernel drops it): the caller calls
// Level2 when the init announces X_SYSTEMD_SIGNALS_LEVEL=2, when systemd
// says READY=1, or when the init's signal masks show it (HaltHandled),
// whichever comes first; while Waiting, it should look at the masks. Until
// then the request is held for Grace, and SIGTERM is sent if none of these
// comes, unless the init is systemd (Systemd): for systemd SIGTERM means
// "re-execute", never "stop", so a systemd init that has not taken
// SIGRTMIN+3 by then stays held, still watched, for KillAfter more, and
// gets SIGKILL after that. Whatever was sent, SIGKILL follows KillAfter
// later. Outside boot mode the payload gets SIGTERM, then SIGKILL. A second
// request kills at once.
type Shutdown struct {
	Boot      bool          // the payload is an init (-b)
	Grace     time.Duration // zero: DefaultGrace
	KillAfter time.Duration // zero: DefaultBootKillAfter or DefaultKillAfter
	// Systemd says the init is systemd; the caller sets it once it knows
	// (the init's name), at the latest before calling Deadline.
	Systemd bool

	state    shutdownState
	overdue  bool // held past Grace: the next deadline kills
	level2   bool
	sent     Action // the last signal sent
	deadline time.Time
}

type shutdownState int

const (
	running   shutdownState = iota // no stop requested
	held                           // boot mode, waiting for signals level 2
	signalled                      // SIGRTMIN+3 or SIGTERM sent
	killed                         // SIGKILL sent
)

func (s *Shutdown) grace() time.Duration {
	if s.Grace > 0 {
		return s.Grace
	}
	return DefaultGrace
}

func (s *Shutdown) killAfter() time.Duration {
	switch {
	case s.KillAfter > 0:
		return s.KillAfter
	case s.Boot:
		return DefaultBootKillAfter
	}
	return DefaultKillAfter
}

// Request handles SIGTERM or SIGINT received by the supervisor.
func (s *Shutdown) Request(now time.Time) (Action, time.Time) {
	switch s.state {
	case running:
		switch {
		case !s.Boot:
			return s.signal(SendTerm, now)
		case s.level2:
			return s.signal(SendRTMin3, now)
		}
		s.state, s.deadline = held, now.Add(s.grace())
		return None, s.deadline
	}
	return s.kill()
}

// Waiting reports whether a stop request is held until the init can take
// SIGRTMIN+3.
func (s *Shutdown) Waiting() bool { return s.state == held }

// Immediate is the signal Request would send right now, with nothing
// held: SIGRTMIN+3 or SIGTERM while no stop was requested yet, None
// otherwise (a request would be held, or would be a second one). It lets
// a caller send that signal ahead of Request, on the very thread that took
// the stop request; Request then returns the same Action.
func (s *Shutdown) Immediate() Action {
	if s.state != running {
		return None
	}
	switch {
	case !s.Boot:
		return SendTerm
	case s.level2:
		return SendRTMin3
	}
	return None
}

// Level2 handles the news that the init takes SIGRTMIN+3: its
// X_SYSTEMD_SIGNALS_LEVEL=2 announcement, or its signal masks. It
// also ends a fallback: an init that announces after it was sent SIGTERM
// is systemd (which takes SIGTERM as "re-execute", not "stop"), so it now
// gets SIGRTMIN+3 with a fresh kill deadline.
func (s *Shutdown) Level2(now time.Time) (Action, time.Time) {
	first := !s.level2
	s.level2 = true
	switch {
	case s.state == held:
		return s.signal(SendRTMin3, now)
	case s.state == signalled && s.sent == SendTerm && s.Boot && first:
		return s.signal(SendRTMin3, now)
	}
	return None, s.deadline
}

// Deadline handles the passing of the deadline returned last. A call before
// that deadline does nothing.
func (s *Shutdown) Deadline(now time.Time) (Action, time.Time) {
	if s.deadline.IsZero() || now.Before(s.deadline) {
		return None, s.deadline
	}
	switch {
	case s.state == held && s.overdue:
		return s.kill()
	case s.state == held && s.Systemd && s.Boot:
		s.overdue, s.deadline = true, now.Add(s.killAfter())
		return None, s.deadline
	case s.state == held:
		return s.signal(SendTerm, now)
	case s.state == signalled:
		return s.kill()
	}
	return None, s.deadline
}

// signal moves to the signalled state with a kill deadline.
func (s *Shutdown) signal(a Action, now time.Time) (Action, time.Time) {
	s.state, s.sent, s.deadline = signalled, a, now.Add(s.killAfter())
	return a, s.deadline
}

// kill moves to the final state; SIGKILL may be sent again, harmlessly.
func (s *Shutdown) kill() (Action, time.Time) {
	s.state, s.deadline = killed, time.Time{}
	return SendKill, time.Time{}
}
