//go:build linux

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hostMachineView is what one running machine is, as seen from outside
// and inside.
type hostMachineView struct {
	m         hostMachine
	hostname  string
	machineID string
	uuid      string            // container_uuid of its init
	fdNames   string            // LISTEN_FDNAMES of its init
	cgroup    string            // its init's cgroup2 path, as the test sees it
	ns        map[string]string // namespace kind -> its init's namespace
}

// hostNamespaceKinds are the namespaces every machine has of its own. The
// network namespace is the host's: sockspawn has no private network.
var hostNamespaceKinds = []string{"pid", "mnt", "uts", "ipc", "cgroup"}

func hostView(t *testing.T, h *nspawnHost, name string) hostMachineView {
	t.Helper()
	v := hostMachineView{m: h.Machine(t, name), ns: map[string]string{}}
	v.hostname = strings.TrimSpace(v.m.Enter(10*time.Second, "hostname").Stdout)
	v.machineID = strings.TrimSpace(v.m.Enter(10*time.Second, "cat", "/etc/machine-id").Stdout)
	env := pid1Env(t, v.m.Init)
	v.uuid, v.fdNames = env["container_uuid"], env["LISTEN_FDNAMES"]
	v.cgroup = hostPidCgroup(v.m.Init)
	for _, k := range hostNamespaceKinds {
		v.ns[k], _ = os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", v.m.Init, k))
	}
	return v
}

// testHostTwoMachines: web and db run side by side without sharing a
// name, a UUID, a cgroup, a namespace, a socket or a runtime directory,
// and stopping one leaves the other alone.
func testHostTwoMachines(t *testing.T, h *nspawnHost) {
	hostStopUnits(t, h, "container@web.service", "container@web.socket", "container@db.service", "container@db.socket")
	h.WriteFile(t, "/etc/sockspawn/web.conf", hostMachineConfig)
	h.WriteFile(t, "/etc/sockspawn/db.conf", hostMachineConfig)
	if r := h.Run(t, bootTimeout, "systemctl", "start", "container@web.service", "container@db.service"); r.Status != 0 {
		t.Fatalf("systemctl start container@web.service container@db.service: %s", r)
	}
	web, db := hostView(t, h, "web"), hostView(t, h, "db")
	for _, v := range []hostMachineView{web, db} {
		name := v.m.Name
		if v.hostname != name {
			t.Errorf("machine %s has hostname %q", name, v.hostname)
		}
		if v.uuid == "" || v.machineID == "" {
			t.Errorf("machine %s: container_uuid %q, /etc/machine-id %q; want both set", name, v.uuid, v.machineID)
		}
		if want := "/machine.slice/container@" + name + ".service/payload/init.scope"; !strings.HasSuffix(v.cgroup, want) {
			t.Errorf("machine %s: its init is in cgroup %q, want one ending in %q", name, v.cgroup, want)
		}
		if want := "container@" + name + ".socket"; v.fdNames != want {
			t.Errorf("machine %s: LISTEN_FDNAMES=%q, want %q (its own socket unit's fds only)", name, v.fdNames, want)
		}
		if _, err := os.Stat(h.Path("/run/sockspawn/machines/" + name)); err != nil {
			t.Errorf("machine %s: no runtime directory: %v", name, err)
		}
		// Every process in the machine's payload cgroup is the
		// machine's own.
		payload := filepath.Join(cgroupMount(), strings.TrimSuffix(v.cgroup, "/init.scope"))
		for _, pid := range hostCgroupProcs(payload) {
			if ns, _ := os.Readlink(fmt.Sprintf("/proc/%s/ns/pid", pid)); ns != v.ns["pid"] {
				comm, _ := os.ReadFile(fmt.Sprintf("/proc/%s/comm", pid))
				t.Errorf("machine %s: process %s (%s) in its cgroup %s is not in its pid namespace", name, pid, strings.TrimSpace(string(comm)), payload)
			}
		}
	}
	if web.uuid == db.uuid {
		t.Errorf("web and db share container_uuid %s", web.uuid)
	}
	if web.machineID == db.machineID {
		t.Errorf("web and db share machine-id %s", web.machineID)
	}
	for _, k := range hostNamespaceKinds {
		if web.ns[k] == db.ns[k] {
			t.Errorf("web and db share their %s namespace %s", k, web.ns[k])
		}
	}

	// Stopping db leaves web running, with its runtime directory.
	h.Must(t, "systemctl", "stop", "container@db.service")
	if p := h.Show(t, "container@web.service", "ActiveState"); p["ActiveState"] != "active" {
		t.Errorf("stopping db stopped web too: %s", hostProps(p))
	}
	if !hostAlive(web.m.Init) {
		t.Errorf("stopping db ended web's init (pid %d)", web.m.Init)
	}
	if _, err := os.Stat(h.Path("/run/sockspawn/machines/web")); err != nil {
		t.Errorf("stopping db removed web's runtime directory: %v", err)
	}
	if _, err := os.Lstat(h.Path("/run/sockspawn/machines/db")); err == nil {
		t.Errorf("db's runtime directory is left after it stopped")
	}
	if s := strings.TrimSpace(web.m.Enter(30*time.Second, "systemctl", "is-system-running").Stdout); s != "running" && s != "degraded" {
		t.Errorf("after db stopped, systemd in web says %q", s)
	}
}

// hostCgroupProcs lists the processes of a cgroup and its descendants, by
// pid in the test's pid namespace.
func hostCgroupProcs(dir string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(filepath.Join(p, "cgroup.procs"))
		out = append(out, strings.Fields(string(b))...)
		return nil
	})
	return out
}
