//go:build linux

package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hostTestUser creates a user on the host with its home in a temporary
// directory, and removes it at the end of the test.
func hostTestUser(t *testing.T) (name, home string, uid, gid int) {
	t.Helper()
	for _, tool := range []string{"useradd", "userdel"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing(t, tool+" (passwd)")
		}
	}
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name = "e2e-bu-" + hex.EncodeToString(b)
	home = filepath.Join(t.TempDir(), "home")
	if out, err := exec.Command("useradd", "-M", "-d", home, "-s", "/bin/sh", "-c", "Bound User", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("userdel", name).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v: %s", name, err, out)
		}
	})
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("id", "-u", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	uid = atoiT(t, strings.TrimSpace(string(out)))
	out, err = exec.Command("id", "-g", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	gid = atoiT(t, strings.TrimSpace(string(out)))
	if err := os.Chown(home, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "from-host"), []byte("hello from the host\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(home, "from-host"), uid, gid); err != nil {
		t.Fatal(err)
	}
	return name, home, uid, gid
}

func atoiT(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBindUser: --bind-user=NAME with -U makes a host user a user of the
// booted container: getent passwd resolves it through nss-systemd and
// /run/host/userdb, its home is at /run/host/home/NAME and its own, and a
// file the user writes there from a service inside is the user's on the
// host.
func TestBindUser(t *testing.T) {
	needSystemd(t)
	t.Parallel()
	name, home, uid, gid := hostTestUser(t)
	password := "pw-" + randomNonce(t)
	if out, err := exec.Command("sh", "-c", "echo \"$0:$1\" | chpasswd", name, password).CombinedOutput(); err != nil {
		t.Fatalf("chpasswd: %v: %s", err, out)
	}
	// The volatile root has no /etc of its own: the host's nsswitch.conf
	// (systemd for passwd, group and shadow), and its PAM configuration
	// for login.
	m, _ := bootMachine(t, "--console=passive", "-U", "--bind-user="+name, "--ttys=1",
		"--bind-ro=/etc/nsswitch.conf", "--bind-ro=/etc/pam.d", "--bind-ro=/etc/security")
	inHome := "/run/host/home/" + name

	wantOutput(t, m, name+":x:60514:60514:Bound User:"+inHome+":/bin/sh", "getent", "passwd", name)
	wantOutput(t, m, name+":x:60514:", "getent", "group", name)
	wantOutput(t, m, name+" "+name, "stat", "-c", "%U %G", inHome)
	// The user's service, as systemd inside runs it: the user and the
	// home resolved by name.
	wantOutput(t, m, "hello from the host", "systemd-run", "--quiet", "--wait", "--pipe", "-p", "User="+name,
		"sh", "-c", `cat "$HOME/from-host" && echo written-inside > "$HOME/from-inside"`)
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(home, "from-inside"), &st); err != nil {
		t.Fatalf("the file the user wrote inside: %v", err)
	}
	if int(st.Uid) != uid || int(st.Gid) != gid {
		t.Errorf("the file the user wrote inside is %d:%d on the host, want the user's %d:%d", st.Uid, st.Gid, uid, gid)
	}
	// The user logs in on the extra tty with their host password (the
	// hash is in NAME.user-privileged, root's alone) and finds their
	// files.
	if got, err := m.Enter(10*time.Second, "stat", "-c", "%a", "/run/host/userdb/"+name+".user-privileged"); err != nil || got != "600" {
		t.Errorf("/run/host/userdb/%s.user-privileged: mode %q (%v), want 600", name, got, err)
	}
	l := startLogin(t, m.Name)
	l.waitPrompt(t, "login:", 30*time.Second)
	_, _ = l.in.Write([]byte(name + "\r"))
	l.waitOutput(t, "Password:", 30*time.Second)
	_, _ = l.in.Write([]byte(password + "\r"))
	l.waitOutput(t, "$ ", 30*time.Second)
	_, _ = l.in.Write([]byte("echo id=$(id -u) home=$PWD; cat from-host\r"))
	l.waitOutput(t, "hello from the host", 30*time.Second)
	if out := l.out.String(); !strings.Contains(out, "id=60514 home="+inHome) {
		t.Errorf("the user's login shell says:\n%s\nwant id=60514 home=%s", out, inHome)
	}
	_, _ = l.in.Write([]byte("exit\r"))
	l.detach(t)

	// Root inside is not the user: the home stays the user's (mode 0700).
	if _, err := m.Enter(10*time.Second, "setpriv", "--reuid=60515", "--regid=60515", "--clear-groups", "ls", inHome); err == nil {
		t.Error("another UID of the container can list the user's home (mode 0700)")
	}
	m.Signal(syscall.SIGTERM)
	if status := m.Wait(shutdownTimeout); status != 0 {
		t.Errorf("after SIGTERM sockspawn exited with %d, want 0", status)
	}
}

// TestBindUserBadInput: --bind-user of a user that does not exist, of
// root, or without a private user range is refused before anything is
// made.
func TestBindUserBadInput(t *testing.T) {
	needRoot(t)
	t.Parallel()
	name, _, _, _ := hostTestUser(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-U", "--bind-user=e2e-no-such-user"}, "--bind-user=e2e-no-such-user: no such user on the host"},
		{[]string{"-U", "--bind-user=root"}, `invalid --bind-user "root": refusing to bind root`},
		{[]string{"--bind-user=" + name}, "--bind-user=" + name + " needs a private user range (-U)"},
	} {
		m := startMachine(t, runSpec{Args: append(append(volatileHost(), c.args...), "--console=pipe", "--", "/bin/true")})
		if st := m.Wait(30 * time.Second); st != 1 || !strings.Contains(m.Stderr.String(), c.want) {
			t.Errorf("%s: exit status %d, stderr %q; want 1 and %q", strings.Join(c.args, " "), st, m.Stderr.String(), c.want)
		}
	}
}
