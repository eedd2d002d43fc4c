package main

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sockspawn/sockspawn/internal/systemd"
	"github.com/sockspawn/sockspawn/units"
)

func boolPtr(b bool) *bool { return &b }

func TestParseRunArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    units.Config
		wantSet []string // the Config fields reported as set
	}{
		{
			name: "nothing",
			args: nil,
			want: units.Config{},
		},
		{
			name:    "short with separate value",
			args:    []string{"-D", "/srv/img", "-b"},
			want:    units.Config{Directory: "/srv/img", Boot: true},
			wantSet: []string{"Directory", "Boot"},
		},
		{
			name:    "short with attached value",
			args:    []string{"-D/srv/img"},
			want:    units.Config{Directory: "/srv/img"},
			wantSet: []string{"Directory"},
		},
		{
			name:    "combined flags then attached value",
			args:    []string{"-bD/"},
			want:    units.Config{Directory: "/", Boot: true},
			wantSet: []string{"Boot", "Directory"},
		},
		{
			name: "combined flags then separate value",
			args: []string{"-bqD", "/srv/img", "arg"},
			want: units.Config{Directory: "/srv/img", Boot: true, Quiet: true, Args: []string{"arg"}},
		},
		{
			name: "long with =",
			args: []string{"--directory=/srv/img", "--machine=web", "--hostname=www"},
			want: units.Config{Directory: "/srv/img", Machine: "web", Hostname: "www"},
		},
		{
			name: "long with separate value",
			args: []string{"--directory", "/srv/img", "--machine", "web"},
			want: units.Config{Directory: "/srv/img", Machine: "web"},
		},
		{
			name:    "value containing =",
			args:    []string{"--setenv=A=b=c", "-E", "B=", "--setenv", "C=x y"},
			want:    units.Config{Environment: []string{"A=b=c", "B=", "C=x y"}},
			wantSet: []string{"Environment"},
		},
		{
			name:    "volatile alone means yes",
			args:    []string{"--volatile"},
			want:    units.Config{Volatile: systemd.VolatileYes},
			wantSet: []string{"Volatile"},
		},
		{
			name: "volatile does not take the next argument",
			args: []string{"--volatile", "state"},
			want: units.Config{Volatile: systemd.VolatileYes, Args: []string{"state"}},
		},
		{
			name: "volatile=state",
			args: []string{"--volatile=state"},
			want: units.Config{Volatile: systemd.VolatileState},
		},
		{
			name: "volatile=no and booleans",
			args: []string{"--volatile=yes", "--volatile=false"},
			want: units.Config{Volatile: systemd.VolatileNo},
		},
		{
			name:    "boot and as-pid2 long",
			args:    []string{"--boot", "--as-pid2"},
			want:    units.Config{Boot: true, AsPid2: true},
			wantSet: []string{"Boot", "AsPid2"},
		},
		{
			name: "-a",
			args: []string{"-a"},
			want: units.Config{AsPid2: true},
		},
		{
			name: "binds in order",
			args: []string{"--bind=/a", "--bind-ro", "/b:/c:norbind", "--bind", `/d\:e:/f`},
			want: units.Config{Binds: []units.Bind{
				{Source: "/a", Target: "/a", Recursive: true},
				{Source: "/b", Target: "/c", ReadOnly: true},
				{Source: "/d:e", Target: "/f", Recursive: true},
			}},
			wantSet: []string{"Binds"},
		},
		{
			name: "credentials",
			args: []string{"--set-credential=pw:a\\nb", "--load-credential", "key:/etc/key"},
			want: units.Config{Credentials: []units.Credential{
				{ID: "pw", Data: []byte("a\nb")},
				{ID: "key", Path: "/etc/key"},
			}},
		},
		{
			name: "console",
			args: []string{"--console=passive"},
			want: units.Config{Console: units.ConsolePassive},
		},
		{
			name: "-P is --console=pipe",
			args: []string{"--console=interactive", "-P"},
			want: units.Config{Console: units.ConsolePipe},
		},
		{
			name:    "notify-ready",
			args:    []string{"--notify-ready=no"},
			want:    units.Config{NotifyReady: boolPtr(false)},
			wantSet: []string{"NotifyReady"},
		},
		{
			name: "notify-ready separate",
			args: []string{"--notify-ready", "yes"},
			want: units.Config{NotifyReady: boolPtr(true)},
		},
		{
			name: "uuid and listen",
			args: []string{"--uuid", "0123ABCD456789ef0123456789abcdef", "--listen=8080", "--listen", "web=/run/web.sock"},
			want: units.Config{UUID: "0123abcd-4567-89ef-0123-456789abcdef", Listen: []string{"8080", "web=/run/web.sock"}},
		},
		{
			name: "options end at the first non-option",
			args: []string{"-D", "/img", "/bin/echo", "-b", "--volatile", "--nope"},
			want: units.Config{Directory: "/img", Args: []string{"/bin/echo", "-b", "--volatile", "--nope"}},
		},
		{
			name: "options end at --",
			args: []string{"-D", "/img", "--", "-b", "--", "x"},
			want: units.Config{Directory: "/img", Args: []string{"-b", "--", "x"}},
		},
		{
			name: "-- alone",
			args: []string{"--"},
			want: units.Config{},
		},
		{
			name: "a lone dash is an argument",
			args: []string{"-q", "-", "-b"},
			want: units.Config{Quiet: true, Args: []string{"-", "-b"}},
		},
		{
			name: "empty argument is an argument",
			args: []string{"", "-b"},
			want: units.Config{Args: []string{"", "-b"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pa, err := parseRunArgs(tt.args)
			if err != nil {
				t.Fatalf("parseRunArgs(%q): %v", tt.args, err)
			}
			if !reflect.DeepEqual(pa.Config, tt.want) {
				t.Errorf("parseRunArgs(%q).Config =\n%+v, want\n%+v", tt.args, pa.Config, tt.want)
			}
			if pa.Help || pa.Version {
				t.Errorf("Help=%v Version=%v", pa.Help, pa.Version)
			}
			for _, s := range tt.wantSet {
				if !pa.Set[s] {
					t.Errorf("Set[%q] = false; Set = %v", s, pa.Set)
				}
			}
			if tt.wantSet != nil && len(pa.Set) != len(tt.wantSet) {
				t.Errorf("Set = %v, want exactly %q", pa.Set, tt.wantSet)
			}
			if pa.Set["Args"] != (len(tt.want.Args) > 0) {
				t.Errorf("Set[Args] = %v with Args %q", pa.Set["Args"], pa.Config.Args)
			}
		})
	}
}

