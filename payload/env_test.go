package payload

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

const fedoraOSRelease = `NAME="Fedora Linux"
VERSION="40 (Container Image)"
ID=fedora
VERSION_ID=40
VARIANT_ID=container
PRETTY_NAME="Fedora Linux 40 (Container Image)"
BUILD_ID='2024.05'
IMAGE_ID=""
`

// envMap turns an environment block into a map, failing on duplicate keys.
func envMap(t *testing.T, env []string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Errorf("entry %q has no '='", kv)
		}
		if _, dup := m[k]; dup {
			t.Errorf("key %s appears twice in %q", k, env)
		}
		m[k] = v
	}
	return m
}

func TestEnvironment(t *testing.T) {
	const uuid = "0123abcd-0000-4000-8000-000000000001"
	tests := []struct {
		name   string
		in     EnvInput
		want   map[string]string // keys that must have these values
		absent []string          // keys that must not be set
	}{
		{
			name: "minimal",
			in:   EnvInput{UUID: uuid},
			want: map[string]string{
				"container":      "sockspawn",
				"container_uuid": uuid,
				"NOTIFY_SOCKET":  "/run/host/notify",
				"PATH":           DefaultPath,
				"TERM":           "vt220",
				"HOME":           "/root",
				"USER":           "root",
				"LOGNAME":        "root",
			},
			absent: []string{"CREDENTIALS_DIRECTORY", "LISTEN_FDS", "LISTEN_PID", "container_ttys", "container_host_id"},
		},
		{
			name: "host os-release",
			in:   EnvInput{UUID: uuid, OSRelease: []byte(fedoraOSRelease)},
			want: map[string]string{
				"container_host_id":         "fedora",
				"container_host_version_id": "40",
				"container_host_variant_id": "container",
				"container_host_build_id":   "2024.05",
			},
			// Only ID fields, and an empty one is left out.
			absent: []string{"container_host_image_id", "container_host_name", "container_host_pretty_name", "container_host_version"},
		},
		{
			name: "image fields",
			in:   EnvInput{OSRelease: []byte("ID=gnomeos\nIMAGE_ID=gnome-os\nIMAGE_VERSION=47.1\n")},
			want: map[string]string{
				"container_host_id":            "gnomeos",
				"container_host_image_id":      "gnome-os",
				"container_host_image_version": "47.1",
			},
		},
		{
			name:   "credentials",
			in:     EnvInput{Credentials: true},
			want:   map[string]string{"CREDENTIALS_DIRECTORY": "/run/host/credentials"},
			absent: nil,
		},
		{
			name: "listen and term",
			in: EnvInput{
				Term:   "xterm-256color",
				TTYs:   []string{"pts/0", "pts/1"},
				Listen: []string{"LISTEN_FDS=2", "LISTEN_PID=1", "LISTEN_FDNAMES=web:admin"},
			},
			want: map[string]string{
				"TERM":           "xterm-256color",
				"container_ttys": "pts/0 pts/1",
				"LISTEN_FDS":     "2",
				"LISTEN_PID":     "1",
				"LISTEN_FDNAMES": "web:admin",
			},
		},
		{
			name: "setenv wins",
			in: EnvInput{
				UUID: uuid,
				User: []string{"TERM=dumb", "PATH=/bin", "container=other", "FOO=bar", "FOO=baz"},
			},
			want: map[string]string{"TERM": "dumb", "PATH": "/bin", "container": "other", "FOO": "baz", "container_uuid": uuid},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := Environment(tt.in)
			m := envMap(t, env)
			for k, v := range tt.want {
				if got, ok := m[k]; !ok || got != v {
					t.Errorf("%s=%q (set: %v), want %q; env %q", k, got, ok, v, env)
				}
			}
			for _, k := range tt.absent {
				if _, ok := m[k]; ok {
					t.Errorf("%s is set: %q", k, env)
				}
			}
		})
	}
}

func TestEnvironmentSetenvOrder(t *testing.T) {
	env := Environment(EnvInput{
		UUID:   "u",
		Listen: []string{"LISTEN_FDS=1"},
		User:   []string{"ZED=1", "TERM=dumb", "ALPHA=2", "LISTEN_FDS=9", "MID=3"},
	})
	// Our keys keep their places (a replaced value stays where ours was);
	// new keys follow in the order given.
	base := Environment(EnvInput{UUID: "u", Listen: []string{"LISTEN_FDS=1"}})
	if len(env) != len(base)+3 {
		t.Fatalf("got %d entries, want %d: %q", len(env), len(base)+3, env)
	}
	for i, kv := range base {
		if envKey(env[i]) != envKey(kv) {
			t.Errorf("entry %d is %q, want key %s", i, env[i], envKey(kv))
		}
	}
	if tail := env[len(base):]; !reflect.DeepEqual(tail, []string{"ZED=1", "ALPHA=2", "MID=3"}) {
		t.Errorf("new entries = %q, want ZED, ALPHA, MID in order", tail)
	}
	m := envMap(t, env)
	if m["TERM"] != "dumb" || m["LISTEN_FDS"] != "9" {
		t.Errorf("--setenv did not win: %q", env)
	}
}

func TestMergeEnv(t *testing.T) {
	tests := []struct {
		base, extra, want []string
	}{
		{nil, nil, nil},
		{[]string{"A=1"}, nil, []string{"A=1"}},
		{nil, []string{"A=1", "A=2"}, []string{"A=2"}},
		{[]string{"A=1", "B=2"}, []string{"B=3", "C=4", "A="}, []string{"A=", "B=3", "C=4"}},
		{[]string{"A=1"}, []string{"A"}, []string{"A"}},
		{[]string{"A=x=y"}, []string{"A=z=w"}, []string{"A=z=w"}},
	}
	for _, tt := range tests {
		base := slices.Clone(tt.base)
		got := mergeEnv(base, tt.extra)
		if !(len(got) == 0 && len(tt.want) == 0) && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("mergeEnv(%q, %q) = %q, want %q", tt.base, tt.extra, got, tt.want)
		}
		if !reflect.DeepEqual(base, tt.base) {
			t.Errorf("mergeEnv changed its base: %q", base)
		}
	}
}

