package systemd

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// timeUnits are systemd's time span units (parse_sec).
var timeUnits = map[string]time.Duration{
	"usec": time.Microsecond, "us": time.Microsecond, "µs": time.Microsecond, "μs": time.Microsecond,
	"msec": time.Millisecond, "ms": time.Millisecond,
	"seconds": time.Second, "second": time.Second, "sec": time.Second, "s": time.Second, "": time.Second,
	"minutes": time.Minute, "minute": time.Minute, "min": time.Minute, "m": time.Minute,
	"hours": time.Hour, "hour": time.Hour, "hr": time.Hour, "h": time.Hour,
	"days": 24 * time.Hour, "day": 24 * time.Hour, "d": 24 * time.Hour,
	"weeks": 7 * 24 * time.Hour, "week": 7 * 24 * time.Hour, "w": 7 * 24 * time.Hour,
	"months": 2629800 * time.Second, "month": 2629800 * time.Second, "M": 2629800 * time.Second,
	"years": 31557600 * time.Second, "year": 31557600 * time.Second, "y": 31557600 * time.Second,
}

var errNotTimespan = errors.New(`not a time span (such as "30s", "5min", "1h 30min")`)

// ParseTimespan parses a time span as systemd does: numbers with units,
// summed ("1h 30min", "1min30s", "2.5s"), a bare number in seconds. It
// refuses "infinity" and negative values; precision is a microsecond.
func ParseTimespan(s string) (time.Duration, error) {
	rest := strings.TrimSpace(s)
	if rest == "" {
		return 0, errNotTimespan
	}
	var total float64
	for rest != "" {
		i := strings.IndexFunc(rest, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if i < 0 {
			i = len(rest)
		}
		num := rest[:i]
		if num == "" || strings.Count(num, ".") > 1 || num == "." {
			return 0, errNotTimespan
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, errNotTimespan
		}
		rest = strings.TrimLeft(rest[i:], " \t")
		j := strings.IndexFunc(rest, func(r rune) bool { return (r >= '0' && r <= '9') || r == '.' || r == ' ' || r == '\t' })
		if j < 0 {
			j = len(rest)
		}
		unit, ok := timeUnits[rest[:j]]
		if !ok {
			return 0, fmt.Errorf("unknown time unit %q", rest[:j])
		}
		total += v * float64(unit)
		if total > math.MaxInt64/2 {
			return 0, errors.New("too long")
		}
		rest = strings.TrimLeft(rest[j:], " \t")
	}
	return time.Duration(total).Round(time.Microsecond), nil
}

// FormatTimespan writes d the way systemd shows a time span ("30s",
// "5min", "1h 30min", "1.5s"); ParseTimespan reads it back.
func FormatTimespan(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	var parts []string
	for _, u := range []struct {
		name string
		d    time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"min", time.Minute}} {
		if d >= u.d {
			parts = append(parts, strconv.FormatInt(int64(d/u.d), 10)+u.name)
			d %= u.d
		}
	}
	switch {
	case d == 0:
	case d%time.Second == 0:
		parts = append(parts, strconv.FormatInt(int64(d/time.Second), 10)+"s")
	case d%time.Millisecond == 0 && d < time.Second:
		parts = append(parts, strconv.FormatInt(int64(d/time.Millisecond), 10)+"ms")
	default:
		parts = append(parts, strconv.FormatFloat(d.Seconds(), 'f', -1, 64)+"s")
	}
	return strings.Join(parts, " ")
}
