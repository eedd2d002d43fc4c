package machine

import (
	"reflect"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

// The plan's options follow the configuration and what the run gathered:
// the console's kind, $TERM only for an interactive console, a private
// network for a namespace joined without -U, the sockets' environment.
func TestPlanOptions(t *testing.T) {
	d := decision{Image: "/img", Machine: "web", Hostname: "web", UUID: "u", Console: units.ConsoleReadOnly, Argv: []string{"/bin/sh"}, Tunnel: "/run/t"}
	in := planInput{root: "/run/sockspawn/machines/web", term: "xterm", timezone: "Europe/Berlin", listenFDs: 2, listenNames: []string{"a", "b"}}
	tests := []struct {
		name  string
		c     units.Config
		d     func(*decision)
		in    func(*planInput)
		check func(t *testing.T, o payload.Options)
	}{
		{name: "read-only console", check: func(t *testing.T, o payload.Options) {
			if o.Console != payload.ConsolePTY || slices.Contains(o.Env, "TERM=xterm") || !slices.Contains(o.Env, "TERM=vt220") {
				t.Errorf("console %q, env %q", o.Console, o.Env)
			}
			if o.Root != in.root || o.Image != "/img" || o.Incoming != "/run/t" || o.UnixExport != payload.UnixExportPath("web") || o.Timezone != "Europe/Berlin" {
				t.Errorf("options %+v", o)
			}
			if o.ListenFDs != 2 || !slices.Contains(o.Env, "LISTEN_FDS=2") || !slices.Contains(o.Env, "LISTEN_FDNAMES=a:b") {
				t.Errorf("ListenFDs %d, env %q", o.ListenFDs, o.Env)
			}
			if o.PrivateNetwork {
				t.Error("a private network nobody asked for")
			}
		}},
		{name: "interactive console takes TERM", d: func(d *decision) { d.Console = units.ConsoleInteractive }, check: func(t *testing.T, o payload.Options) {
			if !slices.Contains(o.Env, "TERM=xterm") {
				t.Errorf("env %q lacks the host's TERM", o.Env)
			}
		}},
		{name: "pipe", d: func(d *decision) { d.Console = units.ConsolePipe }, check: func(t *testing.T, o payload.Options) {
			if o.Console != payload.ConsolePipe {
				t.Errorf("console %q", o.Console)
			}
		}},
		{name: "netns joined", in: func(in *planInput) { in.netns = true }, check: func(t *testing.T, o payload.Options) {
			if !o.PrivateNetwork {
				t.Error("a joined namespace is the container's own network")
			}
		}},
		{name: "netns joined with -U", in: func(in *planInput) { in.netns = true }, d: func(d *decision) { d.Users = units.UserRange{Enabled: true} },
			check: func(t *testing.T, o payload.Options) {
				if o.PrivateNetwork {
					t.Error("with -U the joined namespace is not the user namespace's")
				}
			}},
		{name: "veth", c: units.Config{NetworkVeth: true}, check: func(t *testing.T, o payload.Options) {
			if !o.PrivateNetwork {
				t.Error("a veth needs a namespace of its own")
			}
		}},
		{name: "user settings", c: units.Config{Environment: []string{"A=1"}, Binds: []units.Bind{{Source: "/s", Target: "/t", ReadOnly: true}}, TTYs: 2,
			Capabilities: []string{"CAP_NET_ADMIN"}, AsPid2: true},
			check: func(t *testing.T, o payload.Options) {
				if !slices.Contains(o.Env, "A=1") || !o.AsPid2 || o.TTYs != 2 || !slices.Contains(o.KeepCaps, unix.CAP_NET_ADMIN) {
					t.Errorf("options %+v", o)
				}
				if want := []payload.BindMount{{Source: "/s", Target: "/t", ReadOnly: true}}; !reflect.DeepEqual(o.Binds, want) {
					t.Errorf("binds %+v, want %+v", o.Binds, want)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, in := d, in
			if tt.d != nil {
				tt.d(&d)
			}
			if tt.in != nil {
				tt.in(&in)
			}
			tt.check(t, planOptions(tt.c, d, in))
		})
	}
}

// The stage's network: a namespace of its own for a private network or a
// veth, the veth's names, and where forwarded ports enter on the host.
func TestStageNetwork(t *testing.T) {
	ports := []units.Port{{Proto: "tcp", Host: 8080, Container: 80}}
	tests := []struct {
		name               string
		c                  units.Config
		newNet             bool
		veth, bridge, link string
		forward            bool
	}{
		{name: "host network"},
		{name: "private", c: units.Config{PrivateNetwork: true}, newNet: true},
		{name: "veth", c: units.Config{NetworkVeth: true}, newNet: true, veth: "web"},
		{name: "veth with ports", c: units.Config{NetworkVeth: true, Ports: ports}, newNet: true, veth: "web", forward: true, link: payload.HostLink("web")},
		{name: "bridge with ports", c: units.Config{NetworkBridge: "br0", Ports: ports}, newNet: true, veth: "web", bridge: "br0", forward: true},
		{name: "zone with ports", c: units.Config{NetworkZone: "a", Ports: ports}, newNet: true, veth: "web", bridge: units.ZoneBridge("a"), forward: true, link: units.ZoneBridge("a")},
		{name: "ports without veth", c: units.Config{PrivateNetwork: true, Ports: ports}, newNet: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var spec payload.StageSpec
			stageNetwork(&spec, tt.c, "web", nil, func(string) {})
			if got := spec.ExtraFlag&unix.CLONE_NEWNET != 0; got != tt.newNet {
				t.Errorf("new network namespace: %v, want %v", got, tt.newNet)
			}
			if spec.Veth != tt.veth || spec.VethBridge != tt.bridge {
				t.Errorf("veth %q on %q, want %q on %q", spec.Veth, spec.VethBridge, tt.veth, tt.bridge)
			}
			if (spec.Forward != nil) != tt.forward {
				t.Fatalf("forward %+v, want one: %v", spec.Forward, tt.forward)
			}
			if spec.Forward != nil && (spec.Forward.HostLink != tt.link || spec.Forward.Machine != "web" || len(spec.Forward.Ports) != 1) {
				t.Errorf("forward %+v, want host link %q", spec.Forward, tt.link)
			}
		})
	}
}

// With a console pty the stage's stdin and stdout are /dev/null; else
// sockspawn's own.
func TestStageStdio(t *testing.T) {
	stdio, closeStdio, err := stageStdio(payload.ConsolePTY)
	if err != nil {
		t.Fatal(err)
	}
	if stdio[0].Name() != "/dev/null" || stdio[1].Name() != "/dev/null" || stdio[2] == nil {
		t.Errorf("pty: stdio %s %s %v", stdio[0].Name(), stdio[1].Name(), stdio[2])
	}
	closeStdio()
	stdio, closeStdio, err = stageStdio(payload.ConsolePipe)
	if err != nil {
		t.Fatal(err)
	}
	closeStdio()
	if stdio[0] == nil || stdio[0].Name() == "/dev/null" {
		t.Errorf("pipe: stdin %v", stdio[0])
	}
}

func TestUserMapAndPorts(t *testing.T) {
	if userMap(nil) != nil {
		t.Error("userMap(nil) is not nil")
	}
	r := &payload.UserRange{IDMap: payload.IDMap{Base: 65536, Size: 65536}}
	if m := userMap(r); m == nil || m.Base != 65536 {
		t.Errorf("userMap = %v", m)
	}
	got := payloadPorts([]units.Port{{Proto: "udp", Host: 53, Container: 5353}})
	if want := []payload.PortForward{{Proto: "udp", Host: 53, Container: 5353}}; !reflect.DeepEqual(got, want) {
		t.Errorf("payloadPorts = %+v, want %+v", got, want)
	}
}
