package units

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

func TestParseConfigFile(t *testing.T) {
	yes := true
	tests := []struct {
		name    string
		text    string
		want    Config
		src     Sources
		wantErr string
	}{{
		name: "empty",
		text: "",
		want: Config{},
		src:  Sources{},
	}, {
		name: "every key",
		text: `# web
[Container]
Directory=/srv/web
Hostname=web.lan
Boot=yes
AsPid2=no
Volatile=state
Bind=/srv/data:/data
BindReadOnly=/etc/resolv.conf
Environment=LANG=C.UTF-8
Environment=GREETING=hello world
SetCredential=pw:sec\x72et
LoadCredential=key:/etc/key
UUID=0123ABCD456789EF0123456789ABCDEF
Console=passive
NotifyReady=on
Listen=8080
Listen=/run/web.sock
Parameters=systemd.unit=multi-user.target "quoted arg"
Parameters=more
LinkJournal=try-host
`,
		want: Config{
			Directory: "/srv/web", Hostname: "web.lan", Boot: true, Volatile: systemd.VolatileState,
			Binds:       []Bind{{"/srv/data", "/data", false, true}, {"/etc/resolv.conf", "/etc/resolv.conf", true, true}},
			Environment: []string{"LANG=C.UTF-8", "GREETING=hello world"},
			Credentials: []Credential{{ID: "pw", Data: []byte("secret")}, {ID: "key", Path: "/etc/key"}},
			UUID:        "0123abcd-4567-89ef-0123-456789abcdef", Console: ConsolePassive, NotifyReady: &yes,
			Listen:      []string{"8080", "/run/web.sock"},
			Args:        []string{"systemd.unit=multi-user.target", "quoted arg", "more"},
			LinkJournal: LinkJournalTryHost,
		},
		src: Sources{
			"Directory": {"f:3"}, "Hostname": {"f:4"}, "Boot": {"f:5"}, "AsPid2": {"f:6"}, "Volatile": {"f:7"},
			"Binds": {"f:8", "f:9"}, "Environment": {"f:10", "f:11"}, "Credentials": {"f:12", "f:13"},
			"UUID": {"f:14"}, "Console": {"f:15"}, "NotifyReady": {"f:16"}, "Listen": {"f:17", "f:18"},
			"Args": {"f:19", "f:19", "f:20"}, "LinkJournal": {"f:21"},
		},
	}, {
		name: "syntax: comments, blanks, spaces, continuation, CRLF, BOM",
		text: "\uFEFF; comment\n\n  [Container]  \r\n  # indented comment\r\n Hostname = web \r\nParameters=a \\\n  b\\\n\nBoot=1",
		want: Config{Hostname: "web", Boot: true, Args: []string{"a", "b"}},
		src:  Sources{"Hostname": {"f:5"}, "Args": {"f:6", "f:6"}, "Boot": {"f:9"}},
	}, {
		name: "later wins, empty resets",
		text: "[Container]\nHostname=a\nHostname=b\nBind=/x\nBindReadOnly=/y\nBind=\nBind=/z\nBoot=yes\nBoot=\nEnvironment=A=1\nEnvironment=\n",
		want: Config{Hostname: "b", Binds: []Bind{{"/z", "/z", false, true}}},
		src:  Sources{"Hostname": {"f:3"}, "Binds": {"f:7"}},
	}, {
		name: "section twice",
		text: "[Container]\nBoot=yes\n[Container]\nAsPid2=yes\n",
		want: Config{Boot: true, AsPid2: true},
		src:  Sources{"Boot": {"f:2"}, "AsPid2": {"f:4"}},
	}, {
		name:    "unknown key",
		text:    "[Container]\nBoot=yes\nNetwork=yes\n",
		wantErr: `f:3: unknown key "Network" in [Container]`,
	}, {
		name:    "Machine is not a key",
		text:    "[Container]\nMachine=web\n",
		wantErr: `f:2: unknown key "Machine"`,
	}, {
		name:    "unknown section",
		text:    "[Container]\n\n[Exec]\nBoot=yes\n",
		wantErr: "f:3: unknown section [Exec] (the only section is [Container])",
	}, {
		name:    "outside a section",
		text:    "# c\nBoot=yes\n[Container]\n",
		wantErr: `f:2: "Boot=yes" is outside any section; put it under [Container]`,
	}, {
		name:    "no equals sign",
		text:    "[Container]\nBoot\n",
		wantErr: `f:2: expected KEY=VALUE, a [Section] header or a comment, found "Boot"`,
	}, {
		name:    "unterminated header",
		text:    "[Container\nBoot=yes\n",
		wantErr: "f:1: section header without ']'",
	}, {
		name:    "text after header",
		text:    "[Container] x\n",
		wantErr: `f:1: unexpected "x" after the section header`,
	}, {
		name:    "bad value names file, line and key",
		text:    "[Container]\n\nBind=x\n",
		wantErr: `f:3: invalid Bind= "x": source "x" is not an absolute path`,
	}, {
		name:    "bad read-only bind",
		text:    "[Container]\nBindReadOnly=/a:b\n",
		wantErr: `f:2: invalid BindReadOnly= "/a:b": target "b" is not an absolute path`,
	}, {
		name:    "bad bool",
		text:    "[Container]\nBoot=maybe\n",
		wantErr: `f:2: invalid Boot= "maybe": not a boolean (use yes or no)`,
	}, {
		name:    "bad hostname",
		text:    "[Container]\nHostname=a_b\n",
		wantErr: `f:2: Hostname=: invalid hostname "a_b"`,
	}, {
		// Both are kept, in order, for cat; the last one wins at start
		// (activation.MergeCredentials), as with the flags.
		name: "one credential twice",
		text: "[Container]\nSetCredential=a:1\nLoadCredential=a:/x\n",
		want: Config{Credentials: []Credential{{ID: "a", Data: []byte("1")}, {ID: "a", Path: "/x"}}},
		src:  Sources{"Credentials": {"f:2", "f:3"}},
	}, {
		name:    "comment continued",
		text:    "[Container]\n# see C:\\\nBoot=yes\n",
		wantErr: "f:2: comment ends with a backslash",
	}, {
		name:    "comment inside continuation",
		text:    "[Container]\nParameters=a \\\n# c\nb\n",
		wantErr: "f:3: comment inside the value continued from line 2",
	}, {
		name:    "value ends with backslash",
		text:    "[Container]\nHostname=a\\\\\n\n",
		wantErr: "f:2: Hostname=: the value ends with a backslash",
	}, {
		name:    "control character",
		text:    "[Container]\nEnvironment=A=\x01\n",
		wantErr: "f:2: Environment=: the value contains a control character",
	}, {
		name:    "line too long",
		text:    "[Container]\nEnvironment=A=" + strings.Repeat("x", 2048) + "\n",
		wantErr: "f:2: line longer than 2047 bytes",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, src, err := ParseConfigFile("f", strings.NewReader(tt.text))
			checkErr(t, err, tt.wantErr)
			if err != nil {
				return
			}
			wantConfig(t, got, src, tt.want, tt.src)
		})
	}
}

