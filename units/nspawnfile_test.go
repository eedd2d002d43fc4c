package units

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

func TestParseNspawnFile(t *testing.T) {
	yes := true
	every := `# written for systemd-nspawn@web.service
[Exec]
Boot=yes
Parameters=systemd.unit=multi-user.target "quoted arg"
Environment=LANG=C.UTF-8 "GREETING=hello world"
Environment=MORE=1
Capability=CAP_NET_RAW CAP_SYS_TIME
DropCapability=CAP_SYS_BOOT
MachineID=0123abcd456789ef0123456789abcdef
PrivateUsers=pick
NotifyReady=yes
Hostname=web.lan
Timezone=symlink
LinkJournal=try-host

[Files]
Volatile=state
Bind=/srv/data:/data
BindReadOnly=/etc/resolv.conf

[Network]
VirtualEthernet=yes
Port=8080:80
Port=udp:53
`
	full := Config{
		Boot: true, Args: []string{"systemd.unit=multi-user.target", "quoted arg"},
		Environment:      []string{"LANG=C.UTF-8", "GREETING=hello world", "MORE=1"},
		Capabilities:     []string{"CAP_NET_RAW", "CAP_SYS_TIME"},
		DropCapabilities: []string{"CAP_SYS_BOOT"},
		UUID:             "0123abcd-4567-89ef-0123-456789abcdef", PrivateUsers: "pick", NotifyReady: &yes,
		Hostname: "web.lan", Timezone: "symlink", LinkJournal: LinkJournalTryHost, Volatile: systemd.VolatileState,
		Binds:       []Bind{{"/srv/data", "/data", false, true}, {"/etc/resolv.conf", "/etc/resolv.conf", true, true}},
		NetworkVeth: true,
		Ports:       []Port{{"tcp", 8080, 80}, {"udp", 53, 53}},
	}
	fullSrc := Sources{
		"Boot": {"f:3"}, "Args": {"f:4", "f:4"}, "Environment": {"f:5", "f:5", "f:6"},
		"Capabilities": {"f:7", "f:7"}, "DropCapabilities": {"f:8"}, "UUID": {"f:9"}, "PrivateUsers": {"f:10"},
		"NotifyReady": {"f:11"}, "Hostname": {"f:12"}, "Timezone": {"f:13"}, "LinkJournal": {"f:14"},
		"Volatile": {"f:17"}, "Binds": {"f:18", "f:19"}, "NetworkVeth": {"f:22"}, "Ports": {"f:23", "f:24"},
	}
	// Untrusted: nspawn's privileged settings are dropped, the rest stays.
	untrusted := full
	untrusted.Capabilities, untrusted.UUID, untrusted.PrivateUsers, untrusted.Binds = nil, "", "", nil
	untrusted.NetworkVeth, untrusted.Ports = false, nil
	untrustedSrc := Sources{}
	for k, v := range fullSrc {
		switch k {
		case "Capabilities", "UUID", "PrivateUsers", "Binds", "NetworkVeth", "Ports":
		default:
			untrustedSrc[k] = v
		}
	}
	tests := []struct {
		name     string
		text     string
		trusted  bool
		want     Config
		src      Sources
		notices  []string // the key each notice names, in order
		wantErr  string
		noticeOK bool
	}{
		{name: "every key, trusted", text: every, trusted: true, want: full, src: fullSrc},
		{name: "every key, untrusted", text: every, want: untrusted, src: untrustedSrc,
			notices: []string{"f:7: ignoring Capability=", "f:9: ignoring MachineID=", "f:10: ignoring PrivateUsers=",
				"f:18: ignoring Bind=", "f:19: ignoring BindReadOnly=", "f:22: ignoring VirtualEthernet=", "f:23: ignoring Port=", "f:24: ignoring Port="}},
		{name: "empty value resets", text: "[Exec]\nEnvironment=A=1\nEnvironment=\nEnvironment=B=2\n", trusted: true,
			want: Config{Environment: []string{"B=2"}}, src: Sources{"Environment": {"f:4"}}},
		{name: "bind users", text: "[Files]\nBindUser=alice bob\nBindUser=carol\n", trusted: true,
			want: Config{BindUsers: []string{"alice", "bob", "carol"}}, src: Sources{"BindUsers": {"f:2", "f:2", "f:3"}}},
		{name: "bind users, untrusted", text: "[Files]\nBindUser=alice\n", want: Config{}, src: Sources{},
			notices: []string{"f:2: ignoring BindUser="}},
		{name: "bind root", text: "[Files]\nBindUser=root\n", wantErr: `f:2: invalid BindUser= "root"`},
		{name: "bridge and zone", text: "[Network]\nBridge=br0\n", trusted: true,
			want: Config{NetworkBridge: "br0"}, src: Sources{"NetworkBridge": {"f:2"}}},
		{name: "unsupported key", text: "[Exec]\nBoot=yes\nUser=nobody\n", wantErr: "f:3: User= in [Exec] is not supported by sockspawn: the payload runs as root"},
		{name: "unsupported limit", text: "[Exec]\nLimitNOFILE=1024\n", wantErr: "f:2: LimitNOFILE= in [Exec] is not supported by sockspawn: set LimitNOFILE= in a drop-in"},
		{name: "unknown key", text: "[Network]\nPorts=80\n", wantErr: `f:2: unknown key "Ports" in [Network]`},
		{name: "key of another section", text: "[Files]\nBoot=yes\n", wantErr: `f:2: unknown key "Boot" in [Files]`},
		{name: "unknown section", text: "[Container]\nBoot=yes\n", wantErr: "f:1: unknown section [Container] (a .nspawn file has [Exec], [Files] and [Network])"},
		{name: "outside a section", text: "Boot=yes\n", wantErr: `f:1: "Boot=yes" is outside any section; put it under [Exec], [Files] or [Network]`},
		{name: "bad boolean", text: "[Exec]\nBoot=maybe\n", wantErr: "f:2: invalid Boot="},
		{name: "bad port", text: "[Network]\nPort=tcp:0\n", wantErr: `f:2: invalid Port= "tcp:0"`},
		{name: "bad port, untrusted", text: "[Network]\nPort=sctp:80\n", wantErr: `f:2: invalid Port= "sctp:80"`},
		{name: "bad machine id", text: "[Exec]\nMachineID=xyz\n", wantErr: `f:2: invalid MachineID= "xyz"`},
		{name: "quoted blanks kept", text: "[Exec]\nEnvironment=\"B=y \" C=z\nEnvironment=D=w \n", trusted: true,
			want: Config{Environment: []string{"B=y ", "C=z", "D=w"}}, src: Sources{"Environment": {"f:2", "f:2", "f:3"}}},
		{name: "blank word", text: "[Exec]\nEnvironment=A=1 \"  \"\n", wantErr: "f:2: Environment=: an empty word"},
		{name: "bad environment", text: "[Exec]\nEnvironment=NOEQUALS\n", wantErr: "f:2: invalid Environment="},
		{name: "empty environment word", text: "[Exec]\nEnvironment=A=1 \"\"\n", wantErr: "f:2: Environment=: an empty word"},
		{name: "bad capability", text: "[Exec]\nDropCapability=CAP_NOPE\n", wantErr: "f:2: invalid DropCapability="},
		{name: "volatile overlay", text: "[Files]\nVolatile=overlay\n", wantErr: "f:2: invalid Volatile= \"overlay\": overlay mode is not supported"},
		{name: "bad zone", text: "[Network]\nZone=much-too-long-zone\n", wantErr: "f:2: invalid Zone="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, src, notices, err := ParseNspawnFile("f", strings.NewReader(tt.text), tt.trusted)
			checkErr(t, err, tt.wantErr)
			if tt.wantErr != "" {
				return
			}
			wantConfig(t, c, src, tt.want, tt.src)
			if len(notices) != len(tt.notices) {
				t.Fatalf("notices %q, want %d", notices, len(tt.notices))
			}
			for i, n := range notices {
				if !strings.HasPrefix(n, tt.notices[i]) || !strings.Contains(n, "not trusted") {
					t.Errorf("notice %d = %q, want one starting %q and saying the file is not trusted", i, n, tt.notices[i])
				}
			}
		})
	}
}

