//go:build linux

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// exeReport is the probe's report of `probe exe`.
type exeReport struct {
	Pid      int               `json:"pid"`
	Exe      string            `json:"exe"`
	SHA256   string            `json:"sha256"`
	Seals    []string          `json:"seals"`
	FS       string            `json:"fs"`
	Open     map[string]string `json:"open"`
	Truncate string            `json:"truncate"`
	Write    string            `json:"write"`
	MapFiles map[string]string `json:"map_files"`
}

// TestBoundaryStageBinary: the container never reaches the host's
// sockspawn binary (CVE-2019-5736). With --as-pid2 PID 1 is sockspawn's
// stub, run from the sealed stage binary: the host's binary in a detached
// read-only overlayfs without an upper layer (a file system that cannot
// write at all), or where that is missing a sealed memfd copy.
// /proc/1/exe must name no host path and refuse writing every way /proc
// offers. An image whose init is "#!/proc/self/exe" makes the stage run
// itself again inside the container: that too is the sealed binary. The
// host's binary must hash the same afterwards.
func TestBoundaryStageBinary(t *testing.T) {
	needRoot(t)
	t.Parallel()
	probe := needProbe(t)
	before := fileSHA256(t, sockspawnBin)
	t.Cleanup(func() {
		if after := fileSHA256(t, sockspawnBin); after != before {
			t.Errorf("the host's sockspawn binary %s changed: sha256 %s before, %s after", sockspawnBin, before, after)
		}
	})

	t.Run("as-pid2", func(t *testing.T) {
		t.Parallel()
		m, status := runToEnd(t, runSpec{Args: []string{"-D", "/", "--volatile=yes", "--console=pipe", "-q", "--as-pid2", withProbe(), "--", probePath, "exe"}})
		if status != 0 {
			t.Fatalf("sockspawn exited with %d; stderr:\n%s", status, m.Stderr.String())
		}
		var r exeReport
		parseProbe(t, m.Stdout.String(), &r)
		checkStageExe(t, r, before, 2)
	})

	// Once the payload runs, the supervisor has let go of the sealed
	// binary: a memfd copy's memory, or the overlay mount, is not held
	// for the container's whole life.
	t.Run("copy-released", func(t *testing.T) {
		t.Parallel()
		m := startMachine(t, runSpec{Args: []string{"-D", "/", "--volatile=yes", "--console=pipe", "-q", "--", "/bin/sh", "-c", "trap 'exit 0' TERM; sleep 60 & wait"}, Notify: true})
		m.Leader()
		dir := fmt.Sprintf("/proc/%d/fd", m.cmd.Process.Pid)
		fds, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range fds {
			if l, _ := os.Readlink(dir + "/" + fd.Name()); strings.HasPrefix(l, "/memfd:sockspawn") || l == "/"+filepath.Base(sockspawnBin) {
				t.Errorf("the supervisor still holds fd %s -> %s while the payload runs", fd.Name(), l)
			}
		}
	})

	// The image's init is a script whose interpreter is /proc/self/exe,
	// the stage binary; its one argument makes that binary the stub PID
	// 1 again, which runs the image's /attack (the probe) as PID 2.
	t.Run("shebang-stub", func(t *testing.T) {
		t.Parallel()
		img := shebangImage(t, probe, "#!/proc/self/exe __pid2\n")
		m, status := runToEnd(t, runSpec{Args: []string{"-D", img, "-b", "--console=pipe", "-q", "--", "/attack", "exe"}})
		if status != 0 {
			t.Fatalf("sockspawn exited with %d; stderr:\n%s", status, m.Stderr.String())
		}
		var r exeReport
		parseProbe(t, m.Stdout.String(), &r)
		// This stub has no ns_last_pid: the probe gets whatever pid is next.
		checkStageExe(t, r, before, 0)
	})

	// Plain "#!/proc/self/exe": the stage binary runs with the script's
	// path as its command. It must fail, and say so.
	for _, mode := range []string{"boot", "command"} {
		t.Run("shebang-"+mode, func(t *testing.T) {
			t.Parallel()
			img := shebangImage(t, probe, "#!/proc/self/exe\n")
			args := []string{"-D", img, "--console=pipe", "-q", "-b"}
			if mode == "command" {
				args = []string{"-D", img, "--console=pipe", "-q", "--", "/sbin/init"}
			}
			m, status := runToEnd(t, runSpec{Args: args})
			stderr := strings.TrimSpace(m.Stderr.String())
			t.Logf("exit status %d, stderr: %s", status, stderr)
			if status == 0 {
				t.Errorf("an init that is \"#!/proc/self/exe\" ended with status 0; want a failure")
			}
			if l := lines(stderr); len(l) != 1 || !strings.Contains(l[0], "/sbin/init") {
				t.Errorf("want one line on stderr naming /sbin/init, got:\n%s", stderr)
			}
		})
	}
}

