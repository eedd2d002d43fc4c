package payload

import (
	"strings"
	"testing"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

func TestPlanJournal(t *testing.T) {
	const (
		id    = "0123456789abcdef0123456789abcdef"
		image = "/var/lib/machines/web"
		host  = "/var/log/journal/" + id
		guest = image + "/var/log/journal/" + id
	)
	persistent := HostJournal{HasJournalDir: true, HostID: "fedcba9876543210fedcba9876543210"}
	with := func(e JournalEntry, target string, empty bool) HostJournal {
		h := persistent
		h.Entry, h.LinkTarget, h.Empty = e, target, empty
		return h
	}
	noJournal := HostJournal{HostID: persistent.HostID}
	bind := JournalAction{HostPath: host, GuestPath: host, Bind: true}
	tests := []struct {
		name, mode, image, id string
		volatile              systemd.Volatile
		host                  HostJournal
		want                  JournalAction
		skip, err             string
	}{
		{name: "no", mode: "no", host: persistent},
		{name: "auto, nothing there", mode: "auto", host: persistent},
		{name: "empty mode is auto", mode: "", host: with(JournalDirectory, "", false), want: bind},
		{name: "auto after host", mode: "auto", host: with(JournalDirectory, "", false), want: bind},
		{name: "auto after host, volatile", mode: "auto", volatile: systemd.VolatileYes, host: with(JournalDirectory, "", true), want: bind},
		{name: "auto after guest", mode: "auto", host: with(JournalSymlink, guest, false), want: JournalAction{HostPath: host, GuestPath: host}},
		{name: "auto, link elsewhere", mode: "auto", host: with(JournalSymlink, "/srv/other/var/log/journal/"+id, false)},
		{name: "auto after guest, now volatile", mode: "auto", volatile: systemd.VolatileState, host: with(JournalSymlink, guest, false)},
		{name: "host, new", mode: "host", host: persistent, want: JournalAction{HostPath: host, GuestPath: host, Mkdir: true, Bind: true}},
		{name: "host, again", mode: "host", host: with(JournalDirectory, "", false), want: bind},
		{name: "host after guest", mode: "host", host: with(JournalSymlink, guest, false), want: JournalAction{HostPath: host, GuestPath: host, Replace: true, Mkdir: true, Bind: true}},
		{name: "host, volatile", mode: "host", volatile: systemd.VolatileYes, host: persistent, want: JournalAction{HostPath: host, GuestPath: host, Mkdir: true, Bind: true}},
		{name: "host, no persistent journal", mode: "host", host: noJournal, err: "--link-journal=host: the host has no /var/log/journal"},
		{name: "try-host, no persistent journal", mode: "try-host", host: noJournal},
		{name: "host, a file there", mode: "host", host: with(JournalOther, "", false), err: "is neither a directory nor a symlink"},
		{name: "try-host, a file there", mode: "try-host", host: with(JournalOther, "", false), skip: "neither a directory nor a symlink; not linking"},
		{name: "guest, new", mode: "guest", host: persistent, want: JournalAction{HostPath: host, GuestPath: host, Symlink: guest}},
		{name: "guest, again", mode: "guest", host: with(JournalSymlink, guest+"/", false), want: JournalAction{HostPath: host, GuestPath: host}},
		{name: "guest, image moved", mode: "guest", host: with(JournalSymlink, "/old/var/log/journal/"+id, false), want: JournalAction{HostPath: host, GuestPath: host, Replace: true, Symlink: guest}},
		{name: "guest after host, empty", mode: "guest", host: with(JournalDirectory, "", true), want: JournalAction{HostPath: host, GuestPath: host, Replace: true, Symlink: guest}},
		{name: "guest after host, full", mode: "guest", host: with(JournalDirectory, "", false), err: "a directory with files in it"},
		{name: "try-guest after host, full", mode: "try-guest", host: with(JournalDirectory, "", false), skip: "a directory with files in it"},
		{name: "guest, volatile", mode: "guest", volatile: systemd.VolatileYes, host: persistent, err: "--link-journal=guest: with --volatile=yes the container's /var is not kept"},
		{name: "try-guest, volatile: quietly nothing", mode: "try-guest", volatile: systemd.VolatileState, host: persistent},
		{name: "guest, no persistent journal", mode: "guest", host: noJournal, err: "the host has no /var/log/journal"},
		{name: "guest, the host's root", mode: "guest", image: "/", host: persistent, err: "the image is the host's own root"},
		{name: "host's own ID", mode: "host", id: persistent.HostID, host: persistent, err: "is the host's own"},
		{name: "host's own ID, auto: quietly nothing", mode: "auto", id: persistent.HostID, host: with(JournalDirectory, "", false)},
		{name: "host's own ID, try-guest", mode: "try-guest", id: persistent.HostID, host: persistent, skip: "is the host's own; not linking"},
		{name: "bad ID", mode: "guest", id: "../../etc", host: persistent, err: "not 32 hexadecimal digits"},
		{name: "unknown mode", mode: "yes", host: persistent, err: "unknown --link-journal mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.volatile == "" {
				tt.volatile = systemd.VolatileNo
			}
			if tt.image == "" {
				tt.image = image
			}
			if tt.id == "" {
				tt.id = id
			}
			got, skip, err := PlanJournal(tt.mode, tt.volatile, tt.image, tt.id, tt.host)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v; want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if got != tt.want {
				t.Errorf("action %+v; want %+v", got, tt.want)
			}
			if (tt.skip == "") != (skip == "") || !strings.Contains(skip, tt.skip) {
				t.Errorf("skip note %q; want one containing %q", skip, tt.skip)
			}
		})
	}
}

