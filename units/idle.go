package units

import (
	"math"
	"strings"
	"time"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

// The IdleAction= values, named as in logind.conf (which also has
// suspend and the like: a container has no use for them).
const (
	IdleActionIgnore   = "ignore"
	IdleActionFreeze   = "freeze"
	IdleActionPoweroff = "poweroff"
)

// ParseIdleAction parses an --idle-action= / IdleAction= value.
func ParseIdleAction(s string) (string, error) {
	switch s {
	case IdleActionIgnore, IdleActionFreeze, IdleActionPoweroff:
		return s, nil
	}
	return "", invalid("", s, "not an idle action (use freeze, poweroff or ignore)")
}

// ParseTimespan parses a time span as systemd does (see
// systemd.ParseTimespan), with the error as every value's.
func ParseTimespan(s string) (time.Duration, error) {
	d, err := systemd.ParseTimespan(s)
	if err != nil {
		return 0, invalid("", s, "%w", err)
	}
	return d, nil
}

// FormatTimespan writes d as systemd shows a time span, IdleNever as
// "infinity".
func FormatTimespan(d time.Duration) string {
	if d == IdleNever {
		return "infinity"
	}
	return systemd.FormatTimespan(d)
}

// IdleNever is IdleActionSec=infinity: the machine is never idle, as
// with IdleAction=ignore.
const IdleNever = time.Duration(math.MaxInt64)

// ParseIdleActionSec parses --idle-action-sec= / IdleActionSec=: a time
// span that is not zero, or "infinity" (IdleNever), as systemd takes it
// for a time span.
func ParseIdleActionSec(s string) (time.Duration, error) {
	if strings.TrimSpace(s) == "infinity" {
		return IdleNever, nil
	}
	d, err := ParseTimespan(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, invalid("", s, "the idle period must be longer than zero")
	}
	return d, nil
}

// DefaultIdleActionSec is the idle period when IdleActionSec= is not set.
const DefaultIdleActionSec = 30 * time.Second
