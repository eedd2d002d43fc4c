package payload

import (
	"testing"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

func TestOwnerSample(t *testing.T) {
	for _, v := range []systemd.Volatile{systemd.VolatileNo, systemd.VolatileState, systemd.VolatileYes} {
		s := OwnerSample(v)
		// The first is the top of what the container sees of the image.
		want := "/"
		if v == systemd.VolatileYes {
			want = "/usr"
		}
		if len(s) == 0 || s[0] != want {
			t.Errorf("OwnerSample(%s) starts with %v, want %s", v, s, want)
		}
		for _, p := range s {
			if v == systemd.VolatileYes && p != "/usr" && p[:5] != "/usr/" {
				t.Errorf("OwnerSample(yes) has %s, which the container does not see of the image", p)
			}
		}
	}
}

func TestForeignOwner(t *testing.T) {
	cases := []struct {
		owned []Owned
		size  uint32
		want  string
	}{
		{[]Owned{{"/", 0, 0}, {"/etc", 0, 0}, {"/home", 1000, 1000}}, 65536, ""},
		{[]Owned{{"/", 0, 0}, {"/home", 65535, 0}}, 65536, ""},
		{[]Owned{{"/", 0, 0}, {"/home", 65536, 0}}, 65536, "/home"},
		{[]Owned{{"/", 1879048192, 1879048192}, {"/etc", 1879048192, 1879048192}}, 65536, "/"}, // chowned for another range
		{[]Owned{{"/", 0, 0}, {"/var", 0, 70000}}, 65536, "/var"},                              // the GID alone
		{[]Owned{{"/", 0, 0}, {"/home", 1000, 1000}}, 1000, "/home"},                           // a small range
		{nil, 1, ""},
	}
	for _, c := range cases {
		o, ok := ForeignOwner(c.owned, c.size)
		if got := map[bool]string{true: o.Path}[ok]; got != c.want {
			t.Errorf("ForeignOwner(%v, %d) = %q, want %q", c.owned, c.size, got, c.want)
		}
	}
}
