package units

import (
	"reflect"
	"strings"
	"testing"
)

// flagSamples holds, for each option whose Example does not do, values of
// its flag to round-trip; "" for a flag that takes none.
var flagSamples = map[string][]string{
	"directory":              {"/srv/web", "/"},
	"hostname":               {"web.lan"},
	"uuid":                   {"0123abcd-4567-89ef-0123-456789abcdef"},
	"volatile":               {"", "state", "no"},
	"timezone":               {"symlink"},
	"boot":                   {""},
	"as-pid2":                {""},
	"setenv":                 {"PATH=/bin:/usr/bin", "A= inner  spaces"},
	"notify-ready":           {"no"},
	"bind":                   {"/a\\:b:/c:norbind", "/x"},
	"bind-ro":                {"/a:/b"},
	"private-users":          {"", "65536:65536"},
	"bind-user":              {"alice"},
	"capability":             {"CAP_SYS_TIME,net_admin", "all"},
	"drop-capability":        {"sys_boot"},
	"set-credential":         {`k:a\x00b\nc`, "k:"},
	"load-credential":        {"c:/d", "c:other"},
	"ttys":                   {"3"},
	"console":                {"passive"},
	"pipe":                   {""},
	"listen":                 {"web=datagram:[::1]:53", "@x"},
	"idle-action":            {"poweroff"},
	"idle-action-sec":        {"1h 2min", "90s"},
	"private-network":        {""},
	"network-veth":           {""},
	"network-bridge":         {"br0"},
	"network-zone":           {"web"},
	"network-namespace-path": {"/run/netns/x"},
	"port":                   {"udp:53:5353", "80"},
	"register":               {"yes"},
	"link-journal":           {"guest"},
	"settings":               {"trusted"},
}

// TestEveryOptionRoundTrips: every value a flag takes comes back the same
// through `sockspawn cat`: the flag sets a Config, Describe writes it,
// ParseConfigFile reads that back into the same Config. Once option by
// option, once all together.
func TestEveryOptionRoundTrips(t *testing.T) {
	var all Config
	for _, o := range Options() {
		if o.Key == "" || o.Flag == "" {
			continue // -M and -q have no key; Parameters= no flag
		}
		vs := flagSamples[o.Flag]
		if o.Example != "" {
			vs = append(vs, strings.ReplaceAll(o.Example, "@MACHINE@", "web"))
		}
		if len(vs) == 0 {
			t.Errorf("--%s: no sample value", o.Flag)
		}
		for _, v := range vs {
			var c Config
			if err := o.SetFlag(&c, "--"+o.Flag, v); err != nil {
				t.Errorf("--%s=%q: %v", o.Flag, v, err)
				continue
			}
			if reflect.DeepEqual(c, Config{}) && o.Arg != NoArg {
				t.Errorf("--%s=%q set nothing; pick a sample that does", o.Flag, v)
			}
			if err := o.SetFlag(&all, "--"+o.Flag, v); err != nil {
				t.Fatal(err)
			}
			roundTrip(t, "--"+o.Flag+"="+v, c)
		}
	}
	all.Args = []string{"systemd.unit=rescue.target", "a b"}
	roundTrip(t, "all options", all)
}

func roundTrip(t *testing.T, what string, c Config) {
	t.Helper()
	text := Describe(c, Sources{})
	got, _, err := ParseConfigFile("cat", strings.NewReader(text))
	if err != nil {
		t.Errorf("%s: cat's output does not parse: %v\n%s", what, err, text)
		return
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("%s: sets %+v, cat's output reads back as %+v\n%s", what, c, got, text)
	}
}

// TestSkeletonExamples: every commented example of the configuration
// `sockspawn new` writes is a value its key takes, and each option with an
// Example has its line.
func TestSkeletonExamples(t *testing.T) {
	ex := ConfigExamples("web")
	var uncommented strings.Builder
	uncommented.WriteString("[Container]\n")
	n := 0
	for _, l := range strings.Split(strings.TrimSuffix(ex, "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "# "):
		case strings.HasPrefix(l, "#") && strings.Contains(l, "="):
			uncommented.WriteString(l[1:] + "\n")
			n++
		default:
			t.Errorf("line %q is neither a comment nor an example", l)
		}
	}
	if _, _, err := ParseConfigFile("skeleton", strings.NewReader(uncommented.String())); err != nil {
		t.Errorf("the examples, uncommented: %v", err)
	}
	want := 0
	for _, o := range Options() {
		if o.Example != "" {
			want++
			if o.Key == "" || !strings.Contains(ex, "\n#"+o.Key+"=") && !strings.HasPrefix(ex, "#"+o.Key+"=") {
				t.Errorf("%s=: no example line", o.Key)
			}
		}
	}
	if n != want {
		t.Errorf("%d example lines, %d options with an example", n, want)
	}
	if !strings.Contains(ex, "\n#Bind=/srv/web:/srv\n") {
		t.Errorf("@MACHINE@ is not replaced by the name:\n%s", ex)
	}
}

// TestOptionsTable: each key and flag is declared once; a second flag of a
// key stands for one of its values.
func TestOptionsTable(t *testing.T) {
	keys, flags, nspawn := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, o := range Options() {
		if o.Flag != "" {
			if flags[o.Flag] {
				t.Errorf("--%s twice", o.Flag)
			}
			flags[o.Flag] = true
		}
		if o.Key != "" && keys[o.Key] && (o.Arg != NoArg || o.Implied == "" || o.Example != "" || o.Nspawn.Name != "") {
			t.Errorf("%s=: a second option for the key must be a flag that stands for one value", o.Key)
		}
		keys[o.Key] = true
		if o.Nspawn.Name != "" {
			if nspawn[o.Nspawn.Name] {
				t.Errorf("%s twice", o.Nspawn.Name)
			}
			nspawn[o.Nspawn.Name] = true
		}
		if (o.Arg == NoArg || o.Arg == OptionalArg) && o.Flag != "" && o.Implied == "" {
			t.Errorf("--%s may be given without a value, but stands for none", o.Flag)
		}
	}
}
