//go:build linux

package e2e

import (
	"strings"
	"testing"
	"time"
)

// testHostBindUserShell: in the nspawn host, a user bound into a machine
// with BindUser= (and PrivateUsers=pick) gets a shell there through
// machined, `machinectl shell USER@NAME`, as the container's UID 60514,
// in their home, and finds their files.
func testHostBindUserShell(t *testing.T, h *nspawnHost) {
	const name, user = "cibu", "e2ebound"
	unit := "container@" + name + ".service"
	hostStopUnits(t, h, unit)
	home := "/srv/" + user + "-home"
	if r := h.Run(t, 30*time.Second, "useradd", "-M", "-d", home, "-s", "/bin/sh", user); r.Status != 0 {
		t.Fatalf("useradd in the nspawn host: %s", r)
	}
	t.Cleanup(func() { h.Run(t, 30*time.Second, "userdel", user) })
	h.Must(t, "mkdir", "-p", home)
	h.WriteFile(t, home+"/note", "the host's note\n")
	h.Must(t, "chown", "-R", user+":", home)
	t.Cleanup(func() { h.Run(t, 10*time.Second, "rm", "-rf", home, "/srv/"+name+"-etc") })
	// The machine's volatile root has no /etc: nss-systemd must be named
	// for passwd and group, and machinectl shell goes through PAM.
	h.WriteFile(t, "/srv/"+name+"-etc/nsswitch.conf", "passwd: files systemd\ngroup: files systemd\nshadow: files systemd\n")
	h.WriteFile(t, "/srv/"+name+"-etc/pam.d/other", "auth required pam_permit.so\naccount required pam_permit.so\npassword required pam_permit.so\nsession required pam_permit.so\n")
	m := hostStartMachine(t, h, name, "PrivateUsers=pick\nBindUser="+user+"\n"+
		"BindReadOnly=/srv/"+name+"-etc/nsswitch.conf:/etc/nsswitch.conf\nBindReadOnly=/srv/"+name+"-etc/pam.d:/etc/pam.d\n")
	if r := m.Enter(10*time.Second, "getent", "passwd", user); r.Status != 0 || !strings.HasPrefix(r.Stdout, user+":x:60514:60514:") {
		t.Errorf("getent passwd %s inside: %s", user, r)
	}
	shell := "sleep 3 | script -qec \"machinectl shell -q " + user + "@" + name + " /bin/sh -c 'echo uid=\\$(id -u) pwd=\\$(pwd); cat note'\" /dev/null"
	r := h.Run(t, 60*time.Second, "sh", "-c", shell)
	if want := "uid=60514 pwd=/run/host/home/" + user; r.Status != 0 || !strings.Contains(r.Stdout, want) || !strings.Contains(r.Stdout, "the host's note") {
		t.Errorf("machinectl shell %s@%s: want %q and the note, got %s", user, name, want, r)
	}
}