func TestParseOSRelease(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{"empty", "", map[string]string{}},
		{"plain", "ID=fedora\nVERSION_ID=40\n", map[string]string{"ID": "fedora", "VERSION_ID": "40"}},
		{"no final newline", "ID=arch", map[string]string{"ID": "arch"}},
		{"crlf", "ID=fedora\r\nVERSION_ID=40\r\n", map[string]string{"ID": "fedora", "VERSION_ID": "40"}},
		{"double quotes", `NAME="Fedora Linux"`, map[string]string{"NAME": "Fedora Linux"}},
		{"single quotes", `NAME='Fedora Linux'`, map[string]string{"NAME": "Fedora Linux"}},
		{"empty value", "ID=\nIMAGE_ID=\"\"\n", map[string]string{"ID": "", "IMAGE_ID": ""}},
		{"escaped quote", `PRETTY_NAME="Say \"hi\""`, map[string]string{"PRETTY_NAME": `Say "hi"`}},
		{"escaped backslash", `A="back\\slash"`, map[string]string{"A": `back\slash`}},
		{"escaped dollar and backtick", "A=\"\\$HOME \\`x\\`\"", map[string]string{"A": "$HOME `x`"}},
		{"single quotes keep backslashes", `A='a\"b'`, map[string]string{"A": `a\"b`}},
		{"equals in value", `URL="https://x.org/?a=b"`, map[string]string{"URL": "https://x.org/?a=b"}},
		{"spaces inside quotes kept", `A="  x  "`, map[string]string{"A": "  x  "}},
		{"surrounding whitespace", "  ID=fedora  \n\tVERSION_ID=40\t\n", map[string]string{"ID": "fedora", "VERSION_ID": "40"}},
		{"comments", "# ID=comment\n  # indented\nID=real\n", map[string]string{"ID": "real"}},
		{"blank lines", "\n\n  \nID=x\n\n", map[string]string{"ID": "x"}},
		{"later wins", "ID=a\nID=b\n", map[string]string{"ID": "b"}},
		{"malformed lines skipped", "garbage\n=value\nlower=x\nBAD-KEY=x\nSP ACE=x\nID=ok\n", map[string]string{"ID": "ok"}},
		{"mismatched quotes kept as is", `A="x'`, map[string]string{"A": `"x'`}},
		{"lone quote kept", `A="`, map[string]string{"A": `"`}},
		{"digits and underscores in key", "VERSION_CODENAME_2=x\n", map[string]string{"VERSION_CODENAME_2": "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseOSRelease([]byte(tt.in))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseOSRelease(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// Shell semantics, which the os-release specification and systemd's own
// parser (parse_env_file) follow: inside double quotes a backslash only
// escapes ", \, ` and $ and is kept before any other character; outside
// quotes it escapes the next character.
func TestParseOSReleaseShellEscapes(t *testing.T) {
	tests := []struct{ in, want string }{
		{`A="C:\temp"`, `C:\temp`},
		{`A="a\nb"`, `a\nb`},
		{`A=a\ b`, `a b`},
		{`A=\"x\"`, `"x"`},
	}
	for _, tt := range tests {
		if got := ParseOSRelease([]byte(tt.in))["A"]; got != tt.want {
			t.Errorf("ParseOSRelease(%q)[A] = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParseOSRelease(f *testing.F) {
	f.Add([]byte(fedoraOSRelease))
	f.Add([]byte("ID=\"a\\\"b\"\n# c\n=x\nA='q'\r\n"))
	f.Add([]byte(`A="\`))
	f.Add([]byte("A=\"\\\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m := ParseOSRelease(b)
		for k, v := range m {
			if !validOSReleaseKey(k) {
				t.Errorf("invalid key %q", k)
			}
			if strings.ContainsAny(v, "\n") {
				t.Errorf("value of %s spans lines: %q", k, v)
			}
		}
		// Environment never panics on it, and takes only ID fields.
		for _, kv := range Environment(EnvInput{OSRelease: b}) {
			if k, ok := strings.CutPrefix(envKey(kv), "container_host_"); ok {
				if !slices.Contains(hostIDFields, strings.ToUpper(k)) {
					t.Errorf("unexpected %s", kv)
				}
			}
		}
	})
}

// quoteOSRelease writes v as a double-quoted os-release value.
func quoteOSRelease(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if strings.IndexByte("\"\\`$", v[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('"')
	return b.String()
}

// Round trip: any single-line value written quoted with escapes parses back.
func FuzzOSReleaseRoundTrip(f *testing.F) {
	f.Add("fedora", "40")
	f.Add(`a "quoted" \ $x`, "'")
	f.Add("", " spaced ")
	f.Fuzz(func(t *testing.T, id, version string) {
		if strings.ContainsAny(id+version, "\n\r") {
			t.Skip()
		}
		text := "# written by the test\nID=" + quoteOSRelease(id) + "\nVERSION_ID=" + quoteOSRelease(version) + "\n"
		m := ParseOSRelease([]byte(text))
		if m["ID"] != id || m["VERSION_ID"] != version {
			t.Errorf("%q parsed to %q, want ID=%q VERSION_ID=%q", text, m, id, version)
		}
	})
}
