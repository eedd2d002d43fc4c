package machine

import (
	"strings"
	"testing"

	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

func TestJudgeUserRange(t *testing.T) {
	host := rangeFacts{
		UIDMap: []byte("0 0 4294967295\n"),
		GIDMap: []byte("0 0 4294967295\n"),
		Passwd: []byte("root:x:0:0::/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\nnobody:x:65534:65534::/:/usr/sbin/nologin\n"),
		Group:  []byte("root:x:0:\nbig:x:3000000:\n"),
		Held:   []payload.HeldRange{{IDMap: payload.IDMap{Base: 524288, Size: 65536}, Machine: "web"}},
		Image:  "/srv/img",
		Owned:  []payload.Owned{{Path: "/", UID: 0, GID: 0}, {Path: "/etc", UID: 0, GID: 0}, {Path: "/home", UID: 1000, GID: 1000}},
	}
	with := func(change func(*rangeFacts)) rangeFacts {
		f := host
		f.Owned = append([]payload.Owned(nil), host.Owned...)
		change(&f)
		return f
	}
	explicit := func(base, size uint32) units.UserRange { return units.UserRange{Enabled: true, Base: base, Size: size} }
	pick := units.UserRange{Enabled: true, Size: 65536}
	cases := []struct {
		name            string
		r               units.UserRange
		f               rangeFacts
		refusal, warned []string // each in the message; nil: no message
	}{
		{name: "off", r: units.UserRange{}, f: with(func(f *rangeFacts) { f.Owned[0].UID = 5000000 })},
		{name: "a free range", r: explicit(1000000, 65536), f: host},
		{name: "the same range as a running machine", r: explicit(524288, 65536), f: host, refusal: []string{"524288:65536", "running machine web"}},
		{name: "one ID of a running machine's", r: explicit(589823, 10), f: host, refusal: []string{"589823:10", "overlaps 524288:65536", "web"}},
		{name: "just after a running machine's", r: explicit(589824, 65536), f: host},
		{name: "a host user", r: explicit(1, 65536), f: host, refusal: []string{"1:65536", "user alice (UID 1000)"}},
		{name: "a host group", r: explicit(3000000, 1), f: host, refusal: []string{"group big (GID 3000000)"}},
		{name: "beyond this namespace's map", r: explicit(70000, 65536), f: with(func(f *rangeFacts) { f.UIDMap = []byte("0 100000 131072\n") }),
			refusal: []string{"70000:65536", "UID 70000..135535", "/proc/self/uid_map"}},
		{name: "beyond its GID map", r: explicit(70000, 65536), f: with(func(f *rangeFacts) { f.GIDMap = []byte("0 100000 65536\n") }),
			refusal: []string{"GID", "/proc/self/gid_map"}},
		// A picked range avoids those by itself; only the image is judged.
		{name: "pick on a busy host", r: pick, f: host},
		{name: "image chowned for another range", r: pick, f: with(func(f *rangeFacts) {
			f.Owned = []payload.Owned{{Path: "/", UID: 1879048192, GID: 1879048192}, {Path: "/etc", UID: 1879048192, GID: 1879048192}}
		}), refusal: []string{"/ of image /srv/img", "1879048192:1879048192", "65536 IDs", "--private-users-ownership=chown"}},
		{name: "one stray path", r: pick, f: with(func(f *rangeFacts) {
			f.Owned = []payload.Owned{{Path: "/", UID: 0, GID: 0}, {Path: "/var/log", UID: 0, GID: 70000}}
		}), warned: []string{"/var/log of image /srv/img", "0:70000", "nobody"}},
		{name: "a small range and a user's home", r: explicit(2000000, 1000), f: host, warned: []string{"/home", "1000:1000", "1000 IDs"}},
		{name: "an empty image", r: pick, f: with(func(f *rangeFacts) { f.Owned = nil })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			refusal, warning := judgeUserRange(c.r, c.f)
			for _, p := range []struct {
				got  string
				want []string
				what string
			}{{refusal, c.refusal, "refusal"}, {warning, c.warned, "warning"}} {
				if (p.got != "") != (p.want != nil) {
					t.Errorf("%s = %q, want one with %q", p.what, p.got, p.want)
				}
				for _, w := range p.want {
					if !strings.Contains(p.got, w) {
						t.Errorf("%s %q does not say %q", p.what, p.got, w)
					}
				}
				if strings.Contains(p.got, "\n") {
					t.Errorf("%s is more than one line: %q", p.what, p.got)
				}
			}
		})
	}
}

// checkUserRange gathers the host's facts and judges them: a picked range
// over an image owned within it passes; a range from UID 1 is refused,
// for the host's users it holds or, on a host without any there, for the
// image's root-owned files outside it. The error names the option.
func TestCheckUserRange(t *testing.T) {
	img := testImage(t)
	d := decision{Image: img}
	if err := checkUserRange(units.Config{}, nil, d); err != nil {
		t.Errorf("no range: %v", err)
	}
	d.Users = units.UserRange{Enabled: true, Size: 65536}
	if err := checkUserRange(units.Config{}, nil, d); err != nil {
		t.Errorf("picked: %v", err)
	}
	d.Users = units.UserRange{Enabled: true, Base: 1, Size: 65536}
	err := checkUserRange(units.Config{}, units.Sources{"PrivateUsers": {"/etc/sockspawn/web.conf:3"}}, d)
	if err == nil || !strings.HasPrefix(err.Error(), "PrivateUsers= (/etc/sockspawn/web.conf:3): ") || !strings.Contains(err.Error(), "range") {
		t.Errorf("range 1:65536: %v", err)
	}
}