func TestParseRunArgsHelpAndVersion(t *testing.T) {
	tests := []struct {
		args          []string
		help, version bool
	}{
		{[]string{"-h"}, true, false},
		{[]string{"--help"}, true, false},
		{[]string{"--version"}, false, true},
		{[]string{"-bh", "--version"}, true, true},
		{[]string{"--", "--help"}, false, false},
		{[]string{"/bin/sh", "--help"}, false, false},
	}
	for _, tt := range tests {
		pa, err := parseRunArgs(tt.args)
		if err != nil {
			t.Errorf("parseRunArgs(%q): %v", tt.args, err)
			continue
		}
		if pa.Help != tt.help || pa.Version != tt.version {
			t.Errorf("parseRunArgs(%q): Help=%v Version=%v, want %v %v", tt.args, pa.Help, pa.Version, tt.help, tt.version)
		}
		if pa.Set["help"] || pa.Set["version"] {
			t.Errorf("parseRunArgs(%q): help/version recorded in Set: %v", tt.args, pa.Set)
		}
	}
	if _, err := parseRunArgs([]string{"--help=yes"}); err == nil {
		t.Error("--help=yes accepted")
	}
}

func TestParseRunArgsErrors(t *testing.T) {
	tests := []struct {
		args []string
		want []string // substrings of the error
	}{
		{[]string{"--nope"}, []string{"--nope"}},
		{[]string{"--nope=1"}, []string{"--nope"}},
		{[]string{"-x"}, []string{"-x"}},
		{[]string{"-bx"}, []string{"-x"}},
		{[]string{"-D"}, []string{"-D", "PATH"}},
		{[]string{"-bD"}, []string{"-D"}},
		{[]string{"--directory"}, []string{"--directory", "PATH"}},
		{[]string{"--bind"}, []string{"--bind"}},
		{[]string{"-E"}, []string{"-E"}},
		{[]string{"--boot=yes"}, []string{"--boot", "no value"}},
		{[]string{"--quiet=1"}, []string{"--quiet"}},
		{[]string{"--bind", "x"}, []string{`invalid --bind "x"`}},
		{[]string{"--bind=x"}, []string{`invalid --bind "x"`}},
		{[]string{"--bind-ro=/a:/b:ro"}, []string{`invalid --bind-ro "/a:/b:ro"`}},
		{[]string{"--volatile=maybe"}, []string{`invalid --volatile "maybe"`}},
		{[]string{"--volatile=overlay"}, []string{`invalid --volatile "overlay"`}},
		{[]string{"--console=tty"}, []string{`invalid --console "tty"`}},
		{[]string{"--notify-ready=maybe"}, []string{`invalid --notify-ready "maybe"`}},
		{[]string{"--notify-ready", "maybe"}, []string{`invalid --notify-ready "maybe"`}},
		{[]string{"--setenv=NOEQ"}, []string{`invalid --setenv "NOEQ"`}},
		{[]string{"-E", "NOEQ"}, []string{`invalid -E "NOEQ"`}},
		{[]string{"-ENOEQ"}, []string{`invalid -E "NOEQ"`}},
		{[]string{"--setenv==x"}, []string{`invalid --setenv "=x"`}},
		{[]string{"--set-credential=nocolon"}, []string{`invalid --set-credential "nocolon"`}},
		{[]string{"--load-credential=id:"}, []string{`invalid --load-credential "id:"`}},
		{[]string{"--listen=99999"}, []string{`invalid --listen "99999"`}},
		{[]string{"--listen", "nonsense"}, []string{`invalid --listen "nonsense"`}},
		{[]string{"-M", "bad_name"}, []string{`"bad_name"`}},
		{[]string{"--uuid=xyz"}, []string{`invalid --uuid "xyz"`}},
		{[]string{"--uuid", "00000000-0000-0000-0000-000000000000"}, []string{"--uuid", "all-zero"}},
		{[]string{"--uuid=0123abcd4567-89ef-0123-456789abcdef"}, []string{"--uuid"}},
		{[]string{"--machine="}, []string{"machine name"}},
		{[]string{"--hostname=-x"}, []string{`"-x"`}},
		// A value that starts with '-' is a value, not the next option.
		{[]string{"-M", "-x"}, []string{"machine name", `"-x"`}},
		{[]string{"--hostname", "-b"}, []string{"hostname", `"-b"`}},
		// The first error wins, and later options are not looked at.
		{[]string{"--bind=x", "--nope"}, []string{"--bind"}},
	}
	for _, tt := range tests {
		_, err := parseRunArgs(tt.args)
		if err == nil {
			t.Errorf("parseRunArgs(%q) succeeded, want an error", tt.args)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("parseRunArgs(%q) error %q does not contain %q", tt.args, err, w)
			}
		}
	}
}

