package machine

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

// The credentials passed are those of sockspawn's own service, with the
// explicit ones winning; a file that cannot be loaded names the option.
func TestGatherCredentials(t *testing.T) {
	dir := t.TempDir()
	inherited := filepath.Join(dir, "creds")
	if err := os.Mkdir(inherited, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"db-password": "inherited", "token": "kept"} {
		if err := os.WriteFile(filepath.Join(inherited, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	loaded := filepath.Join(dir, "loaded")
	if err := os.WriteFile(loaded, []byte("from a file"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CREDENTIALS_DIRECTORY", inherited)
	got, err := gatherCredentials([]units.Credential{{ID: "db-password", Data: []byte("given")}, {ID: "cert", Path: loaded}})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]string{}
	for _, f := range got {
		byName[f.Name] = string(f.Data)
	}
	want := map[string]string{"db-password": "given", "token": "kept", "cert": "from a file"}
	if !reflect.DeepEqual(byName, want) {
		t.Errorf("credentials %v, want %v", byName, want)
	}
	if _, err := gatherCredentials([]units.Credential{{ID: "cert", Path: filepath.Join(dir, "none")}}); err == nil || !strings.Contains(err.Error(), "--load-credential") {
		t.Errorf("a missing file: %v, want an error naming --load-credential", err)
	}
	t.Setenv("CREDENTIALS_DIRECTORY", filepath.Join(dir, "none"))
	if _, err := gatherCredentials(nil); err == nil {
		t.Error("an unreadable $CREDENTIALS_DIRECTORY was accepted")
	}
}

// os-release: /etc's, else /usr/lib's, else none.
func TestHostOSRelease(t *testing.T) {
	dir := t.TempDir()
	etc, lib := filepath.Join(dir, "etc-os-release"), filepath.Join(dir, "lib-os-release")
	old := osReleasePaths
	osReleasePaths = []string{etc, lib}
	t.Cleanup(func() { osReleasePaths = old })
	if got := hostOSRelease(); got != nil {
		t.Errorf("none there: %q", got)
	}
	if err := os.WriteFile(lib, []byte("ID=lib\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := string(hostOSRelease()); got != "ID=lib\n" {
		t.Errorf("only /usr/lib's: %q", got)
	}
	if err := os.WriteFile(etc, []byte("ID=etc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := string(hostOSRelease()); got != "ID=etc\n" {
		t.Errorf("both: %q", got)
	}
}

// The time zone is named only from a link into a zoneinfo directory.
func TestHostTimezone(t *testing.T) {
	dir := t.TempDir()
	old := localtime
	t.Cleanup(func() { localtime = old })
	for i, tc := range []struct{ target, want string }{
		{"/usr/share/zoneinfo/Europe/Berlin", "Europe/Berlin"},
		{"../usr/share/zoneinfo/UTC", "UTC"},
		{"/usr/share/zoneinfo/", ""},
		{"/usr/share/zoneinfo/../../etc/passwd", ""},
		{"/etc/timezone-file", ""},
		{"", ""}, // no link at all
	} {
		localtime = filepath.Join(dir, "localtime"+string(rune('a'+i)))
		if tc.target != "" {
			if err := os.Symlink(tc.target, localtime); err != nil {
				t.Fatal(err)
			}
		}
		if got := hostTimezone(); got != tc.want {
			t.Errorf("link to %q: %q, want %q", tc.target, got, tc.want)
		}
	}
}

// --bind-user: the user must exist on the host, with a home directory,
// and not be root.
func TestLookupBindUsers(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "alice")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	passwd := filepath.Join(dir, "passwd")
	text := "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000:Alice:" + home + ":/bin/sh\nbob:x:1001:1001::" + filepath.Join(dir, "none") + ":/bin/sh\ncarol:x:1002:1002::" + notDir + ":/bin/sh\n"
	if err := os.WriteFile(passwd, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	oldPasswd, oldShadow := passwdFile, shadowFile
	passwdFile, shadowFile = passwd, filepath.Join(dir, "shadow")
	t.Cleanup(func() { passwdFile, shadowFile = oldPasswd, oldShadow })
	users := units.UserRange{Enabled: true, Size: 65536}
	got, err := lookupBindUsers([]string{"alice"}, users)
	if err != nil || len(got) != 1 || got[0].Name != "alice" || got[0].Home != home {
		t.Errorf("alice: %+v, %v", got, err)
	}
	if got, err := lookupBindUsers(nil, units.UserRange{}); got != nil || err != nil {
		t.Errorf("none: %v, %v", got, err)
	}
	for _, tc := range []struct {
		names []string
		users units.UserRange
		want  string
	}{
		{[]string{"dave"}, users, "--bind-user=dave: no such user on the host"},
		{[]string{"bob"}, users, "--bind-user=bob: home directory"},
		{[]string{"carol"}, users, "is not a directory"},
		{[]string{"alice"}, units.UserRange{}, ""},
	} {
		_, err := lookupBindUsers(tc.names, tc.users)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error with %q", tc.names, err, tc.want)
		}
	}
	passwdFile = filepath.Join(dir, "none")
	if _, err := lookupBindUsers([]string{"alice"}, users); err == nil || !strings.Contains(err.Error(), "read the host's users") {
		t.Errorf("no passwd: %v", err)
	}
}

// Check says what it checked, or why the machine cannot boot.
func TestCheck(t *testing.T) {
	img := testImage(t)
	report, err := Check(units.Config{Directory: img, Machine: "web", Args: []string{"tool"}}, nil, "/etc/sockspawn/web.conf", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"machine web can boot:", "configuration  /etc/sockspawn/web.conf", "command        tool"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if _, err := Check(units.Config{Directory: img, Machine: "web", Args: []string{"none"}}, nil, "", ""); err == nil {
		t.Error("a missing command passed the check")
	}
	if _, err := Check(units.Config{Directory: img, Machine: "web", Args: []string{"tool"}, BindUsers: []string{"no-such-user-here"}}, nil, "", ""); err == nil {
		t.Error("a missing --bind-user passed the check")
	}
}

// The journal: not linked without asking the host anything, and the
// owner of a directory made for a container with -U is its root.
func TestJournal(t *testing.T) {
	a, err := journalAction(units.Config{LinkJournal: units.LinkJournalNo}, decision{}, func(string) { t.Error("warned") })
	if err != nil || a.Linked() {
		t.Errorf("--link-journal=no: %+v, %v", a, err)
	}
	img := testImage(t)
	if _, err := journalAction(units.Config{LinkJournal: units.LinkJournalTryGuest}, decision{Image: img, UUID: "0123456789abcdef0123456789abcdef"}, func(string) {}); err != nil {
		t.Errorf("try-guest: %v", err)
	}
	if journalOwner(nil) != nil {
		t.Error("an owner without -U")
	}
	if o := journalOwner(&payload.UserRange{IDMap: payload.IDMap{Base: 524288, Size: 65536}}); o == nil || *o != [2]int{524288, 524288} {
		t.Errorf("owner %v", o)
	}
}