// Every key of systemd.nspawn(5) is either supported or refused with a
// reason, never unknown; and no key is both.
func TestNspawnKeysCovered(t *testing.T) {
	for k, v := range nspawnKeys {
		if _, ok := configKeys[v.Key]; !ok {
			t.Errorf("%s maps to %s=, which the configuration file does not have", k, v.Key)
		}
		if _, ok := nspawnUnsupported[k]; ok {
			t.Errorf("%s is both supported and unsupported", k)
		}
	}
	// The keys of systemd 252's nspawn-gperf.gperf.
	all := strings.Fields(`Exec.Boot Exec.Ephemeral Exec.ProcessTwo Exec.Parameters Exec.Environment Exec.User
		Exec.Capability Exec.AmbientCapability Exec.DropCapability Exec.KillSignal Exec.Personality Exec.MachineID
		Exec.WorkingDirectory Exec.PivotRoot Exec.PrivateUsers Exec.NotifyReady Exec.SystemCallFilter Exec.LimitCPU
		Exec.LimitFSIZE Exec.LimitDATA Exec.LimitSTACK Exec.LimitCORE Exec.LimitRSS Exec.LimitNOFILE Exec.LimitAS
		Exec.LimitNPROC Exec.LimitMEMLOCK Exec.LimitLOCKS Exec.LimitSIGPENDING Exec.LimitMSGQUEUE Exec.LimitNICE
		Exec.LimitRTPRIO Exec.LimitRTTIME Exec.Hostname Exec.NoNewPrivileges Exec.OOMScoreAdjust Exec.CPUAffinity
		Exec.ResolvConf Exec.LinkJournal Exec.Timezone Exec.SuppressSync Files.ReadOnly Files.Volatile Files.Bind
		Files.BindReadOnly Files.TemporaryFileSystem Files.Inaccessible Files.Overlay Files.OverlayReadOnly
		Files.PrivateUsersChown Files.PrivateUsersOwnership Files.BindUser Network.Private Network.Interface
		Network.MACVLAN Network.IPVLAN Network.VirtualEthernet Network.VirtualEthernetExtra Network.Bridge
		Network.Zone Network.Port`)
	for _, k := range all {
		section, key, _ := strings.Cut(k, ".")
		err := nspawnKeyCheck(section, key)
		if err != nil && !strings.Contains(err.Error(), "is not supported by sockspawn") {
			t.Errorf("%s: %v", k, err)
		}
	}
	if n := len(nspawnKeys) + len(nspawnUnsupported); n != len(all) {
		t.Errorf("%d keys in the tables, systemd has %d", n, len(all))
	}
}

