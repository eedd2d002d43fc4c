//go:build linux

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// uidMapOf reads the first line of a process's uid_map: inside, outside, count.
func uidMapOf(t *testing.T, pid int) (inside, outside, count uint64) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/uid_map", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		t.Fatalf("uid_map of %d: %q", pid, b)
	}
	inside, _ = strconv.ParseUint(f[0], 10, 32)
	outside, _ = strconv.ParseUint(f[1], 10, 32)
	count, _ = strconv.ParseUint(f[2], 10, 32)
	return
}

// TestUserNamespaceBoot boots systemd with -U: root inside is an
// unprivileged range outside, the image is not chowned (idmapped), a
// file root makes inside belongs to the mapped UID outside, and root
// inside cannot read a host file its outside UID cannot.
func TestUserNamespaceBoot(t *testing.T) {
	needSystemd(t)
	t.Parallel()
	shared := t.TempDir()
	if err := os.Chmod(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(shared, "secret")
	if err := os.WriteFile(secret, []byte("host only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var usrBefore syscall.Stat_t
	if err := syscall.Stat("/usr/bin", &usrBefore); err != nil {
		t.Fatal(err)
	}
	m, _ := bootMachine(t, "-U", "--console=passive", "--bind="+shared+":/mnt/shared")
	checkSystemRunning(t, m)

	in, out, count := uidMapOf(t, m.Leader())
	if in != 0 || out == 0 || count != 65536 {
		t.Fatalf("uid_map of the container's init: %d %d %d, want 0 <nonzero> 65536", in, out, count)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(fmt.Sprintf("/proc/%d", m.Leader()), &st); err != nil {
		t.Fatal(err)
	}
	if uint64(st.Uid) != out {
		t.Errorf("the container's init runs as host UID %d, want %d (its root)", st.Uid, out)
	}

	t.Run("image-not-chowned", func(t *testing.T) {
		owner, err := m.Enter(10*time.Second, "stat", "-c", "%u:%g", "/usr/bin")
		if err != nil {
			t.Fatal(err)
		}
		if owner != "0:0" {
			t.Errorf("/usr/bin inside is owned by %s, want 0:0 (idmapped)", owner)
		}
		var after syscall.Stat_t
		if err := syscall.Stat("/usr/bin", &after); err != nil {
			t.Fatal(err)
		}
		if after.Uid != usrBefore.Uid || after.Gid != usrBefore.Gid || after.Ctim != usrBefore.Ctim {
			t.Errorf("the host's /usr/bin changed: %d:%d ctime %v, was %d:%d ctime %v", after.Uid, after.Gid, after.Ctim, usrBefore.Uid, usrBefore.Gid, usrBefore.Ctim)
		}
	})

	t.Run("created-file-owner", func(t *testing.T) {
		if _, err := m.Enter(10*time.Second, "sh", "-c", "echo inside > /mnt/shared/made-inside"); err != nil {
			t.Fatal(err)
		}
		var fst syscall.Stat_t
		if err := syscall.Stat(filepath.Join(shared, "made-inside"), &fst); err != nil {
			t.Fatal(err)
		}
		if uint64(fst.Uid) != out || uint64(fst.Gid) != out {
			t.Errorf("a file root made inside is owned by %d:%d outside, want %d:%d", fst.Uid, fst.Gid, out, out)
		}
	})

	t.Run("host-file-unreadable", func(t *testing.T) {
		got, err := m.Enter(10*time.Second, "cat", "/mnt/shared/secret")
		if err == nil {
			t.Errorf("root inside read a host file only the host's root may read: %q", got)
		} else if !strings.Contains(err.Error(), "Permission denied") {
			t.Errorf("reading the host's secret: %v, want Permission denied", err)
		}
	})

	t.Run("services", func(t *testing.T) {
		if out, err := m.Enter(60*time.Second, "systemd-run", "--wait", "-q", "-p", "PrivateDevices=yes", "-p", "PrivateTmp=yes",
			"-p", "ProtectSystem=strict", "-p", "DynamicUser=yes", "true"); err != nil {
			t.Errorf("systemd-run with sandboxing inside a user namespace: %v %s", err, out)
		}
	})

	m.Signal(syscall.SIGTERM)
	if status := m.Wait(shutdownTimeout); status != 0 {
		t.Errorf("exit status after SIGTERM: %d, want 0", status)
	}
}