func TestParseConfigFileTooLarge(t *testing.T) {
	text := "[Container]\n" + strings.Repeat("# filler\n", maxConfigSize/9+1)
	_, _, err := ParseConfigFile("big", strings.NewReader(text))
	checkErr(t, err, "big: larger than")
}

// FuzzParseConfigFile checks that the line scanner and go-systemd's parser
// never disagree, and that Describe writes what ParseConfigFile reads back.
func FuzzParseConfigFile(f *testing.F) {
	for _, s := range []string{
		"[Container]\nBoot=yes\nBind=/a:/b\n",
		"[Container]\nParameters=a \\\n b\n",
		"[Container]\nSetCredential=k:\\x00\nEnvironment=A=1\nListen=80\n",
		"[Container]\r\nHostname=x\r\n",
		"# c\n[Container]\n\tVolatile = state \n",
		"[Container]\nNotifyReady=no\nUUID=0123abcd-4567-89ef-0123-456789abcdef\nConsole=pipe\n",
		"[Container]\nNetworkZone=web\nPort=8080:80\nPort=udp:53\nSettings=trusted\nNetworkBridge=br0\nNetworkNamespacePath=/run/netns/a\n",
		"[Container]\nHostname=a\\\\\n",
		"[Container]\nBoot=\\\n[x]\n",
		"[Container]\nDirectory=/srv/web\nHostname=web.lan\nBoot=yes\nAsPid2=no\nVolatile=state\nBind=/srv/data:/data\n" +
			"BindReadOnly=/etc/resolv.conf::norbind\nEnvironment=GREETING=hello world\nSetCredential=pw:sec\\x72et\n" +
			"LoadCredential=key:/etc/key\nConsole=passive\nListen=[::1]:80\nParameters=a \"quoted arg\"\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, src, err := ParseConfigFile("f", strings.NewReader(text))
		if err != nil {
			if strings.Contains(err.Error(), "go-systemd") {
				t.Fatalf("scanner and parser disagree on %q: %v", text, err)
			}
			return
		}
		out := Describe(c, src)
		for _, line := range strings.Split(out, "\n") {
			if len(line) > maxLineLength {
				return // escaping can lengthen a line past what the parser takes
			}
		}
		c2, _, err := ParseConfigFile("described", strings.NewReader(out))
		if err != nil {
			t.Fatalf("Describe wrote what ParseConfigFile rejects: %v\ninput: %q\nwritten:\n%s", err, text, out)
		}
		if !reflect.DeepEqual(normalize(c2), normalize(c)) {
			t.Fatalf("round trip changed the config\ninput: %q\nwritten:\n%s\n got %+v\nwant %+v", text, out, c2, c)
		}
	})
}

