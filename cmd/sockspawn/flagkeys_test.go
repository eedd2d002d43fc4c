package main

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sockspawn/sockspawn/units"
)

// viaFlag and viaKey set one value the two ways a user can: on the command
// line, and as KEY=VALUE in NAME.conf.
func viaFlag(o option, v string) (units.Config, error) {
	arg := "--" + o.Flag
	if o.Arg != units.NoArg {
		arg += "=" + v
	}
	pa, err := parseRunArgs([]string{arg})
	return pa.Config, err
}

func viaKey(o option, v string) (units.Config, error) {
	c, _, err := units.ParseConfigFile("f", strings.NewReader("[Container]\n"+o.Key+"="+v+"\n"))
	return c, err
}

// reason is what an error says is wrong, without the flag, the key or the
// file's name and line, which differ.
func reason(err error, key string) string {
	var ve *units.ValueError
	if errors.As(err, &ve) {
		return ve.Err.Error()
	}
	return strings.TrimPrefix(err.Error(), "f:2: "+key+"=: ")
}

// sameParse checks that the flag and the key agree on v: both accept it and
// set the same Config, or both refuse it for the same reason.
func sameParse(t *testing.T, o option, flagValue, keyValue string) (units.Config, error) {
	t.Helper()
	fc, ferr := viaFlag(o, flagValue)
	kc, kerr := viaKey(o, keyValue)
	switch {
	case (ferr == nil) != (kerr == nil):
		t.Errorf("--%s=%q: %v, but %s=%q: %v", o.Flag, flagValue, ferr, o.Key, keyValue, kerr)
	case ferr != nil && reason(ferr, o.Key) != reason(kerr, o.Key):
		t.Errorf("--%s=%q and %s=%q are refused for different reasons:\n  %v\n  %v", o.Flag, flagValue, o.Key, keyValue, ferr, kerr)
	case ferr == nil && !reflect.DeepEqual(fc, kc):
		t.Errorf("--%s=%q sets %+v, but %s=%q sets %+v", o.Flag, flagValue, fc, o.Key, keyValue, kc)
	}
	return fc, ferr
}

// TestListenFlagAndKey: --listen and Listen= accept exactly the same
// inputs, every form ListenStream= has with sockspawn's prefixes, and keep
// them as given (the supervisor parses them again when it binds).
func TestListenFlagAndKey(t *testing.T) {
	var listen option
	for _, o := range options() {
		if o.Flag == "listen" {
			listen = o
		}
	}
	long := "/run/" + strings.Repeat("s", 102)
	tests := []struct{ in, wantErr string }{
		{"8080", ""},           // a port, on every address
		{"65535", ""},          // the highest
		{"080", ""},            // leading zeros, as systemd reads them
		{"127.0.0.1:8080", ""}, // HOST:PORT
		{"0.0.0.0:1", ""},      // every IPv4 address
		{"[::1]:443", ""},      // [IPv6]:PORT
		{"[::]:80", ""},        // every IPv6 address
		{"[::ffff:1.2.3.4]:80", ""},
		{"/run/web.sock", ""}, // AF_UNIX
		{"/run/a=b.sock", ""}, // '=' in a path is no name
		{long, ""},            // 107 bytes, sun_path's limit
		{"@web", ""},          // abstract AF_UNIX
		{"web=8080", ""},      // NAME= prefix
		{"my name=@web", ""},  // fd names may hold spaces
		{"stream:8080", ""},   // type prefixes
		{"datagram:53", ""},
		{"dns=datagram:127.0.0.1:53", ""},
		{"seqpacket:/run/ctl", ""},
		{"ctl=seqpacket:@ctl", ""},
		{"0", "between 1 and 65535"},
		{"65536", "between 1 and 65535"},
		{"80a", "between 1 and 65535"},
		{"1.2.3.4:0", "port 0"},
		{"1.2.3.4", "not a port"},
		{"::1:80", "not a port"},       // IPv6 without brackets
		{"[1.2.3.4]:80", "not a port"}, // IPv4 in brackets
		{"[fe80::1%lo]:80", "zones"},   // interface zones
		{"localhost:80", "not a port"}, // host names
		{"vsock:2:80", "not a port"},   // vsock
		{"run/web.sock", "not a port"}, // relative path
		{"/run/../web.sock", "not normalized"},
		{long + "s", "longer than 107"},
		{"@", "empty abstract"},
		{"web=", "empty address"},
		{"=80", "invalid fd name"},
		{"a:b=80", "not a port"}, // ':' makes it no name
		{"seqpacket:8080", "must be AF_UNIX"},
	}
	for _, tt := range tests {
		c, err := sameParse(t, listen, tt.in, tt.in)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("--listen=%q: %v", tt.in, err)
		case tt.wantErr == "" && !reflect.DeepEqual(c.Listen, []string{tt.in}):
			t.Errorf("--listen=%q: Listen = %q, want it as given", tt.in, c.Listen)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("--listen=%q: error %v, want one mentioning %q", tt.in, err, tt.wantErr)
		}
	}
}

