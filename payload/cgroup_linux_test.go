package payload

import (
	"path"
	"strings"
	"testing"
)

func TestOwnCgroup(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{
			name: "pure cgroup2",
			in:   "0::/system.slice/container@web.service\n",
			want: "/system.slice/container@web.service",
		},
		{
			name: "hybrid",
			in: `12:pids:/system.slice/container@web.service
11:memory:/system.slice/container@web.service
10:cpu,cpuacct:/system.slice/container@web.service
4:devices:/system.slice/container@web.service
1:name=systemd:/system.slice/container@web.service
0::/system.slice/container@web.service
`,
			want: "/system.slice/container@web.service",
		},
		{
			name: "hybrid with 0:: first",
			in:   "0::/user.slice/user-1000.slice/session-2.scope\n1:name=systemd:/user.slice\n",
			want: "/user.slice/user-1000.slice/session-2.scope",
		},
		{name: "root", in: "0::/\n", want: "/"},
		{name: "no final newline", in: "0::/a.slice/b.scope", want: "/a.slice/b.scope"},
		{name: "trailing slash cleaned", in: "0::/a.slice/\n", want: "/a.slice"},
		{name: "colons in the path", in: "0::/machine.slice/x:y.scope\n", want: "/machine.slice/x:y.scope"},
		{name: "10:: is not 0::", in: "10::/v1\n0::/v2\n", want: "/v2"},
		{name: "cgroup v1 only", in: "1:name=systemd:/system.slice\n2:cpu:/\n", wantErr: true},
		{name: "empty", in: "", wantErr: true},
		{name: "relative path", in: "0::system.slice\n", wantErr: true},
		{name: "empty path", in: "0::\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OwnCgroup([]byte(tt.in))
			if tt.wantErr {
				if err == nil {
					t.Errorf("OwnCgroup(%q) = %q, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("OwnCgroup(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// In a cgroup namespace whose root is not an ancestor of the process's
// cgroup (sockspawn started by setns, or moved out of its namespace's
// subtree), the kernel shows the path relative to the namespace root with
// leading ".." components, e.g. "0::/../sibling.scope". Cleaning that
// absolute path turns it into "/sibling.scope", a different cgroup (one the
// supervisor would then create, move itself into, or mistake for a
// delegated one); it must be refused.
func TestOwnCgroupOutsideNamespaceRoot(t *testing.T) {
	for _, in := range []string{"0::/../sibling.scope\n", "0::/../../system.slice/x.service\n", "0::/..\n"} {
		if got, err := OwnCgroup([]byte(in)); err == nil {
			t.Errorf("OwnCgroup(%q) = %q; want an error (the cgroup is outside our cgroup namespace)", in, got)
		}
	}
}

func FuzzOwnCgroup(f *testing.F) {
	f.Add([]byte("0::/system.slice/container@web.service\n"))
	f.Add([]byte("12:pids:/a\n1:name=systemd:/a\n0::/a\n"))
	f.Add([]byte("0::/\n"))
	f.Add([]byte("0::rel\n"))
	f.Add([]byte("0::/a/../b\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := OwnCgroup(b)
		if err != nil {
			if p != "" {
				t.Errorf("OwnCgroup(%q) = %q with error %v", b, p, err)
			}
			return
		}
		if !path.IsAbs(p) || path.Clean(p) != p || strings.ContainsAny(p, "\n") {
			t.Fatalf("OwnCgroup(%q) = %q: not a clean absolute path on one line", b, p)
		}
		// Round trip: a pure cgroup2 file with the result gives it back.
		if again, err := OwnCgroup([]byte("0::" + p + "\n")); err != nil || again != p {
			t.Errorf("OwnCgroup(0::%s) = %q, %v", p, again, err)
		}
		// The payload's cgroup is always below our own.
		for _, delegated := range []bool{false, true} {
			pc, sc := PayloadCgroup(p, "web", delegated)
			if !below(pc, p) || (delegated && !below(sc, p)) {
				t.Errorf("PayloadCgroup(%q, web, %v) = %q, %q: not below it", p, delegated, pc, sc)
			}
		}
	})
}

// below reports whether p is a strict descendant of dir.
func below(p, dir string) bool {
	if dir == "/" {
		return p != "/" && strings.HasPrefix(p, "/")
	}
	return strings.HasPrefix(p, dir+"/")
}

func TestPayloadCgroup(t *testing.T) {
	tests := []struct {
		own, machine   string
		delegated      bool
		wantPayload    string
		wantSupervisor string
	}{
		{"/system.slice/container@web.service", "web", true,
			"/system.slice/container@web.service/payload", "/system.slice/container@web.service/supervisor"},
		{"/user.slice/user-1000.slice/session-2.scope", "web", false,
			"/user.slice/user-1000.slice/session-2.scope/sockspawn-web", ""},
		{"/", "db", false, "/sockspawn-db", ""},
		{"/", "db", true, "/payload", "/supervisor"},
		{"/a.scope", "web.example.com", false, "/a.scope/sockspawn-web.example.com", ""},
	}
	for _, tt := range tests {
		p, s := PayloadCgroup(tt.own, tt.machine, tt.delegated)
		if p != tt.wantPayload || s != tt.wantSupervisor {
			t.Errorf("PayloadCgroup(%q, %q, %v) = %q, %q; want %q, %q",
				tt.own, tt.machine, tt.delegated, p, s, tt.wantPayload, tt.wantSupervisor)
		}
	}
}
