//go:build linux

package e2e

import (
	"strings"
	"testing"
	"time"
)

// testMachinectlBind: `machinectl bind` mounts a directory of the nspawn
// host into a running container@.service machine, read-write and
// read-only, through the tunnel at /run/host/incoming; after the machine
// stops, neither the tunnel's symlink nor its directory is left. On the
// way, `machinectl shell` runs a command in it. The machine has
// PrivateUsers=no, since machined refuses a container with a user
// namespace.
//
// The machine's volatile root has no /etc/pam.d (nor has the nspawn
// host's), and machinectl shell's container-shell@.service goes through
// PAM: the machine gets a permissive one bound in.
func testMachinectlBind(t *testing.T, h *nspawnHost) {
	const name = "binder"
	hostStopUnits(t, h, "container@"+name+".service")
	src := "/srv/e2e-bind-" + randomNonce(t)
	h.Must(t, "mkdir", "-p", src)
	t.Cleanup(func() { h.Run(t, 10*time.Second, "rm", "-rf", src) })
	h.WriteFile(t, src+"/greeting", "hello through machinectl bind\n")
	h.WriteFile(t, src+"-pam.d/other", "auth required pam_permit.so\naccount required pam_permit.so\npassword required pam_permit.so\nsession required pam_permit.so\n")
	t.Cleanup(func() { h.Run(t, 10*time.Second, "rm", "-rf", src+"-pam.d") })
	// machined refuses `machinectl bind` for a user namespace:
	// PrivateUsers=no turns off container@.service's default.
	m := hostStartMachine(t, h, name, "PrivateUsers=no\nBindReadOnly="+src+"-pam.d:/etc/pam.d\n")
	if _, base, _ := uidMapOf(t, m.Init); base != 0 {
		t.Errorf("with PrivateUsers=no, the machine's root is host UID %d, want 0", base)
	}

	// machinectl shell relays a pty, and gives up when its input ends:
	// script(1) gives it a terminal, and sleep keeps that open.
	shell := "sleep 3 | script -qec \"machinectl shell -q " + name + " /bin/sh -c 'echo shell-in-\\$(hostname)'\" /dev/null"
	if r := h.Run(t, 30*time.Second, "sh", "-c", shell); r.Status != 0 || !strings.Contains(r.Stdout, "shell-in-"+name) {
		t.Errorf("machinectl shell %s: want shell-in-%s, got %s", name, name, r)
	}

	// Before any bind: /run/host/incoming is there, read-only, and empty.
	if r := m.Enter(10*time.Second, "findmnt", "-n", "-o", "OPTIONS,PROPAGATION", "/run/host/incoming"); r.Status != 0 ||
		!strings.HasPrefix(r.Stdout, "ro,") || !strings.Contains(r.Stdout, "slave") {
		t.Errorf("findmnt /run/host/incoming inside: want a read-only slave mount, got %s", r)
	}
	if r := m.Enter(10*time.Second, "touch", "/run/host/incoming/x"); r.Status == 0 {
		t.Error("the container can write to /run/host/incoming")
	}

	if r := h.Run(t, 30*time.Second, "machinectl", "bind", "--mkdir", name, src, "/mnt/rw"); r.Status != 0 {
		t.Fatalf("machinectl bind --mkdir %s %s /mnt/rw: %s", name, src, r)
	}
	if r := m.Enter(10*time.Second, "cat", "/mnt/rw/greeting"); r.Status != 0 || r.Stdout != "hello through machinectl bind\n" {
		t.Errorf("cat /mnt/rw/greeting inside after machinectl bind: %s", r)
	}
	if r := m.Enter(10*time.Second, "sh", "-c", "echo written-inside > /mnt/rw/reply"); r.Status != 0 {
		t.Errorf("writing to the read-write bind inside: %s", r)
	}
	if got := strings.TrimSpace(h.Must(t, "cat", src+"/reply")); got != "written-inside" {
		t.Errorf("the nspawn host reads %q from what the container wrote, want written-inside", got)
	}

	if r := h.Run(t, 30*time.Second, "machinectl", "bind", "--mkdir", "--read-only", name, src, "/mnt/ro"); r.Status != 0 {
		t.Fatalf("machinectl bind --read-only: %s", r)
	}
	if r := m.Enter(10*time.Second, "cat", "/mnt/ro/greeting"); r.Status != 0 {
		t.Errorf("cat /mnt/ro/greeting inside: %s", r)
	}
	if r := m.Enter(10*time.Second, "touch", "/mnt/ro/nope"); r.Status == 0 {
		t.Error("the container could write through machinectl bind --read-only")
	}
	// The tunnel is empty again: machined moved the mounts out of it.
	if r := m.Enter(10*time.Second, "ls", "-A", "/run/host/incoming"); r.Status != 0 || strings.TrimSpace(r.Stdout) != "" {
		t.Errorf("/run/host/incoming inside after the binds: %s", r)
	}
	// The binds are the container's: the nspawn host's own mount table
	// does not show them.
	if out := h.Must(t, "findmnt", "-rn", "-o", "TARGET"); strings.Contains(out, "/mnt/rw") || strings.Contains(out, "/mnt/ro") {
		t.Errorf("the binds show in the nspawn host's own mount table:\n%s", out)
	}

	link := "/run/systemd/nspawn/propagate/" + name
	if r := h.Run(t, 10*time.Second, "readlink", link); r.Status != 0 || strings.TrimSpace(r.Stdout) != runtimeTunnels+"/"+name {
		t.Errorf("readlink %s while %s runs: %s", link, name, r)
	}
	if r := h.Run(t, shutdownTimeout, "systemctl", "stop", "container@"+name+".service"); r.Status != 0 {
		t.Fatalf("systemctl stop: %s", r)
	}
	for _, p := range []string{link, runtimeMachines + "/" + name, runtimeTunnels + "/" + name} {
		if r := h.Run(t, 10*time.Second, "test", "-e", p, "-o", "-L", p); r.Status == 0 {
			t.Errorf("%s is left in the nspawn host after the machine stopped", p)
		}
	}
}