// TestEveryFlagHasItsKey: every option of `sockspawn run` but -M and -q has
// a key in NAME.conf, and both parse every sample value alike: the same
// Config, or the same reason to refuse.
func TestEveryFlagHasItsKey(t *testing.T) {
	// Flags without a value stand for one value of their key.
	noArgValue := map[string]string{
		"boot": "yes", "as-pid2": "yes", "pipe": "pipe", "private-network": "yes", "network-veth": "yes",
	}
	// Values accepted and refused, for each flag with a value. Leading and
	// trailing whitespace and control characters are left out: the file's
	// syntax trims the one and refuses the other before any key's parser.
	// So is the empty value, which resets a key to its default.
	samples := map[string][]string{
		"directory":              {"/srv/web", "/srv/../x", "/srv/", "/"}, // relative: TestDirectoryFlagRelative
		"hostname":               {"web", "web.lan", "a_b", "-x", strings.Repeat("a", 65)},
		"uuid":                   {"0123abcd456789ef0123456789abcdef", "0123abcd-4567-89ef-0123-456789abcdef", "xyz", "00000000000000000000000000000000"},
		"volatile":               {"yes", "no", "state", "true", "0", "overlay", "maybe"},
		"timezone":               {"auto", "symlink", "off", "copy", "x"},
		"setenv":                 {"A=1", "PATH=/bin:/usr/bin", "_x=", "1A=x", "A B=x", "NOEQ"},
		"notify-ready":           {"yes", "no", "on", "maybe"},
		"bind":                   {"/a", "/a:/b", "/a:/b:norbind", "/a\\:b:/c", "x", "/a:b", "/a:/b:ro"},
		"bind-ro":                {"/a", "/a:/b:rbind", "/a:b"},
		"private-users":          {"no", "yes", "pick", "identity", "65536", "65536:65536", "x", "0:1:2"},
		"bind-user":              {"alice", "root", "Bad Name"},
		"capability":             {"CAP_SYS_TIME", "sys_time", "CAP_NET_ADMIN,CAP_SYS_PTRACE", "all", "CAP_NOPE"},
		"drop-capability":        {"sys_boot", "CAP_SYS_ADMIN", "CAP_NOPE"},
		"set-credential":         {"a:b", `k:\x00\n`, "nocolon", "a/b:x", `k:\q`},
		"load-credential":        {"c:/d", "c:other", "id:", "c:rel/path"},
		"ttys":                   {"0", "2", "99", "-1", "x"},
		"console":                {"interactive", "read-only", "passive", "pipe", "tty"},
		"listen":                 {"8080", "web=datagram:[::1]:53", "99999"}, // all of them: TestListenFlagAndKey
		"idle-action":            {"freeze", "poweroff", "ignore", "suspend"},
		"idle-action-sec":        {"5min", "30s", "1h 2min", "0", "infinity", "5 parsecs"},
		"network-bridge":         {"br0", "br 0", strings.Repeat("b", 16)},
		"network-zone":           {"web", "a/b", strings.Repeat("z", 15)},
		"network-namespace-path": {"/run/netns/x", "netns", "/run/../x"},
		"port":                   {"80", "tcp:80:8080", "udp:53:5353", "0", "sctp:1", "80:"},
		"register":               {"yes", "no", "maybe"},
		"link-journal":           {"no", "host", "try-host", "guest", "try-guest", "auto", "x"},
		"settings":               {"yes", "no", "trusted", "override", "x"},
	}
	for _, o := range options() {
		switch {
		case o.Flag == "help" || o.Flag == "version":
			continue
		case o.Key == "":
			if o.Flag != "machine" && o.Flag != "quiet" {
				t.Errorf("--%s has no key in NAME.conf", o.Flag)
			}
			continue
		}
		if o.Arg == units.NoArg {
			v, ok := noArgValue[o.Flag]
			if !ok {
				t.Errorf("--%s: no value of %s= to compare with", o.Flag, o.Key)
				continue
			}
			if _, err := sameParse(t, o, "", v); err != nil {
				t.Errorf("--%s: %v", o.Flag, err)
			}
			continue
		}
		vs, ok := samples[o.Flag]
		if !ok || len(vs) < 2 {
			t.Errorf("--%s: no sample values", o.Flag)
			continue
		}
		accepted := 0
		for _, v := range vs {
			if _, err := sameParse(t, o, v, v); err == nil {
				accepted++
			}
		}
		if accepted == 0 || accepted == len(vs) {
			t.Errorf("--%s: %d of %d samples accepted; give both good and bad ones", o.Flag, accepted, len(vs))
		}
	}
}

// TestDirectoryFlagRelative: -D takes a relative path from the current
// directory, as systemd-nspawn does; Directory= has no current directory
// to go by and refuses one.
func TestDirectoryFlagRelative(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	pa, err := parseRunArgs([]string{"-D", "img/../image"})
	if err != nil || pa.Config.Directory != filepath.Join(dir, "image") {
		t.Errorf("-D img/../image in %s: %q, %v", dir, pa.Config.Directory, err)
	}
	if _, err := parseRunArgs([]string{"--directory="}); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("--directory=: %v, want an error about the empty path", err)
	}
}