// nspawnDirs makes the trusted directories (etc, run) and an image
// directory root/machines/NAME, and writes files (relative to root).
func nspawnDirs(t *testing.T, files map[string]string) (root string, l Lookup) {
	t.Helper()
	root = t.TempDir()
	for _, d := range []string{"etc", "run", "conf", "machines/web"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root, Lookup{
		SearchPath: []string{filepath.Join(root, "conf")},
		NspawnPath: []string{filepath.Join(root, "etc"), filepath.Join(root, "run")},
		Set:        map[string]bool{},
	}
}

func TestFindNspawn(t *testing.T) {
	root, l := nspawnDirs(t, map[string]string{
		"run/web.nspawn":      "",
		"machines/web.nspawn": "",
		"machines/db.nspawn":  "",
		"etc/both.nspawn":     "",
		"run/both.nspawn":     "",
	})
	if err := os.Mkdir(filepath.Join(root, "etc", "dir.nspawn"), 0o755); err != nil {
		t.Fatal(err)
	}
	img := func(n string) string { return filepath.Join(root, "machines", n) }
	tests := []struct {
		name, image, want string
		trusted           bool
		wantErr           string
	}{
		{"web", img("web"), filepath.Join(root, "run/web.nspawn"), true, ""},    // /run before next to the image
		{"both", img("both"), filepath.Join(root, "etc/both.nspawn"), true, ""}, // /etc before /run
		{"db", img("db"), filepath.Join(root, "machines/db.nspawn"), false, ""}, // next to the image: untrusted
		{"db", "/", "", false, ""},                                 // an image of / has no "next to"
		{"db", filepath.Join(root, "elsewhere/db"), "", false, ""}, // next to the image, not by name
		{"none", img("none"), "", false, ""},
		{"dir", img("dir"), "", false, "is a directory"},
		{"../x", img("x"), "", false, "invalid machine name"},
	}
	for _, tt := range tests {
		got, trusted, err := FindNspawn(tt.name, tt.image, l.NspawnPath)
		checkErr(t, err, tt.wantErr)
		if got != tt.want || trusted != tt.trusted {
			t.Errorf("FindNspawn(%q, %q) = %q, %v; want %q, %v", tt.name, tt.image, got, trusted, tt.want, tt.trusted)
		}
	}
}

// TestLoadMachinePrecedence checks each rule of precedence and of trust.
func TestLoadMachinePrecedence(t *testing.T) {
	const nspawn = "[Exec]\nHostname=from-nspawn\nEnvironment=A=nspawn B=nspawn\n[Files]\nBind=/srv/a\n[Network]\nVirtualEthernet=yes\nPort=8080:80\n"
	type check func(t *testing.T, l Loaded)
	field := func(name string, want any, src ...string) check {
		return func(t *testing.T, l Loaded) {
			t.Helper()
			got := reflect.ValueOf(l.Config).FieldByName(name).Interface()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s = %#v, want %#v", name, got, want)
			}
			if !reflect.DeepEqual(l.Sources[name], []string(src)) && !(len(src) == 0 && len(l.Sources[name]) == 0) {
				t.Errorf("sources of %s = %q, want %q", name, l.Sources[name], src)
			}
		}
	}
	tests := []struct {
		name   string
		files  map[string]string
		flags  []string // configuration-file lines given as if on the command line
		checks []check
		notice int // how many notices
		nspawn string
	}{{
		name:   "trusted file in etc applies whole",
		files:  map[string]string{"etc/web.nspawn": nspawn},
		nspawn: "etc/web.nspawn",
		checks: []check{
			field("Hostname", "from-nspawn", "R/etc/web.nspawn:2"),
			field("Environment", []string{"A=nspawn", "B=nspawn"}, "R/etc/web.nspawn:3", "R/etc/web.nspawn:3"),
			field("Binds", []Bind{{"/srv/a", "/srv/a", false, true}}, "R/etc/web.nspawn:5"),
			field("NetworkVeth", true, "R/etc/web.nspawn:7"),
			field("Ports", []Port{{"tcp", 8080, 80}}, "R/etc/web.nspawn:8"),
			field("Boot", true, SourceNspawnDefault), // as systemd-nspawn@.service
		},
	}, {
		name:   "file next to the image: privileged settings ignored",
		files:  map[string]string{"machines/web.nspawn": nspawn},
		nspawn: "machines/web.nspawn",
		notice: 3,
		checks: []check{
			field("Hostname", "from-nspawn", "R/machines/web.nspawn:2"),
			field("Binds", []Bind(nil)),
			field("NetworkVeth", true, SourceNspawnDefault), // nspawn@'s --network-veth, not the file's
			field("Ports", []Port(nil)),
		},
	}, {
		name:   "Settings=trusted in NAME.conf trusts the file next to the image",
		files:  map[string]string{"machines/web.nspawn": nspawn, "conf/web.conf": "[Container]\nSettings=trusted\n"},
		nspawn: "machines/web.nspawn",
		checks: []check{
			field("Binds", []Bind{{"/srv/a", "/srv/a", false, true}}, "R/machines/web.nspawn:5"),
			field("Ports", []Port{{"tcp", 8080, 80}}, "R/machines/web.nspawn:8"),
		},
	}, {
		name:   "--settings=trusted on the command line",
		files:  map[string]string{"machines/web.nspawn": nspawn},
		flags:  []string{"Settings=trusted"},
		nspawn: "machines/web.nspawn",
		checks: []check{field("NetworkVeth", true, "R/machines/web.nspawn:7")},
	}, {
		name:   "--settings=no ignores the file",
		files:  map[string]string{"etc/web.nspawn": nspawn, "conf/web.conf": "[Container]\nSettings=no\n"},
		checks: []check{field("Hostname", ""), field("Boot", false), field("Settings", SettingsNo, "R/conf/web.conf:2")},
	}, {
		name:   "the command line's --settings wins over NAME.conf's",
		files:  map[string]string{"etc/web.nspawn": nspawn, "conf/web.conf": "[Container]\nSettings=no\n"},
		flags:  []string{"Settings=yes"},
		nspawn: "etc/web.nspawn",
		checks: []check{field("Hostname", "from-nspawn", "R/etc/web.nspawn:2")},
	}, {
		name: "NAME.conf wins key by key, lists whole",
		files: map[string]string{"etc/web.nspawn": nspawn,
			"conf/web.conf": "[Container]\nHostname=from-conf\nEnvironment=C=conf\nBoot=no\n"},
		nspawn: "etc/web.nspawn",
		checks: []check{
			field("Hostname", "from-conf", "R/conf/web.conf:2"),
			field("Environment", []string{"C=conf"}, "R/conf/web.conf:3"),
			field("Binds", []Bind{{"/srv/a", "/srv/a", false, true}}, "R/etc/web.nspawn:5"),
			field("Boot", false, "R/conf/web.conf:4"),
		},
	}, {
		name:   "the command line wins over both",
		files:  map[string]string{"etc/web.nspawn": nspawn, "conf/web.conf": "[Container]\nHostname=from-conf\n"},
		flags:  []string{"Hostname=from-flags", "Port=9090"},
		nspawn: "etc/web.nspawn",
		checks: []check{
			field("Hostname", "from-flags", SourceCommandLine),
			field("Ports", []Port{{"tcp", 9090, 9090}}, SourceCommandLine),
			field("Environment", []string{"A=nspawn", "B=nspawn"}, "R/etc/web.nspawn:3", "R/etc/web.nspawn:3"),
		},
	}, {
		name:   "Directory= in NAME.conf moves where the untrusted file is looked for",
		files:  map[string]string{"machines/web.nspawn": nspawn, "conf/web.conf": "[Container]\nDirectory=/nonexistent/web\n"},
		checks: []check{field("Hostname", "")},
	}, {
		name:   "a file in /etc wins over one next to the image, which is not read",
		files:  map[string]string{"etc/web.nspawn": "[Exec]\nHostname=etc\n", "machines/web.nspawn": "[Exec]\nBogus=1\n"},
		nspawn: "etc/web.nspawn",
		checks: []check{field("Hostname", "etc", "R/etc/web.nspawn:2")},
	}, {
		name:   "ProcessTwo= keeps the machine from booting by default",
		files:  map[string]string{"etc/web.nspawn": "[Exec]\nProcessTwo=yes\nParameters=/bin/sh\n"},
		nspawn: "etc/web.nspawn",
		checks: []check{field("Boot", false), field("AsPid2", true, "R/etc/web.nspawn:2")},
	}, {
		name:   "a network setting in the file: no default veth",
		files:  map[string]string{"etc/web.nspawn": "[Network]\nPrivate=yes\n"},
		nspawn: "etc/web.nspawn",
		checks: []check{field("NetworkVeth", false), field("PrivateNetwork", true, "R/etc/web.nspawn:2")},
	}, {
		name:   "a network setting in NAME.conf: no default veth",
		files:  map[string]string{"etc/web.nspawn": "[Exec]\nHostname=x\n", "conf/web.conf": "[Container]\nNetworkNamespacePath=/run/netns/x\n"},
		nspawn: "etc/web.nspawn",
		checks: []check{field("NetworkVeth", false)},
	}, {
		name:   "a network setting on the command line: no default veth",
		files:  map[string]string{"etc/web.nspawn": "[Exec]\nHostname=x\n"},
		flags:  []string{"NetworkZone=z"},
		nspawn: "etc/web.nspawn",
		checks: []check{field("NetworkVeth", false), field("NetworkZone", "z", SourceCommandLine)},
	}, {
		name:   "no .nspawn file: no default Boot",
		files:  map[string]string{"conf/web.conf": "[Container]\nHostname=x\n"},
		checks: []check{field("Boot", false), field("NetworkVeth", false)},
	}, {
		name:   "no .nspawn file: a private user range by default, as nspawn@'s -U",
		files:  map[string]string{"conf/web.conf": "[Container]\nHostname=x\n"},
		checks: []check{field("PrivateUsers", "pick", SourceMachineDefault)},
	}, {
		name:   "PrivateUsers=no in NAME.conf turns the default off",
		files:  map[string]string{"conf/web.conf": "[Container]\nPrivateUsers=no\n"},
		checks: []check{field("PrivateUsers", "no", "R/conf/web.conf:2")},
	}, {
		name:   "PrivateUsers= in a trusted .nspawn file",
		files:  map[string]string{"etc/web.nspawn": "[Exec]\nPrivateUsers=no\n"},
		nspawn: "etc/web.nspawn",
		checks: []check{field("PrivateUsers", "no", "R/etc/web.nspawn:2")},
	}, {
		name:   "an untrusted file's PrivateUsers= is dropped: the default stays",
		files:  map[string]string{"machines/web.nspawn": "[Exec]\nPrivateUsers=no\n"},
		nspawn: "machines/web.nspawn",
		notice: 1,
		checks: []check{field("PrivateUsers", "pick", SourceMachineDefault)},
	}, {
		name:   "--private-users=no on the command line",
		files:  map[string]string{"conf/web.conf": "[Container]\nPrivateUsers=1000:65536\n"},
		flags:  []string{"PrivateUsers=no"},
		checks: []check{field("PrivateUsers", "no", SourceCommandLine)},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, l := nspawnDirs(t, tt.files)
			if !strings.Contains(tt.files["conf/web.conf"], "Directory=") {
				l.Flags.Directory, l.Set["Directory"] = filepath.Join(root, "machines/web"), true
			}
			if len(tt.flags) > 0 {
				fc, _, err := ParseConfigFile("flags", strings.NewReader("[Container]\n"+strings.Join(tt.flags, "\n")))
				if err != nil {
					t.Fatal(err)
				}
				l.Flags.Settings, l.Flags.Hostname, l.Flags.Ports, l.Flags.NetworkZone, l.Flags.PrivateUsers = fc.Settings, fc.Hostname, fc.Ports, fc.NetworkZone, fc.PrivateUsers
				for _, f := range tt.flags {
					k, _, _ := strings.Cut(f, "=")
					l.Set[configKeys[k].Field] = true
				}
			}
			got, err := LoadMachine("web", l)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range got.Sources {
				for i := range v {
					v[i] = strings.Replace(v[i], root, "R", 1)
				}
				got.Sources[k] = v
			}
			for _, c := range tt.checks {
				c(t, got)
			}
			if want := ""; tt.nspawn != "" {
				want = filepath.Join(root, tt.nspawn)
				if got.Nspawn != want {
					t.Errorf("Nspawn = %q, want %q", got.Nspawn, want)
				}
			} else if got.Nspawn != "" {
				t.Errorf("Nspawn = %q, want none", got.Nspawn)
			}
			if len(got.Notices) != tt.notice {
				t.Errorf("notices %q, want %d", got.Notices, tt.notice)
			}
		})
	}
}

