package payload

import "testing"

func TestRangeCollision(t *testing.T) {
	held := []HeldRange{
		{IDMap{Base: 524288, Size: 65536}, "web"},
		{IDMap{Base: 1000000, Size: 10}, "db"},
	}
	cases := []struct {
		want IDMap
		hit  string // the machine named, "" for none
	}{
		{IDMap{Base: 524288, Size: 65536}, "web"},
		{IDMap{Base: 524288 + 65535, Size: 1}, "web"},          // the last ID
		{IDMap{Base: 524288 + 65536, Size: 65536}, ""},         // right after
		{IDMap{Base: 524288 - 10, Size: 10}, ""},               // right before
		{IDMap{Base: 524288 - 10, Size: 11}, "web"},            // one ID in
		{IDMap{Base: 458752, Size: 200000}, "web"},             // around it
		{IDMap{Base: 1000009, Size: 5}, "db"},                  // a small range's last ID
		{IDMap{Base: 1000010, Size: 4294967295 - 1000010}, ""}, // up to 2^32-1
		{IDMap{Base: 1, Size: 4294967294}, "web"},
	}
	for _, c := range cases {
		h, ok := RangeCollision(c.want, held)
		if got := map[bool]string{true: h.Machine}[ok]; got != c.hit {
			t.Errorf("RangeCollision(%s) = %q, want %q", c.want, got, c.hit)
		}
	}
}

func TestReservationRoundTrip(t *testing.T) {
	h := HeldRange{IDMap{Base: 1879048192, Size: 65536}, "web-1"}
	got, ok := parseReservation("1879048192", []byte(formatReservation(h)))
	if !ok || got != h {
		t.Errorf("parseReservation(formatReservation(%v)) = %v, %v", h, got, ok)
	}
	// An older sockspawn's empty file: 65536 from its base, unnamed.
	got, ok = parseReservation("524288", nil)
	if !ok || got.Base != 524288 || got.Size != 65536 || got.Machine == "" {
		t.Errorf("parseReservation of an empty file = %v, %v", got, ok)
	}
	// A file whose text disagrees with its name is read by its name.
	got, _ = parseReservation("524288", []byte("1 5 x\n"))
	if got.Base != 524288 || got.Size != 65536 {
		t.Errorf("parseReservation of a mismatched file = %v", got)
	}
	if _, ok := parseReservation("lock", nil); ok {
		t.Errorf("parseReservation accepts a file not named after a base")
	}
}

func FuzzParseReservation(f *testing.F) {
	f.Add("524288", "524288 65536 web\n")
	f.Add("1", "")
	f.Fuzz(func(t *testing.T, name, text string) {
		h, ok := parseReservation(name, []byte(text))
		if !ok {
			return
		}
		if h.Size == 0 || h.Machine == "" {
			t.Fatalf("parseReservation(%q, %q) = %v", name, text, h)
		}
		if again, _ := parseReservation(name, []byte(formatReservation(h))); again != h {
			t.Fatalf("round trip of %v gives %v", h, again)
		}
	})
}

func TestFirstHostID(t *testing.T) {
	passwd := []byte("root:x:0:0::/root:/bin/bash\n# comment:x:5:\nalice:x:1000:1000::/home/alice:/bin/bash\nnobody:x:65534:65534::/:/usr/sbin/nologin\n")
	group := []byte("root:x:0:\nstaff:x:50:\nalice:x:1000:\nbig:x:700000:\n")
	cases := []struct {
		m    IDMap
		want string
	}{
		{IDMap{Base: 524288, Size: 65536}, ""},
		{IDMap{Base: 1000, Size: 1}, "user alice (UID 1000)"},
		{IDMap{Base: 1, Size: 999}, "group staff (GID 50)"}, // the comment line is no user
		{IDMap{Base: 1001, Size: 65536}, "user nobody (UID 65534)"},
		{IDMap{Base: 655360, Size: 65536}, "group big (GID 700000)"},
	}
	for _, c := range cases {
		h, ok := FirstHostID(c.m, passwd, group)
		if got := map[bool]string{true: h.String()}[ok]; got != c.want {
			t.Errorf("FirstHostID(%s) = %q, want %q", c.m, got, c.want)
		}
	}
}

func TestMappable(t *testing.T) {
	const initial = "         0          0 4294967295\n"
	const nested = "0 1000000 65536\n"
	const split = "0 0 1000\n1000 5000 1000\n"
	cases := []struct {
		m       IDMap
		procMap string
		want    bool
	}{
		{IDMap{Base: 524288, Size: 65536}, initial, true},
		{IDMap{Base: 4294967294 - 65535, Size: 65536}, initial, true},
		{IDMap{Base: 4294967295 - 65535, Size: 65536}, initial, false}, // -1 is never mapped
		{IDMap{Base: 1, Size: 65535}, nested, true},
		{IDMap{Base: 1, Size: 65536}, nested, false},
		{IDMap{Base: 65536, Size: 1}, nested, false},
		{IDMap{Base: 500, Size: 1500}, split, true}, // across two lines
		{IDMap{Base: 500, Size: 1501}, split, false},
		{IDMap{Base: 1, Size: 1}, "", false},
	}
	for _, c := range cases {
		if got := Mappable(c.m, []byte(c.procMap)); got != c.want {
			t.Errorf("Mappable(%s, %q) = %v, want %v", c.m, c.procMap, got, c.want)
		}
	}
}
