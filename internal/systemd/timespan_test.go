package systemd

import (
	"testing"
	"time"
)

func TestParseTimespan(t *testing.T) {
	for s, want := range map[string]time.Duration{
		"30s":         30 * time.Second,
		"30":          30 * time.Second,
		"5min":        5 * time.Minute,
		"1h 30min":    90 * time.Minute,
		"1h30min":     90 * time.Minute,
		" 2.5s ":      2500 * time.Millisecond,
		"500ms":       500 * time.Millisecond,
		"1min 30 s":   90 * time.Second,
		"2 weeks":     14 * 24 * time.Hour,
		"0":           0,
		"1.5 h":       90 * time.Minute,
		"100us 1msec": 1100 * time.Microsecond,
		"1d 1h 1m 1s": 25*time.Hour + time.Minute + time.Second,
		"3 seconds":   3 * time.Second,
		"0.0000001s":  0,
		"1y":          31557600 * time.Second,
	} {
		got, err := ParseTimespan(s)
		if err != nil || got != want {
			t.Errorf("ParseTimespan(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "s", "-1s", "1x", "infinity", "1..2s", ".", "1s s", "5 min x", "1e3s", "99999999999999999h"} {
		if d, err := ParseTimespan(s); err == nil {
			t.Errorf("ParseTimespan(%q) = %v, want an error", s, d)
		}
	}
}

func TestFormatTimespan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second:           "30s",
		5 * time.Minute:            "5min",
		90 * time.Minute:           "1h 30min",
		1500 * time.Millisecond:    "1.5s",
		500 * time.Millisecond:     "500ms",
		25*time.Hour + time.Second: "1d 1h 1s",
		0:                          "0",
	} {
		if got := FormatTimespan(d); got != want {
			t.Errorf("FormatTimespan(%v) = %q, want %q", d, got, want)
		}
	}
}

func FuzzParseTimespan(f *testing.F) {
	for _, s := range []string{"30s", "1h 30min", "2.5s", "500ms", "1x", "", "1d1h1m1s1ms1us"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseTimespan(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseTimespan(%q) = %v < 0", s, d)
		}
		again, err := ParseTimespan(FormatTimespan(d))
		if err != nil || again != d {
			t.Fatalf("round trip of %q (%v): %q -> %v, %v", s, d, FormatTimespan(d), again, err)
		}
	})
}