func TestJournalInPlan(t *testing.T) {
	base := Options{Image: "/img", Root: "/run/r", Argv: []string{"/bin/sh"}, Console: ConsolePipe, Volatile: systemd.VolatileNo,
		Binds: []BindMount{{Source: "/srv", Target: "/var/log/journal"}}}
	host := base
	host.Journal = JournalAction{HostPath: "/var/log/journal/x", GuestPath: "/var/log/journal/x", Bind: true}
	p, err := NewPlan(host)
	if err != nil {
		t.Fatal(err)
	}
	journal, user := -1, -1
	for i, m := range p.Mounts {
		switch m.Target {
		case "/var/log/journal/x":
			journal = i
			if m.Source != "/var/log/journal/x" || m.SourceIn != SourceHost || m.ReadOnly {
				t.Errorf("journal mount %+v", m)
			}
		case "/var/log/journal":
			user = i
		}
	}
	if journal < 0 || user < journal {
		t.Errorf("journal bind at %d, user bind at %d: want the journal first, so a user bind can hide it", journal, user)
	}
	for _, d := range p.Dirs {
		if d == "/var/log/journal/x" {
			t.Error("host mode makes the directory in the container too")
		}
	}
	guest := base
	guest.Journal = JournalAction{HostPath: "/var/log/journal/x", GuestPath: "/var/log/journal/x", Symlink: "/img/var/log/journal/x"}
	if p, err = NewPlan(guest); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range p.Dirs {
		found = found || d == "/var/log/journal/x"
	}
	if !found {
		t.Errorf("guest mode: dirs %v lack the journal directory", p.Dirs)
	}
}

func TestParseMachineID(t *testing.T) {
	for in, want := range map[string]string{
		"0123456789abcdef0123456789abcdef\n": "0123456789abcdef0123456789abcdef",
		"uninitialized\n":                    "",
		"":                                   "",
		"00000000000000000000000000000000\n": "",
		"0123456789ABCDEF0123456789ABCDEF\n": "",
		"0123456789abcdef0123456789abcde\n":  "",
	} {
		if got := parseMachineID([]byte(in)); got != want {
			t.Errorf("parseMachineID(%q) = %q; want %q", in, got, want)
		}
	}
}

func FuzzParseMachineID(f *testing.F) {
	f.Add([]byte("0123456789abcdef0123456789abcdef\n"))
	f.Add([]byte("uninitialized"))
	f.Fuzz(func(t *testing.T, b []byte) {
		id := parseMachineID(b)
		if id != "" && (len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" || strings.Trim(id, "0") == "") {
			t.Fatalf("parseMachineID(%q) = %q", b, id)
		}
	})
}
