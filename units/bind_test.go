package units

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseBind(t *testing.T) {
	tests := []struct {
		spec     string
		readOnly bool
		want     Bind
		wantErr  string
	}{
		{"/srv", false, Bind{"/srv", "/srv", false, true}, ""},
		{"/srv:/data", false, Bind{"/srv", "/data", false, true}, ""},
		{"/srv:/data", true, Bind{"/srv", "/data", true, true}, ""},
		{"/srv:/data:norbind", false, Bind{"/srv", "/data", false, false}, ""},
		{"/srv:/data:rbind", false, Bind{"/srv", "/data", false, true}, ""},
		{"/srv:/data:norbind,rbind", false, Bind{"/srv", "/data", false, true}, ""},
		{"/srv::norbind", false, Bind{"/srv", "/srv", false, false}, ""},
		{"/srv:", false, Bind{"/srv", "/srv", false, true}, ""},
		{`/a\:b:/c\\d`, false, Bind{"/a:b", `/c\d`, false, true}, ""},
		{`/a\xb`, false, Bind{"/axb", "/axb", false, true}, ""},
		{"x", false, Bind{}, `invalid --bind "x": source "x" is not an absolute path`},
		{"x", true, Bind{}, `invalid --bind-ro "x": source "x" is not an absolute path`},
		{"", false, Bind{}, "empty"},
		{":/data", false, Bind{}, "empty source"},
		{"+/usr:/x", false, Bind{}, `paths relative to the image root ("+") are not supported`},
		{"/srv:data", false, Bind{}, `target "data" is not an absolute path`},
		{"/srv/../etc", false, Bind{}, `source "/srv/../etc" is not normalized (did you mean "/etc"?)`},
		{"/srv:/data/", false, Bind{}, "not normalized"},
		{"/srv:/data:idmap", false, Bind{}, `option "idmap" is not supported`},
		{"/srv:/data:owneridmap", false, Bind{}, "not supported"},
		{"/srv:/data:ro", false, Bind{}, `"ro" is not a bind option: use --bind-ro`},
		{"/srv:/data:bogus", false, Bind{}, `unknown option "bogus" (use rbind or norbind)`},
		{`/srv\`, false, Bind{}, "lone backslash"},
		{"/srv:/data:rbind:x", false, Bind{}, `unknown option "rbind:x"`},
		{"/a\n:/b", false, Bind{}, "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseBind(tt.spec, tt.readOnly)
			checkErr(t, err, tt.wantErr)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseBind(%q) = %+v, want %+v", tt.spec, got, tt.want)
			}
		})
	}
}

func TestFormatBind(t *testing.T) {
	tests := []struct {
		b    Bind
		want string
	}{
		{Bind{"/srv", "/srv", false, true}, "/srv"},
		{Bind{"/srv", "/data", true, true}, "/srv:/data"},
		{Bind{"/srv", "/srv", false, false}, "/srv:/srv:norbind"},
		{Bind{"/a:b", `/c\d`, false, true}, `/a\:b:/c\\d`},
		{Bind{"/sp ", "/sp ", false, true}, "/sp ::rbind"},
		{Bind{"/a", "/sp ", false, true}, "/a:/sp :rbind"},
	}
	for _, tt := range tests {
		if got := FormatBind(tt.b); got != tt.want {
			t.Errorf("FormatBind(%+v) = %q, want %q", tt.b, got, tt.want)
		}
	}
}

func FuzzParseBind(f *testing.F) {
	for _, s := range []string{"/srv", "/a:/b", "/a:/b:norbind", `/a\:b:/c`, "+/x", "x", "/a::rbind,norbind"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, spec string, readOnly bool) {
		b, err := ParseBind(spec, readOnly)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "invalid --bind") {
				t.Fatalf("error %q does not name the flag", err)
			}
			return
		}
		if b.ReadOnly != readOnly {
			t.Fatalf("ParseBind(%q, %v).ReadOnly = %v", spec, readOnly, b.ReadOnly)
		}
		s := FormatBind(b)
		b2, err := ParseBind(s, readOnly)
		if strings.TrimSpace(s) != s {
			t.Fatalf("FormatBind(%+v) = %q: a unit file would trim it", b, s)
		}
		if err != nil || b2 != b {
			t.Fatalf("ParseBind(%q) = %+v; FormatBind = %q; parsed again: %+v, %v", spec, b, s, b2, err)
		}
	})
}
