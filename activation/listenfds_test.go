package activation

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

func TestParseListenEnv(t *testing.T) {
	const me = 4242
	tests := []struct {
		name              string
		pid, fds, fdNames string
		wantN             int
		wantNames         []string
		wantErr           string // substring; "" means no error
	}{
		{name: "unset", wantN: 0},
		{name: "other pid", pid: "1", fds: "2", wantN: 0},
		{name: "other pid ignores bad fds", pid: "1", fds: "junk", wantN: 0},
		{name: "ours no names", pid: "4242", fds: "2", wantN: 2, wantNames: []string{"unknown", "unknown"}},
		{name: "ours with names", pid: "4242", fds: "2", fdNames: "web:admin", wantN: 2, wantNames: []string{"web", "admin"}},
		{name: "empty names allowed", pid: "4242", fds: "2", fdNames: ":x", wantN: 2, wantNames: []string{"", "x"}},
		{name: "zero", pid: "4242", fds: "0", wantN: 0},
		{name: "fds unset", pid: "4242", wantN: 0},
		{name: "max", pid: "4242", fds: "1024", wantN: 1024},
		{name: "absurd", pid: "4242", fds: "1025", wantErr: "LISTEN_FDS"},
		{name: "huge", pid: "4242", fds: "99999999999999999999999", wantErr: "LISTEN_FDS"},
		{name: "negative", pid: "4242", fds: "-1", wantErr: "LISTEN_FDS"},
		{name: "plus sign", pid: "4242", fds: "+1", wantErr: "LISTEN_FDS"},
		{name: "space", pid: "4242", fds: " 1", wantErr: "LISTEN_FDS"},
		{name: "hex", pid: "4242", fds: "0x1", wantErr: "LISTEN_FDS"},
		{name: "bad pid", pid: "abc", fds: "1", wantErr: "LISTEN_PID"},
		{name: "zero pid", pid: "0", fds: "1", wantErr: "LISTEN_PID"},
		{name: "too few names", pid: "4242", fds: "2", fdNames: "web", wantErr: "LISTEN_FDNAMES"},
		{name: "too many names", pid: "4242", fds: "1", fdNames: "a:b", wantErr: "LISTEN_FDNAMES"},
		{name: "control char", pid: "4242", fds: "1", fdNames: "a\nb", wantErr: "LISTEN_FDNAMES"},
		{name: "non-ascii", pid: "4242", fds: "1", fdNames: "caf\u00e9", wantErr: "LISTEN_FDNAMES"},
		{name: "del", pid: "4242", fds: "1", fdNames: "a\x7f", wantErr: "LISTEN_FDNAMES"},
		{name: "name 255", pid: "4242", fds: "1", fdNames: strings.Repeat("n", 255), wantN: 1, wantNames: []string{strings.Repeat("n", 255)}},
		{name: "name 256", pid: "4242", fds: "1", fdNames: strings.Repeat("n", 256), wantErr: "LISTEN_FDNAMES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, names, err := ParseListenEnv(tt.pid, tt.fds, tt.fdNames, me)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.wantN {
				t.Errorf("n = %d, want %d", n, tt.wantN)
			}
			if tt.wantNames != nil && !reflect.DeepEqual(names, tt.wantNames) {
				t.Errorf("names = %q, want %q", names, tt.wantNames)
			}
			if len(names) != n {
				t.Errorf("%d names for %d fds", len(names), n)
			}
		})
	}
}

func TestListenEnv(t *testing.T) {
	tests := []struct {
		n     int
		names []string
		want  []string
	}{
		{0, nil, nil},
		{0, []string{}, nil},
		{1, nil, []string{"LISTEN_FDS=1", "LISTEN_PID=1"}},
		{2, []string{"web", "admin"}, []string{"LISTEN_FDS=2", "LISTEN_PID=1", "LISTEN_FDNAMES=web:admin"}},
	}
	for _, tt := range tests {
		if got := ListenEnv(tt.n, tt.names); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ListenEnv(%d, %q) = %q, want %q", tt.n, tt.names, got, tt.want)
		}
	}
}

// FuzzParseListenEnv checks that whatever ParseListenEnv accepts is
// consistent and survives a trip through ListenEnv.
func FuzzParseListenEnv(f *testing.F) {
	f.Add("7", "2", "a:b")
	f.Add("7", "1", "")
	f.Add("8", "1", "x")
	f.Add("7", "3", "::")
	f.Add("7", "1025", "")
	f.Fuzz(func(t *testing.T, pid, fds, fdNames string) {
		n, names, err := ParseListenEnv(pid, fds, fdNames, 7)
		if err != nil {
			return
		}
		if n < 0 || n > MaxListenFDs || len(names) != n {
			t.Fatalf("n = %d with %d names", n, len(names))
		}
		for _, name := range names {
			if !systemd.FDNameValid(name) {
				t.Fatalf("invalid name %q accepted", name)
			}
		}
		if n == 0 {
			return
		}
		env := map[string]string{}
		for _, kv := range ListenEnv(n, names) {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		n2, names2, err := ParseListenEnv(env[EnvListenPID], env[EnvListenFDs], env[EnvListenFDNames], 1)
		if err != nil {
			t.Fatalf("ListenEnv(%d, %q) does not parse: %v", n, names, err)
		}
		// A single empty name reads back as unset.
		if n2 != n || (!reflect.DeepEqual(names2, names) && !(n == 1 && names[0] == "")) {
			t.Fatalf("round trip: %d %q became %d %q", n, names, n2, names2)
		}
	})
}