// FuzzParseNspawnFile checks that the scanner and go-systemd's parser
// never disagree on a .nspawn file, that an untrusted file never sets a
// privileged setting, and that what it sets is written by Describe in a
// form the configuration file reads back the same.
func FuzzParseNspawnFile(f *testing.F) {
	for _, s := range []string{
		"[Exec]\nBoot=yes\nEnvironment=A=1 \"B=2 3\"\nCapability=CAP_NET_RAW CAP_SYS_TIME\n",
		"[Files]\nBind=/a:/b:norbind\nBindReadOnly=/c\nVolatile=state\n",
		"[Network]\nVirtualEthernet=yes\nPort=udp:53\nPort=8080:80\nZone=web\n",
		"[Exec]\nMachineID=0123abcd456789ef0123456789abcdef\nPrivateUsers=pick\nParameters=a \\\n b\n",
		"[Exec]\r\nHostname=x\r\n",
		"[Exec]\nUser=x\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, src, _, err := ParseNspawnFile("f", strings.NewReader(text), true)
		if err != nil {
			if strings.Contains(err.Error(), "go-systemd") {
				t.Fatalf("scanner and parser disagree on %q: %v", text, err)
			}
			return
		}
		u, _, _, err := ParseNspawnFile("f", strings.NewReader(text), false)
		if err != nil {
			t.Fatalf("trusted parse succeeded, untrusted failed: %v", err)
		}
		if len(u.Binds)+len(u.Ports)+len(u.Capabilities) > 0 || u.UUID != "" || u.PrivateUsers != "" || u.NetworkVeth || u.PrivateNetwork ||
			u.NetworkBridge != "" || u.NetworkZone != "" {
			t.Fatalf("an untrusted file set a privileged setting: %+v", u)
		}
		out := Describe(c, src)
		for _, line := range strings.Split(out, "\n") {
			if len(line) > maxLineLength {
				return
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

// The README's "Coming from systemd-nspawn@" section names every key that
// does not carry over, and every one that does.
func TestReadmeNspawnKeys(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "### Coming from systemd-nspawn@")
	if !ok {
		t.Fatal("README.md has no section \"Coming from systemd-nspawn@\"")
	}
	section, _, _ = strings.Cut(section, "\n### ")
	for k := range nspawnUnsupported {
		_, key, _ := strings.Cut(k, ".")
		if strings.HasPrefix(key, "Limit") {
			key = "Limit*"
		}
		if !strings.Contains(section, "`"+key+"=`") {
			t.Errorf("the README does not say why %s= does not carry over", key)
		}
	}
	for k := range nspawnKeys {
		_, key, _ := strings.Cut(k, ".")
		if !strings.Contains(section, "`"+key+"=`") {
			t.Errorf("the README does not list %s= as carried over", key)
		}
	}
}
