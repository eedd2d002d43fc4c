package units

import (
	"strings"
	"testing"
)

func TestParsePrivateUsers(t *testing.T) {
	cases := []struct {
		in   string
		want UserRange
		err  string // in the error; "" for none
	}{
		{in: "no", want: UserRange{Size: 65536}},
		{in: "yes", want: UserRange{Enabled: true, Size: 65536}},
		{in: "pick", want: UserRange{Enabled: true, Size: 65536}},
		{in: "1000000", want: UserRange{Enabled: true, Base: 1000000, Size: 65536}},
		{in: "1000000:10", want: UserRange{Enabled: true, Base: 1000000, Size: 10}},
		{in: "4294967294:1", want: UserRange{Enabled: true, Base: 4294967294, Size: 1}},
		{in: "1:4294967294", want: UserRange{Enabled: true, Base: 1, Size: 4294967294}},
		{in: "x", err: "want pick, no or UID[:COUNT]"},
		{in: "-5:10", err: "want pick, no or UID[:COUNT]"},
		{in: "0", want: UserRange{Size: 65536}}, // a boolean, as systemd reads it
		{in: "0:65536", err: "host's root"},
		{in: "4294967295:1", err: "UID 4294967295 is beyond"},
		{in: "99999999999", err: "UID 99999999999 is beyond"},
		{in: "1000:0", err: "COUNT"},
		{in: "1000:", err: "COUNT"},
		{in: "1000:x", err: "COUNT"},
		{in: "1000:4294967295", err: "COUNT"},
		{in: "1000:1:2", err: "COUNT"},
		{in: "4294967294:2", err: "would end at 4294967295"},
		{in: "4294901760:65536", err: "would end at 4294967295"},
	}
	for _, c := range cases {
		got, err := ParsePrivateUsers(c.in)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("ParsePrivateUsers(%q): %v", c.in, err)
		case c.err == "" && got != c.want:
			t.Errorf("ParsePrivateUsers(%q) = %+v, want %+v", c.in, got, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("ParsePrivateUsers(%q) = %+v, %v; want an error with %q", c.in, got, err, c.err)
		case c.err != "" && !strings.Contains(err.Error(), c.in):
			t.Errorf("ParsePrivateUsers(%q): the error does not name the value: %v", c.in, err)
		}
	}
}

func FuzzParsePrivateUsers(f *testing.F) {
	for _, s := range []string{"pick", "no", "1000", "1000:10", "4294967294:1", "0:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParsePrivateUsers(s)
		if err != nil || !r.Enabled || r.Base == 0 {
			return
		}
		if r.Size == 0 || uint64(r.Base)+uint64(r.Size)-1 > 0xFFFFFFFE {
			t.Fatalf("ParsePrivateUsers(%q) = %+v: outside 1..4294967294", s, r)
		}
	})
}