// normalize makes empty lists nil, so configs compare by content.
func normalize(c Config) Config {
	if len(c.Binds) == 0 {
		c.Binds = nil
	}
	if len(c.Environment) == 0 {
		c.Environment = nil
	}
	if len(c.Credentials) == 0 {
		c.Credentials = nil
	}
	if len(c.Listen) == 0 {
		c.Listen = nil
	}
	if len(c.Args) == 0 {
		c.Args = nil
	}
	if len(c.Ports) == 0 {
		c.Ports = nil
	}
	return c
}

// --setenv and Environment= carry the same assignments, even those that
// unit-file syntax would trim or continue (white space or a backslash at
// the end): sockspawn cat quotes them, and NAME.conf reads them back.
func TestSetenvRoundTrip(t *testing.T) {
	var flag Option
	for _, o := range Options() {
		if o.Key == "Environment" {
			flag = o
		}
	}
	for _, e := range []string{"A=x", "A=x ", "A=x\t", `A=x\`, "A= ", "A=", `A="quoted"`, "A=hello world", "A='x' "} {
		var c Config
		if err := flag.SetFlag(&c, "--setenv", e); err != nil {
			t.Fatalf("--setenv=%q: %v", e, err)
		}
		text := Describe(c, Sources{"Environment": {SourceCommandLine}})
		again, _, err := ParseConfigFile("described", strings.NewReader(text))
		if err != nil || len(again.Environment) != 1 || again.Environment[0] != e {
			t.Errorf("--setenv=%q: read back as %q, %v\n%s", e, again.Environment, err, text)
		}
	}
	for text, want := range map[string]string{
		"[Container]\nEnvironment=\"A=x \"\n":     "A=x ",
		"[Container]\nEnvironment='A=x\\\\'\n":    `A=x\`,
		"[Container]\nEnvironment=A=\"x\" \n":     `A="x"`,
		"[Container]\nEnvironment=GREETING=a b\n": "GREETING=a b",
		"[Container]\nEnvironment=\"A=\"x\"\" \n": "A=x",
	} {
		c, _, err := ParseConfigFile("f", strings.NewReader(text))
		if err != nil || len(c.Environment) != 1 || c.Environment[0] != want {
			t.Errorf("%q: %q, %v; want %q", text, c.Environment, err, want)
		}
	}
	for text, want := range map[string]string{
		"[Container]\nEnvironment=\"A=x\" B=y\n": `invalid Environment= "\"A=x\" B=y": want one quoted KEY=VALUE`,
		"[Container]\nEnvironment=\"A=x\n":       "unterminated quote",
		"[Container]\nEnvironment=\"1A=x\"\n":    "variable name",
	} {
		_, _, err := ParseConfigFile("f", strings.NewReader(text))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error with %q", text, err, want)
		}
	}
}