// checkStageExe judges what the probe, as pid (0: any but 1), could do
// to /proc/1/exe.
func checkStageExe(t *testing.T, r exeReport, hostSHA string, pid int) {
	t.Helper()
	if (pid != 0 && r.Pid != pid) || r.Pid <= 1 {
		t.Errorf("the probe ran as pid %d, want %d under the stub", r.Pid, pid)
	}
	switch {
	case r.Exe == "":
		t.Errorf("readlink /proc/1/exe inside gave nothing")
	case r.Exe == sockspawnBin || strings.HasPrefix(r.Exe, filepath.Dir(sockspawnBin)):
		t.Errorf("/proc/1/exe inside is %q: the host's sockspawn binary", r.Exe)
	case !strings.HasPrefix(r.Exe, "/memfd:") && r.FS != "overlay,ro":
		t.Errorf("/proc/1/exe inside is %q on %q, want the sealed memfd (/memfd:…) or a read-only overlayfs", r.Exe, r.FS)
	}
	if _, err := os.Lstat(r.Exe); err == nil {
		t.Errorf("/proc/1/exe inside is %q, which exists on the host", r.Exe)
	}
	if r.SHA256 != hostSHA {
		t.Logf("/proc/1/exe inside hashes to %s, the host's sockspawn to %s", r.SHA256, hostSHA)
	}
	// A memfd must be sealed against writes; an overlayfs without an
	// upper layer has nowhere to write (EROFS whatever its mount flags).
	if strings.HasPrefix(r.Exe, "/memfd:") && (len(r.Seals) != 1 || !strings.Contains(r.Seals[0], "WRITE") || !strings.Contains(r.Seals[0], "SEAL")) {
		t.Errorf("seals of /proc/1/exe: %v, want at least WRITE and SEAL", r.Seals)
	}
	t.Logf("/proc/1/exe inside: %q on %s, seals %v", r.Exe, r.FS, r.Seals)
	refused := []string{"ETXTBSY", "EPERM", "EACCES", "EROFS"}
	for how, res := range r.Open {
		if !slices.Contains(refused, res) {
			t.Errorf("opening /proc/1/exe for writing (%s) inside: %s, want one of %v", how, res, refused)
		}
	}
	if len(r.Open) < 4 {
		t.Errorf("the probe tried only %d ways of opening /proc/1/exe: %v", len(r.Open), r.Open)
	}
	if r.Write != "" {
		t.Errorf("a write(2) to /proc/1/exe inside was possible at all: %s", r.Write)
	}
	if !slices.Contains(refused, r.Truncate) {
		t.Errorf("truncate(/proc/1/exe) inside: %s, want one of %v", r.Truncate, refused)
	}
	if len(r.MapFiles) == 0 {
		t.Logf("no /proc/1/map_files entry of the executable was found to try")
	}
	for f, res := range r.MapFiles {
		if !slices.Contains(refused, res) {
			t.Errorf("opening /proc/1/map_files/%s O_RDWR inside: %s, want one of %v", f, res, refused)
		}
	}
}

// shebangImage builds an image whose /sbin/init is the script text, with
// the probe at /attack.
func shebangImage(t *testing.T, probe, script string) string {
	t.Helper()
	img := filepath.Join(t.TempDir(), "image")
	for _, d := range []string{"sbin", "etc"} {
		if err := os.MkdirAll(filepath.Join(img, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(img, "sbin/init"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	copyExecutable(t, probe, filepath.Join(img, "attack"), 0o755)
	return img
}

func copyExecutable(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
}
