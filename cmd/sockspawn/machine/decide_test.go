package machine

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sockspawn/sockspawn/internal/systemd"
	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

// fakeInit stands in for payload.FindInit and records its calls.
type fakeInit struct {
	path    string
	err     error
	calls   int
	image   string
	usrOnly bool
}

func (f *fakeInit) find(image string, usrOnly bool) (string, error) {
	f.calls++
	f.image, f.usrOnly = image, usrOnly
	return f.path, f.err
}

func TestDecide(t *testing.T) {
	const uuid = "0123abcd-4567-89ef-0123-456789abcdef"
	tests := []struct {
		name        string
		c           units.Config
		tty         bool
		want        decision
		wantUsrOnly bool
	}{
		{
			name: "defaults without a tty",
			c:    units.Config{Directory: "/var/lib/machines/web"},
			want: decision{
				Image: "/var/lib/machines/web", Machine: "web", Hostname: "web",
				UUID: payload.StableUUID("web"), Console: units.ConsoleReadOnly,
				NotifyReady: false, Argv: []string{"/bin/sh"},
			},
		},
		{
			name: "defaults on a tty",
			c:    units.Config{Directory: "/var/lib/machines/web"},
			tty:  true,
			want: decision{
				Image: "/var/lib/machines/web", Machine: "web", Hostname: "web",
				UUID: payload.StableUUID("web"), Console: units.ConsoleInteractive,
				Argv: []string{"/bin/sh"},
			},
		},
		{
			name: "image path cleaned",
			c:    units.Config{Directory: "/var/lib/machines//db/", Args: []string{"/bin/true", "x"}},
			want: decision{
				Image: "/var/lib/machines/db", Machine: "db", Hostname: "db",
				UUID: payload.StableUUID("db"), Console: units.ConsoleReadOnly,
				Argv: []string{"/bin/true", "x"},
			},
		},
		{
			name: "this machine's OS",
			c:    units.Config{Directory: "/", Machine: "demo", Volatile: systemd.VolatileYes, Boot: true, Args: []string{"--log-level=debug"}},
			want: decision{
				Image: "/", Machine: "demo", Hostname: "demo",
				UUID: payload.StableUUID("demo"), Console: units.ConsoleReadOnly,
				NotifyReady: true, Argv: []string{"/usr/lib/systemd/systemd", "--log-level=debug"},
			},
			wantUsrOnly: true,
		},
		{
			name: "this machine's OS, its state volatile",
			c:    units.Config{Directory: "/", Machine: "demo", Volatile: systemd.VolatileState, Args: []string{"/bin/true"}},
			want: decision{
				Image: "/", Machine: "demo", Hostname: "demo",
				UUID: payload.StableUUID("demo"), Console: units.ConsoleReadOnly,
				Argv: []string{"/bin/true"},
			},
		},
		{
			name: "explicit everything",
			c: units.Config{
				Directory: "/img", Machine: "m1", Hostname: "h1", UUID: uuid, // normalized by parseRunArgs
				Console: units.ConsolePipe, NotifyReady: boolPtr(true), Args: []string{"/bin/echo"},
			},
			tty: true,
			want: decision{
				Image: "/img", Machine: "m1", Hostname: "h1", UUID: uuid, Console: units.ConsolePipe,
				NotifyReady: true, Argv: []string{"/bin/echo"},
			},
		},
		{
			name: "boot with notify-ready=no",
			c:    units.Config{Directory: "/img/web", Boot: true, NotifyReady: boolPtr(false), Volatile: systemd.VolatileState},
			want: decision{
				Image: "/img/web", Machine: "web", Hostname: "web", UUID: payload.StableUUID("web"),
				Console: units.ConsoleReadOnly, NotifyReady: false, Argv: []string{"/usr/lib/systemd/systemd"},
			},
			wantUsrOnly: false,
		},
		{
			name: "as-pid2 without boot",
			c:    units.Config{Directory: "/img/web", AsPid2: true, Args: []string{"sleep", "1"}},
			want: decision{
				Image: "/img/web", Machine: "web", Hostname: "web", UUID: payload.StableUUID("web"),
				Console: units.ConsoleReadOnly, Argv: []string{"sleep", "1"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fi := &fakeInit{path: "/usr/lib/systemd/systemd"}
			d, err := decide(tt.c, tt.tty, fi.find)
			if err != nil {
				t.Fatalf("decide: %v", err)
			}
			if !reflect.DeepEqual(d, tt.want) {
				t.Errorf("decide =\n%+v, want\n%+v", d, tt.want)
			}
			if tt.c.Boot {
				if fi.calls != 1 || fi.image != tt.want.Image || fi.usrOnly != tt.wantUsrOnly {
					t.Errorf("findInit called %d times with (%q, %v), want once with (%q, %v)",
						fi.calls, fi.image, fi.usrOnly, tt.want.Image, tt.wantUsrOnly)
				}
			} else if fi.calls != 0 {
				t.Errorf("findInit called without -b")
			}
		})
	}
}

func TestDecideRelativeDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	d, err := decide(units.Config{Directory: "images/web"}, false, (&fakeInit{}).find)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "images/web"); d.Image != want || d.Machine != "web" {
		t.Errorf("Image, Machine = %q, %q; want %q, web", d.Image, d.Machine, want)
	}
}

