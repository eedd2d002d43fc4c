package units

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

// searchDirs makes three search directories and writes files into them:
// files maps "DIR-INDEX/NAME" to content.
func searchDirs(t *testing.T, files map[string]string) []string {
	t.Helper()
	root := t.TempDir()
	dirs := []string{filepath.Join(root, "etc"), filepath.Join(root, "run"), filepath.Join(root, "lib")}
	for _, d := range dirs {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dirs
}

func TestFindConfig(t *testing.T) {
	dirs := searchDirs(t, map[string]string{
		"run/web.conf": "[Container]\n",
		"lib/web.conf": "[Container]\n",
		"lib/db.conf":  "[Container]\n",
	})
	if err := os.Mkdir(filepath.Join(dirs[0], "dir.conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, want, wantErr string
	}{
		{"web", filepath.Join(dirs[1], "web.conf"), ""},
		{"db", filepath.Join(dirs[2], "db.conf"), ""},
		{"none", "", ""},
		{"dir", "", "is a directory"},
		{"../etc/web", "", "invalid machine name"},
		{"", "", "invalid machine name"},
	}
	for _, tt := range tests {
		got, err := FindConfig(tt.name, dirs)
		checkErr(t, err, tt.wantErr)
		if got != tt.want {
			t.Errorf("FindConfig(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestLoad(t *testing.T) {
	dirs := searchDirs(t, map[string]string{
		"etc/web.conf": "[Container]\nBoot=yes\nHostname=www\n",
		"etc/img.conf": "[Container]\nDirectory=/srv/img\n",
		"etc/bad.conf": "[Container]\nBoot=maybe\n",
	})
	webConf := filepath.Join(dirs[0], "web.conf")
	tests := []struct {
		name    string
		want    Config
		src     Sources
		wantErr string
	}{{
		name: "web",
		want: Config{Machine: "web", Directory: "/var/lib/machines/web", Boot: true, Hostname: "www"},
		src: Sources{"Machine": {SourceDefault}, "Directory": {SourceDefault},
			"Boot": {webConf + ":2"}, "Hostname": {webConf + ":3"}},
	}, {
		name: "img",
		want: Config{Machine: "img", Directory: "/srv/img"},
		src:  Sources{"Machine": {SourceDefault}, "Directory": {filepath.Join(dirs[0], "img.conf") + ":2"}},
	}, {
		name: "noconf",
		want: Config{Machine: "noconf", Directory: "/var/lib/machines/noconf"},
		src:  Sources{"Machine": {SourceDefault}, "Directory": {SourceDefault}},
	}, {
		name:    "bad",
		wantErr: filepath.Join(dirs[0], "bad.conf") + `:2: invalid Boot= "maybe"`,
	}, {
		name:    "a/b",
		wantErr: `invalid machine name "a/b"`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, src, err := Load(tt.name, dirs)
			checkErr(t, err, tt.wantErr)
			if err != nil {
				return
			}
			wantConfig(t, got, src, tt.want, tt.src)
		})
	}
}

func TestMerge(t *testing.T) {
	yes := true
	file := Config{
		Directory: "/srv/web", Machine: "web", Hostname: "www", Boot: true,
		Binds:       []Bind{{"/a", "/a", false, true}},
		Environment: []string{"A=1"},
	}
	flags := Config{
		Directory: "/other", Hostname: "flag", Binds: []Bind{{"/b", "/c", true, true}, {"/d", "/d", false, false}},
		NotifyReady: &yes, Quiet: true,
	}
	tests := []struct {
		name string
		set  map[string]bool
		want Config
	}{
		{"nothing set", nil, file},
		{"false entries ignored", map[string]bool{"Directory": false}, file},
		{"scalars", map[string]bool{"Hostname": true, "Boot": true, "Quiet": true, "NotifyReady": true},
			Config{Directory: "/srv/web", Machine: "web", Hostname: "flag", Binds: file.Binds,
				Environment: file.Environment, NotifyReady: &yes, Quiet: true}},
		{"lists replace", map[string]bool{"Binds": true, "Environment": true},
			Config{Directory: "/srv/web", Machine: "web", Hostname: "www", Boot: true, Binds: flags.Binds}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Merge(file, flags, tt.set); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Merge:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestMergeEveryField(t *testing.T) {
	yes := true
	flags := Config{
		Directory: "/d", Machine: "m", Hostname: "h", Boot: true, AsPid2: true, Volatile: systemd.VolatileYes,
		Binds: []Bind{{"/a", "/a", false, true}}, Environment: []string{"A=1"},
		Credentials: []Credential{{ID: "x", Path: "/x"}}, UUID: "u", Console: ConsolePipe,
		NotifyReady: &yes, Listen: []string{"80"}, Args: []string{"x"}, Quiet: true,
		TTYs: 2, BindUsers: []string{"alice"},
	}
	set := map[string]bool{}
	for _, f := range FieldNames {
		set[f] = true
	}
	if got := Merge(Config{}, flags, set); !reflect.DeepEqual(got, flags) {
		t.Errorf("Merge with every field set:\n got %+v\nwant %+v", got, flags)
	}
	if n := reflect.TypeOf(Config{}).NumField(); n != len(FieldNames) {
		t.Errorf("Config has %d fields, FieldNames lists %d", n, len(FieldNames))
	}
	src := MergeSources(Sources{"Hostname": {"f:1"}, "Boot": {"f:2"}}, flags, map[string]bool{"Binds": true, "Hostname": true, "Args": true})
	want := Sources{"Hostname": {SourceCommandLine}, "Boot": {"f:2"}, "Binds": {SourceCommandLine}, "Args": {SourceCommandLine}}
	if !reflect.DeepEqual(src, want) {
		t.Errorf("MergeSources = %v, want %v", src, want)
	}
}

func TestMergeUnknownFieldPanics(t *testing.T) {
	for _, f := range []func(){
		func() { Merge(Config{}, Config{}, map[string]bool{"Bind": true}) },
		func() { MergeSources(Sources{}, Config{}, map[string]bool{"Bind": true}) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), `"Bind"`) {
					t.Errorf("recovered %v, want a panic naming \"Bind\"", r)
				}
			}()
			f()
		}()
	}
}

func TestDescribe(t *testing.T) {
	no := false
	c := Config{
		Machine: "web", Directory: "/var/lib/machines/web", Hostname: "www", Boot: true, Volatile: systemd.VolatileState,
		Binds:       []Bind{{"/a", "/a", false, true}, {"/b", "/c", true, false}},
		Environment: []string{"A=1"},
		Credentials: []Credential{{ID: "k", Data: []byte("v\n")}, {ID: "f", Path: "/f"}},
		NotifyReady: &no, Listen: []string{"80"}, Args: []string{"a b", "c", "d"},
	}
	s := Sources{
		"Directory": {SourceDefault}, "Hostname": {"/etc/sockspawn/web.conf:3"}, "Boot": {SourceCommandLine},
		"Binds":  {"/etc/sockspawn/web.conf:4", "/etc/sockspawn/web.conf:5"},
		"Args":   {"/etc/sockspawn/web.conf:9", "/etc/sockspawn/web.conf:9", SourceCommandLine},
		"AsPid2": {"/etc/sockspawn/web.conf:6"},
	}
	want := `# Effective configuration of machine web
[Container]
# default
Directory=/var/lib/machines/web
# from /etc/sockspawn/web.conf:3
Hostname=www
# command line
Boot=yes
# from /etc/sockspawn/web.conf:6
AsPid2=no
# default
Volatile=state
# default
NotifyReady=no
# from /etc/sockspawn/web.conf:4
Bind=/a
# from /etc/sockspawn/web.conf:5
BindReadOnly=/b:/c:norbind
# default
Environment=A=1
# default
SetCredential=k:v\n
# default
LoadCredential=f:/f
# default
Listen=80
# from /etc/sockspawn/web.conf:9
Parameters="a b" c
# command line
Parameters=d
`
	got := Describe(c, s)
	if got != want {
		t.Errorf("Describe:\n%s\nwant:\n%s", got, want)
	}
	back, _, err := ParseConfigFile("x", strings.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	c.Machine = ""
	if !reflect.DeepEqual(back, c) {
		t.Errorf("parsed back:\n got %+v\nwant %+v", back, c)
	}
}

// LoadMachine says which configuration file it read, so that no caller
// has to look for it again.
func TestLoadMachineNamesItsFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, text, want string
	}{
		{name: "web", text: "[Container]\nBoot=yes\n", want: filepath.Join(dir, "web"+ConfigSuffix)},
		{name: "db"},
	} {
		if tc.text != "" {
			if err := os.WriteFile(tc.want, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// No .nspawn file: the one next to the image is in
		// /var/lib/machines, which may be closed to the test.
		l, err := LoadMachine(tc.name, Lookup{SearchPath: []string{dir}, Flags: Config{Settings: SettingsNo}, Set: map[string]bool{"Settings": true}})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if l.File != tc.want {
			t.Errorf("%s: File = %q, want %q", tc.name, l.File, tc.want)
		}
	}
}
