package machine

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sockspawn/sockspawn/cmd/sockspawn/idlewatch"
	"github.com/sockspawn/sockspawn/cmd/sockspawn/supervisor"
	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

// The operators' freeze and thaw requests to a machine's supervisor (see
// supervisor.FreezeSignal).
const (
	freezeSignal = supervisor.FreezeSignal
	thawSignal   = supervisor.ThawSignal
)

// operatorSignal says whether sig is one of the operators' requests.
func operatorSignal(sig os.Signal) bool { return sig == freezeSignal || sig == thawSignal }

// controlWait is how long Freeze waits to see it done.
const controlWait = 15 * time.Second

// Freeze asks machine name's supervisor to freeze it now (freeze true) or
// to thaw it, and waits until its cgroup is frozen or thawed.
func Freeze(name string, freeze bool) error {
	cmd := "thaw"
	if freeze {
		cmd = "freeze"
	}
	if err := units.ValidMachineName(name); err != nil {
		return err
	}
	pid, err := supervisorOf(name)
	if err != nil {
		return fmt.Errorf("%s %s: %w", cmd, name, err)
	}
	dir, err := payloadCgroupOf(pid, name)
	if err != nil {
		return fmt.Errorf("%s %s: %w", cmd, name, err)
	}
	if freeze && onlyStage(dir) {
		return fmt.Errorf("machine %s is not booted: it is built and boots on its next connection; nothing to freeze", name)
	}
	fz, err := payload.OpenFreezer(dir)
	if err != nil {
		return fmt.Errorf("%s %s: %w", cmd, name, err)
	}
	defer fz.Close()
	sig := thawSignal
	if freeze {
		sig = freezeSignal
	}
	if err := unix.Kill(pid, sig); err != nil {
		return fmt.Errorf("%s %s: signal its supervisor (pid %d): %w", cmd, name, pid, err)
	}
	if err := fz.WaitFrozen(freeze, controlWait); err != nil {
		if freeze {
			return fmt.Errorf("machine %s did not freeze: it is busy (a connection open or queued, or /run/host/busy held inside), or runs without an idle action; see systemctl status container@%s", name, name)
		}
		return fmt.Errorf("%s %s: %w", cmd, name, err)
	}
	return nil
}

// supervisorOf finds the pid of machine name's supervisor: the holder of
// the lock on its runtime directory.
func supervisorOf(name string) (int, error) {
	dir := filepath.Join(RuntimeBase, name)
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return 0, fmt.Errorf("machine %s is not running (no %s)", name, dir)
		}
		return 0, &os.PathError{Op: "stat", Path: dir, Err: err}
	}
	b, err := os.ReadFile("/proc/locks")
	if err != nil {
		return 0, err
	}
	pid := idlewatch.LockHolder(string(b), unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	if pid == 0 {
		return 0, fmt.Errorf("machine %s is not running (nothing holds %s)", name, dir)
	}
	return pid, nil
}

// payloadCgroupOf is the cgroup2 directory of the container whose
// supervisor is pid, as payload.PayloadCgroup places it.
func payloadCgroupOf(pid int, name string) (string, error) {
	mnt, err := payload.UnifiedMount()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return "", err
	}
	own, err := payload.OwnCgroup(b)
	if err != nil {
		return "", err
	}
	// A delegated supervisor sits in its unit's "supervisor" child.
	if path.Base(own) == "supervisor" {
		if p, _ := payload.PayloadCgroup(path.Dir(own), name, true); p != "" {
			return filepath.Join(mnt, p), nil
		}
	}
	p, _ := payload.PayloadCgroup(own, name, false)
	return filepath.Join(mnt, p), nil
}

// onlyStage reports whether cgroup dir holds a held stage alone (a
// --listen machine waiting for its next connection, its init not run).
func onlyStage(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	pids := strings.Fields(string(b))
	if err != nil || len(pids) == 0 {
		return false
	}
	for _, pid := range pids {
		cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
		if argv0, _, _ := strings.Cut(string(cmdline), "\x00"); argv0 != payload.StageName {
			return false
		}
	}
	return true
}
