package systemd

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseListen(t *testing.T) {
	long := "/" + strings.Repeat("p", 106)
	tests := []struct {
		spec    string
		want    Listen
		wantErr string
	}{
		{spec: "8080", want: Listen{"sockspawn", unix.SOCK_STREAM, unix.AF_INET6, "[::]:8080"}},
		{spec: "web=8080", want: Listen{"web", unix.SOCK_STREAM, unix.AF_INET6, "[::]:8080"}},
		{spec: "datagram:53", want: Listen{"sockspawn", unix.SOCK_DGRAM, unix.AF_INET6, "[::]:53"}},
		{spec: "dns=datagram:1.2.3.4:53", want: Listen{"dns", unix.SOCK_DGRAM, unix.AF_INET, "1.2.3.4:53"}},
		{spec: "1.2.3.4:80", want: Listen{"sockspawn", unix.SOCK_STREAM, unix.AF_INET, "1.2.3.4:80"}},
		{spec: "1.2.3.4:080", want: Listen{"sockspawn", unix.SOCK_STREAM, unix.AF_INET, "1.2.3.4:80"}},
		{spec: "[::1]:80", want: Listen{"sockspawn", unix.SOCK_STREAM, unix.AF_INET6, "[::1]:80"}},
		{spec: "stream:[::]:80", want: Listen{"sockspawn", unix.SOCK_STREAM, unix.AF_INET6, "[::]:80"}},
		{spec: "[::ffff:1.2.3.4]:80", want: Listen{"sockspawn", unix.SOCK_STREAM, unix.AF_INET6, "[::ffff:1.2.3.4]:80"}},
		{spec: "/run/web.sock", want: Listen{"sockspawn", unix.SOCK_STREAM, unix.AF_UNIX, "/run/web.sock"}},
		{spec: "/run/a=b.sock", want: Listen{"sockspawn", unix.SOCK_STREAM, unix.AF_UNIX, "/run/a=b.sock"}},
		{spec: "seqpacket:/run/x", want: Listen{"sockspawn", unix.SOCK_SEQPACKET, unix.AF_UNIX, "/run/x"}},
		{spec: "ctl=seqpacket:@ctl=1", want: Listen{"ctl", unix.SOCK_SEQPACKET, unix.AF_UNIX, "@ctl=1"}},
		{spec: "@web", want: Listen{"sockspawn", unix.SOCK_STREAM, unix.AF_UNIX, "@web"}},
		{spec: "my name=@web", want: Listen{"my name", unix.SOCK_STREAM, unix.AF_UNIX, "@web"}},
		{spec: long, want: Listen{"sockspawn", unix.SOCK_STREAM, unix.AF_UNIX, long}},
		{spec: "65535", want: Listen{"sockspawn", unix.SOCK_STREAM, unix.AF_INET6, "[::]:65535"}},
		{spec: "", wantErr: "empty address"},
		{spec: "web=", wantErr: "empty address"},
		{spec: "=80", wantErr: "invalid fd name"},
		{spec: "a\x01=80", wantErr: "invalid fd name"},
		{spec: "0", wantErr: "between 1 and 65535"},
		{spec: "65536", wantErr: "between 1 and 65535"},
		{spec: "80a", wantErr: "between 1 and 65535"},
		{spec: "1.2.3.4:0", wantErr: "port 0"},
		{spec: "1.2.3.4", wantErr: "not a port"},
		{spec: "::1:80", wantErr: "not a port"},
		{spec: "[1.2.3.4]:80", wantErr: "not a port"},
		{spec: "[fe80::1%eth0]:80", wantErr: "zones"},
		{spec: "localhost:80", wantErr: "not a port"},
		{spec: "run/web.sock", wantErr: "not a port"},
		{spec: "seqpacket:80", wantErr: "must be AF_UNIX"},
		{spec: "@", wantErr: "empty abstract"},
		{spec: "/a\x00b", wantErr: "control character"},
		{spec: long + "p", wantErr: "longer than"},
		{spec: "vsock:2:80", wantErr: "not a port"},
		{spec: "/run/../web.sock", wantErr: `not normalized (did you mean "/web.sock"?)`},
		{spec: "/run/web.sock/", wantErr: "not normalized"},
		{spec: "/run/we\tb", wantErr: "control character"},
		{spec: "@a\nb", wantErr: "control character"},
		{spec: "web=\x7f80", wantErr: "control character"},
		{spec: "seqpacket:[::1]:80", wantErr: "must be AF_UNIX"},
		{spec: "[::1]:80%lo", wantErr: "not a port"},
		{spec: "[::1]", wantErr: "not a port"},
		{spec: "1.2.3.4:65536", wantErr: "not a port"},
		{spec: "/run/with space.sock", want: Listen{"sockspawn", unix.SOCK_STREAM, unix.AF_UNIX, "/run/with space.sock"}},
		{spec: "web=datagram:@dns", want: Listen{"web", unix.SOCK_DGRAM, unix.AF_UNIX, "@dns"}},
		{spec: "080", want: Listen{"sockspawn", unix.SOCK_STREAM, unix.AF_INET6, "[::]:80"}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseListen(tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestListenString(t *testing.T) {
	tests := []struct {
		spec Listen
		want string
	}{
		{Listen{"web", unix.SOCK_STREAM, unix.AF_INET6, "[::]:80"}, "web=stream:[::]:80"},
		{Listen{"dns", unix.SOCK_DGRAM, unix.AF_INET, "1.2.3.4:53"}, "dns=datagram:1.2.3.4:53"},
		{Listen{"ctl", unix.SOCK_SEQPACKET, unix.AF_UNIX, "/run/ctl"}, "ctl=seqpacket:/run/ctl"},
	}
	for _, tt := range tests {
		if got := tt.spec.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

// FuzzParseListen parses, writes the result back with String and
// parses again: both parses must agree.
func FuzzParseListen(f *testing.F) {
	for _, s := range []string{"8080", "web=8080", "datagram:1.2.3.4:53", "[::1]:80", "/run/a=b",
		"x=seqpacket:@abs", "[fe80::1%lo]:1", "=1", "1.2.3.4:0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		ls, err := ParseListen(spec)
		if err != nil {
			return
		}
		if !FDNameValid(ls.Name) || ls.Name == "" {
			t.Fatalf("%q: invalid name %q accepted", spec, ls.Name)
		}
		again, err := ParseListen(ls.String())
		if err != nil {
			t.Fatalf("%q: String() = %q does not parse: %v", spec, ls.String(), err)
		}
		if again != ls {
			t.Fatalf("%q: %+v became %+v through %q", spec, ls, again, ls.String())
		}
	})
}
