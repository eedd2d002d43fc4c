package payload

import (
	"strings"
	"testing"
)

func TestHostLink(t *testing.T) {
	tests := []struct{ machine, want string }{
		{"web", "ve-web"},
		{"twelve-chars", "ve-twelve-chars"},
	}
	for _, tt := range tests {
		if got := HostLink(tt.machine); got != tt.want {
			t.Errorf("HostLink(%q) = %q, want %q", tt.machine, got, tt.want)
		}
	}
	a, b := HostLink("a-rather-long-machine-name-1"), HostLink("a-rather-long-machine-name-2")
	for _, l := range []string{a, b} {
		if len(l) > 15 || !strings.HasPrefix(l, "ve-") {
			t.Errorf("HostLink of a long name = %q: not a ve- name of at most 15 characters", l)
		}
	}
	if a == b {
		t.Errorf("two long machine names share the link name %q", a)
	}
}

func TestLinkMAC(t *testing.T) {
	m := LinkMAC("web", "host")
	if m.String() != LinkMAC("web", "host").String() {
		t.Error("LinkMAC is not stable")
	}
	if m[0]&0x01 != 0 || m[0]&0x02 == 0 {
		t.Errorf("LinkMAC = %s: want a unicast, locally administered address", m)
	}
	if m.String() == LinkMAC("web", "container").String() || m.String() == LinkMAC("db", "host").String() {
		t.Error("LinkMAC repeats across sides or machines")
	}
}

func TestMountsPrivateNetwork(t *testing.T) {
	for _, private := range []bool{false, true} {
		ms := planMounts(t, func(o *Options) { o.PrivateNetwork = private })
		i := mountIndex(ms, "/proc/sys/net")
		switch {
		case private && (i < 0 || !ms[i].Writable || i < mountIndex(ms, "/proc/sys")):
			t.Errorf("private network: /proc/sys/net is not made writable after /proc/sys: %q", mountTargets(ms))
		case !private && i >= 0:
			t.Errorf("host network: /proc/sys/net is mounted writable")
		}
	}
}