func TestDecideErrors(t *testing.T) {
	tests := []struct {
		name      string
		c         units.Config
		initErr   error
		want      []string
		wantCalls int
	}{
		{name: "no directory", c: units.Config{}, want: []string{"-D"}},
		{name: "root needs a name", c: units.Config{Directory: "/", Volatile: systemd.VolatileYes}, want: []string{"-D /", "-M NAME"}},
		{name: "root needs a volatile mode", c: units.Config{Directory: "/", Machine: "demo"}, want: []string{"-D /", "--volatile=yes", "--volatile=state"}},
		{name: "root read-write on purpose", c: units.Config{Directory: "/", Machine: "demo", Volatile: systemd.VolatileNo}, want: []string{"--volatile=state"}},
		{name: "root needs both", c: units.Config{Directory: "/", Boot: true}, want: []string{"--volatile=yes", "-M NAME"}},
		{name: "root spelled otherwise", c: units.Config{Directory: "/usr/.."}, want: []string{"-D /", "--volatile"}},
		{name: "derived name invalid", c: units.Config{Directory: "/img/web_1"}, want: []string{`"web_1"`, "-M"}},
		{name: "derived name too long", c: units.Config{Directory: "/img/" + strings.Repeat("a", 65)}, want: []string{"-M"}},
		{name: "given name invalid", c: units.Config{Directory: "/img/web", Machine: "a/b"}, want: []string{`"a/b"`}},
		{name: "boot and as-pid2", c: units.Config{Directory: "/img/web", Boot: true, AsPid2: true}, want: []string{"--boot", "--as-pid2"}},
		{
			name: "no init", c: units.Config{Directory: "/img/web", Boot: true},
			initErr: errors.New("image /img/web has no init"), want: []string{"no init"}, wantCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fi := &fakeInit{path: "/sbin/init", err: tt.initErr}
			d, err := decide(tt.c, false, fi.find)
			if err == nil {
				t.Fatalf("decide(%+v) = %+v, want an error", tt.c, d)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if fi.calls != tt.wantCalls {
				t.Errorf("findInit called %d times, want %d", fi.calls, tt.wantCalls)
			}
			if tt.initErr != nil && !errors.Is(err, tt.initErr) {
				t.Errorf("error %v does not wrap findInit's", err)
			}
		})
	}
}

// Flags through decide: the whole pure path of `sockspawn run` (-bD/
// --volatile -M demo --uuid=... systemd.unit=rescue.target).
func TestParseThenDecide(t *testing.T) {
	c := flagConfig(t, [][2]string{{"boot", ""}, {"directory", "/"}, {"volatile", ""}, {"machine", "demo"}, {"uuid", "0123ABCD-4567-89EF-0123-456789ABCDEF"}})
	c.Args = []string{"systemd.unit=rescue.target"}
	fi := &fakeInit{path: "/usr/lib/systemd/systemd"}
	d, err := decide(c, false, fi.find)
	if err != nil {
		t.Fatal(err)
	}
	want := decision{
		Image: "/", Machine: "demo", Hostname: "demo", UUID: "0123abcd-4567-89ef-0123-456789abcdef",
		Console: units.ConsoleReadOnly, NotifyReady: true,
		Argv: []string{"/usr/lib/systemd/systemd", "systemd.unit=rescue.target"},
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("decide =\n%+v, want\n%+v", d, want)
	}
	if !fi.usrOnly {
		t.Error("--volatile: findInit not limited to /usr")
	}
}