// --setenv on the command line must accept exactly what Environment= in a
// machine's configuration file accepts (units.ParseSetenv): the same
// container can be described either way, and `sockspawn boot` merges both.
func TestParseRunArgsSetenvMatchesConfigFile(t *testing.T) {
	for _, v := range []string{
		"A=1", "_x=", "PATH=/bin:/usr/bin", "T=a\tb", // accepted by both
		"1A=x", "A B=x", "A-B=x", "Ä=x", "A=line\nbreak", "A=\x1b[0m", // refused by ParseSetenv
	} {
		_, fileErr := units.ParseSetenv(v)
		_, flagErr := parseRunArgs([]string{"--setenv=" + v})
		if (fileErr == nil) != (flagErr == nil) {
			t.Errorf("--setenv=%q: flag error %v, but Environment= error %v", v, flagErr, fileErr)
		}
	}
}

func TestOptionsTable(t *testing.T) {
	longs := map[string]bool{}
	shorts := map[byte]bool{}
	var sections []string
	for _, o := range options() {
		if o.Flag == "" {
			t.Errorf("option without a long name: %+v", o)
		}
		if longs[o.Flag] {
			t.Errorf("--%s defined twice", o.Flag)
		}
		longs[o.Flag] = true
		if o.Short != 0 {
			if shorts[o.Short] {
				t.Errorf("-%c defined twice", o.Short)
			}
			shorts[o.Short] = true
		}
		if o.Flag == "help" || o.Flag == "version" {
			if o.Parse != nil || o.Field != "" {
				t.Errorf("--%s sets a Config field", o.Flag)
			}
		} else {
			if o.Parse == nil {
				t.Errorf("--%s has no setter", o.Flag)
			}
			if !slices.Contains(units.FieldNames, o.Field) {
				t.Errorf("--%s sets field %q, not in units.FieldNames", o.Flag, o.Field)
			}
		}
		if (o.Arg == units.NoArg) != (o.Meta == "") {
			t.Errorf("--%s: arg kind %d with meta %q", o.Flag, o.Arg, o.Meta)
		}
		if strings.TrimSpace(o.Help) == "" || o.Section == "" {
			t.Errorf("--%s has no help or no section", o.Flag)
		}
		// Sections are contiguous, or --help would show one twice.
		if n := len(sections); n == 0 || sections[n-1] != o.Section {
			if slices.Contains(sections, o.Section) {
				t.Errorf("section %q is split; --%s should move next to its other options", o.Section, o.Flag)
			}
			sections = append(sections, o.Section)
		}
	}
	for _, want := range []string{"directory", "machine", "boot", "volatile", "bind", "bind-ro", "setenv", "help"} {
		if !longs[want] {
			t.Errorf("no --%s", want)
		}
	}
}

