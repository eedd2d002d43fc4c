package units

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The units' wrapper names the value, as every value's error does.
func TestParseTimespanError(t *testing.T) {
	_, err := ParseTimespan("5x")
	var ve *ValueError
	if !errors.As(err, &ve) || ve.Value != "5x" || !strings.Contains(err.Error(), "unknown time unit") {
		t.Errorf("ParseTimespan(\"5x\"): %v, want a ValueError naming the value and the unit", err)
	}
}

func TestParseIdleAction(t *testing.T) {
	for _, s := range []string{"freeze", "poweroff", "ignore"} {
		if got, err := ParseIdleAction(s); err != nil || got != s {
			t.Errorf("ParseIdleAction(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "Freeze", "suspend", "lock"} {
		_, err := ParseIdleAction(s)
		if err == nil || !strings.Contains(err.Error(), "freeze, poweroff or ignore") {
			t.Errorf("ParseIdleAction(%q): %v, want an error listing the actions", s, err)
		}
	}
	for _, s := range []string{"0", "0s", "0.0000001s"} {
		_, err := ParseIdleActionSec(s)
		if err == nil || !strings.Contains(err.Error(), "longer than zero") {
			t.Errorf("ParseIdleActionSec(%q): %v, want an error about zero", s, err)
		}
	}
	if d, err := ParseIdleActionSec("5min"); err != nil || d != 5*time.Minute {
		t.Errorf("ParseIdleActionSec(5min) = %v, %v", d, err)
	}
}

func TestConfigIdleKeys(t *testing.T) {
	c, src, err := ParseConfigFile("/etc/sockspawn/web.conf", strings.NewReader("[Container]\nIdleAction=freeze\nIdleActionSec=5min\n"))
	if err != nil || c.IdleAction != IdleActionFreeze || c.IdleActionSec != 5*time.Minute {
		t.Fatalf("got %q %v, %v", c.IdleAction, c.IdleActionSec, err)
	}
	again, _, err := ParseConfigFile("described", strings.NewReader(Describe(c, src)))
	if err != nil || again.IdleAction != c.IdleAction || again.IdleActionSec != c.IdleActionSec {
		t.Errorf("Describe does not read back: %q %v, %v\n%s", again.IdleAction, again.IdleActionSec, err, Describe(c, src))
	}
	for text, want := range map[string]string{
		"[Container]\nIdleAction=suspend\n":   `/etc/sockspawn/web.conf:2: invalid IdleAction= "suspend"`,
		"[Container]\nIdleActionSec=0\n":      `/etc/sockspawn/web.conf:2: invalid IdleActionSec= "0": the idle period must be longer than zero`,
		"[Container]\n\nIdleActionSec=soon\n": `/etc/sockspawn/web.conf:3: invalid IdleActionSec= "soon"`,
	} {
		_, _, err := ParseConfigFile("/etc/sockspawn/web.conf", strings.NewReader(text))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: error %v, want it to begin %q", text, err, want)
		}
	}
}

func TestNewMachineIdle(t *testing.T) {
	root := t.TempDir()
	written, err := NewMachine("web", NewOptions{Settings: []NewSetting{{"idle-action", "freeze"}, {"idle-action-sec", "5 min"}}}, root, false)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := ParseConfigFile(written[0], strings.NewReader(mustRead(t, written[0])))
	if err != nil || c.IdleAction != IdleActionFreeze || c.IdleActionSec != 5*time.Minute {
		t.Errorf("written: IdleAction=%q IdleActionSec=%v, %v\n%s", c.IdleAction, c.IdleActionSec, err, mustRead(t, written[0]))
	}
	if n := strings.Count(mustRead(t, written[0]), "IdleAction="); n != 1 {
		t.Errorf("IdleAction= appears %d times", n)
	}
	// Not given: only the template's commented examples.
	written, err = NewMachine("db", NewOptions{}, root, false)
	if err != nil {
		t.Fatal(err)
	}
	if c, _, err := ParseConfigFile(written[0], strings.NewReader(mustRead(t, written[0]))); err != nil || c.IdleAction != "" || c.IdleActionSec != 0 {
		t.Errorf("without the flags: IdleAction=%q IdleActionSec=%v, %v", c.IdleAction, c.IdleActionSec, err)
	}
	// A template without the examples gets the keys at its end.
	if got := string(withSettings([]byte("[Container]\nBoot=yes"), mustSettings(t, []NewSetting{{"idle-action", "poweroff"}, {"idle-action-sec", "90s"}}))); got != "[Container]\nBoot=yes\nIdleAction=poweroff\nIdleActionSec=1min 30s\n" {
		t.Errorf("withSettings: %q", got)
	}
	// Given twice, the last one wins, written once.
	if got := mustSettings(t, []NewSetting{{"idle-action", "freeze"}, {"idle-action", "poweroff"}}); len(got) != 1 || got[0] != [2]string{"IdleAction", "poweroff"} {
		t.Errorf("--idle-action twice: %q", got)
	}
	for _, c := range []struct {
		opts NewOptions
		want string
	}{
		{NewOptions{Settings: []NewSetting{{"boot", "yes"}}}, "sockspawn new has no flag --boot"},
		{NewOptions{Settings: []NewSetting{{"idle-action", "suspend"}}}, `invalid --idle-action "suspend": not an idle action`},
		{NewOptions{Settings: []NewSetting{{"idle-action-sec", "0"}}}, `invalid --idle-action-sec "0": the idle period must be longer than zero`},
	} {
		root := t.TempDir()
		if written, err := NewMachine("x", c.opts, root, false); err == nil || !strings.HasPrefix(err.Error(), c.want) || len(written) > 0 {
			t.Errorf("%+v: %v (wrote %q), want %q", c.opts, err, written, c.want)
		}
	}
}

func mustSettings(t *testing.T, given []NewSetting) [][2]string {
	t.Helper()
	s, err := newSettings(given)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// IdleActionSec= and --idle-action-sec= take "infinity" (never idle) as
// systemd takes it for a time span, and both the same way; `cat` writes
// it back as "infinity".
func TestIdleActionSecInfinity(t *testing.T) {
	var flag Option
	for _, o := range Options() {
		if o.Key == "IdleActionSec" {
			flag = o
		}
	}
	for _, tc := range []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"infinity", IdleNever, true},
		{" infinity ", IdleNever, true},
		{"5min", 5 * time.Minute, true},
		{"Infinity", 0, false},
		{"infinity 5s", 0, false},
		{"-1", 0, false},
	} {
		c, _, ferr := ParseConfigFile("web.conf", strings.NewReader("[Container]\nIdleAction=freeze\nIdleActionSec="+tc.value+"\n"))
		var fc Config
		flagErr := flag.SetFlag(&fc, "--idle-action-sec", tc.value)
		if (ferr == nil) != tc.ok || (flagErr == nil) != tc.ok {
			t.Errorf("%q: key %v, flag %v; want accepted: %v", tc.value, ferr, flagErr, tc.ok)
			continue
		}
		if !tc.ok {
			continue
		}
		if c.IdleActionSec != tc.want || fc.IdleActionSec != tc.want {
			t.Errorf("%q: key %v, flag %v; want %v", tc.value, c.IdleActionSec, fc.IdleActionSec, tc.want)
		}
		again, _, err := ParseConfigFile("described", strings.NewReader(Describe(c, Sources{"IdleActionSec": {"web.conf:3"}})))
		if err != nil || again.IdleActionSec != tc.want {
			t.Errorf("%q: Describe reads back as %v, %v", tc.value, again.IdleActionSec, err)
		}
	}
	if got := FormatTimespan(IdleNever); got != "infinity" {
		t.Errorf("FormatTimespan(IdleNever) = %q", got)
	}
}