// Every option can be given in both forms and lands in Set.
func TestParseRunArgsEveryOption(t *testing.T) {
	values := map[string]string{
		"directory": "/img", "machine": "web", "hostname": "www", "uuid": "0123abcd456789ef0123456789abcdef",
		"volatile": "state", "setenv": "A=1", "notify-ready": "yes", "bind": "/a", "bind-ro": "/b",
		"set-credential": "a:b", "load-credential": "c:/d", "console": "pipe", "listen": "8080",
		"capability": "CAP_SYS_TIME", "drop-capability": "sys_boot", "private-users": "pick", "register": "no", "timezone": "off",
		"link-journal": "try-host", "idle-action": "freeze", "idle-action-sec": "5min",
		"ttys":           "2",
		"bind-user":      "alice",
		"network-bridge": "br0", "network-zone": "web", "network-namespace-path": "/run/netns/x",
		"port": "udp:53:5353", "settings": "trusted",
	}
	for _, o := range options() {
		if o.Flag == "help" || o.Flag == "version" {
			continue
		}
		var forms [][]string
		switch o.Arg {
		case units.NoArg:
			forms = [][]string{{"--" + o.Flag}}
			if o.Short != 0 {
				forms = append(forms, []string{"-" + string(o.Short)})
			}
		default:
			v, ok := values[o.Flag]
			if !ok {
				t.Errorf("no test value for --%s", o.Flag)
				continue
			}
			forms = [][]string{{"--" + o.Flag + "=" + v}}
			if o.Arg == units.RequiredArg {
				forms = append(forms, []string{"--" + o.Flag, v})
				if o.Short != 0 {
					forms = append(forms, []string{"-" + string(o.Short), v}, []string{"-" + string(o.Short) + v})
				}
			}
		}
		for _, args := range forms {
			args = append(args, "payload")
			pa, err := parseRunArgs(args)
			if err != nil {
				t.Errorf("parseRunArgs(%q): %v", args, err)
				continue
			}
			if want := map[string]bool{o.Field: true, "Args": true}; !reflect.DeepEqual(pa.Set, want) {
				t.Errorf("parseRunArgs(%q).Set = %v, want %v", args, pa.Set, want)
			}
			if !reflect.DeepEqual(pa.Config.Args, []string{"payload"}) {
				t.Errorf("parseRunArgs(%q).Args = %q", args, pa.Config.Args)
			}
		}
	}
}

func FuzzParseRunArgs(f *testing.F) {
	for _, s := range []string{
		"-bD/ --volatile -M web -- /bin/sh -c true",
		"--bind=/a:/b:norbind --bind-ro /c -E A=1 --setenv=B=2",
		"--set-credential=a:\\x00\\n --load-credential=b:/c --listen=[::1]:80",
		"--volatile=state --console pipe -P -q -h --version",
		"-D",
		"--",
		"-",
		"--=",
		"-bqaP",
		"--notify-ready=maybe",
		"--uuid 0123ABCD456789ef0123456789abcdef --uuid=0123abcd-4567-89ef-0123-456789abcdef",
	} {
		f.Add(strings.ReplaceAll(s, " ", "\x00"))
	}
	// Arguments are NUL-separated: an argv string cannot hold a NUL.
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		pa, err := parseRunArgs(args)
		if err != nil {
			if err.Error() == "" {
				t.Errorf("parseRunArgs(%q): empty error", args)
			}
			return
		}
		// Positional arguments are a suffix of the input, untouched.
		n := len(pa.Config.Args)
		if n > len(args) || !slices.Equal(pa.Config.Args, args[len(args)-n:]) {
			t.Errorf("parseRunArgs(%q).Args = %q: not a suffix", args, pa.Config.Args)
		}
		for _, b := range pa.Config.Binds {
			if !strings.HasPrefix(b.Source, "/") || !strings.HasPrefix(b.Target, "/") {
				t.Errorf("parseRunArgs(%q): bind %+v", args, b)
			}
		}
		for _, e := range pa.Config.Environment {
			if _, err := units.ParseSetenv(e); err != nil {
				t.Errorf("parseRunArgs(%q): environment entry %s: %v", args, strconv.Quote(e), err)
			}
		}
		if u := pa.Config.UUID; u != "" {
			if n, err := units.ParseUUID(u); err != nil || n != u {
				t.Errorf("parseRunArgs(%q): UUID %q is not canonical (%q, %v)", args, u, n, err)
			}
		}
	})
}
