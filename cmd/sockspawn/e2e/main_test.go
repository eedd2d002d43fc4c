//go:build linux

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	// sockspawnBin is the sockspawn binary TestMain built.
	sockspawnBin string
	// confDir holds only the conformance payload; containers get it
	// read-only at /opt/conf.
	confDir string
	// skipAll, when not empty, is why every test is skipped.
	skipAll string
	// e2eWanted is SOCKSPAWN_E2E=1: missing prerequisites fail the tests.
	e2eWanted = os.Getenv("SOCKSPAWN_E2E") == "1"
)

// confInContainer is where containers see confDir.
const confInContainer = "/opt/conf"

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	if _, set := os.LookupEnv("SOCKSPAWN_E2E"); !set && os.Geteuid() != 0 {
		skipAll = "end-to-end tests run as root (set SOCKSPAWN_E2E=1 to make missing prerequisites fail)"
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "sockspawn-e2e-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	sockspawnBin = filepath.Join(dir, "sockspawn")
	confDir = filepath.Join(dir, "conf")
	if err := goBuild(sockspawnBin, "github.com/sockspawn/sockspawn/cmd/sockspawn"); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	if err := goBuild(filepath.Join(confDir, "conformance"), "github.com/sockspawn/sockspawn/cmd/sockspawn/e2e/conformance"); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	return m.Run()
}

// goBuild builds a static binary of pkg at out.
func goBuild(out, pkg string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	cmd := exec.Command(goBin, "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// missing skips t for want of what, or fails it under SOCKSPAWN_E2E=1.
func missing(t *testing.T, what string) {
	t.Helper()
	if e2eWanted {
		t.Fatalf("prerequisite missing: %s (SOCKSPAWN_E2E=1 makes this a failure)", what)
	}
	t.Skipf("prerequisite missing: %s", what)
}

// needBinary skips t when the whole package is skipped.
func needBinary(t *testing.T) {
	t.Helper()
	if skipAll != "" {
		t.Skip(skipAll)
	}
}

// needRoot is for tests that run containers.
func needRoot(t *testing.T) {
	t.Helper()
	needBinary(t)
	if os.Geteuid() != 0 {
		missing(t, "root")
	}
	if cgroupMount() == "" {
		missing(t, "a cgroup2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified")
	}
	if _, err := os.Stat("/usr/bin/true"); err != nil {
		missing(t, "/usr/bin/true (the host's own OS serves as the image)")
	}
}

// needSystemd is for tests that boot this machine's own systemd.
func needSystemd(t *testing.T) {
	t.Helper()
	needRoot(t)
	found := false
	for _, p := range []string{"/usr/lib/systemd/systemd", "/lib/systemd/systemd"} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			found = true
		}
	}
	if !found {
		missing(t, "systemd (/usr/lib/systemd/systemd)")
	}
	for _, tool := range []string{"nsenter", "systemctl"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing(t, tool)
		}
	}
}

// helperBuild is one helper program, built at most once.
type helperBuild struct {
	once sync.Once
	dir  string
	err  error
}

var helperBuilds sync.Map // package path -> *helperBuild

// helperBinary builds the Go program pkg once, as dir/name in a directory
// of its own inside TestMain's (removed with it), for binding into
// containers, and returns that directory.
func helperBinary(t *testing.T, name, pkg string) string {
	t.Helper()
	v, _ := helperBuilds.LoadOrStore(pkg, &helperBuild{})
	b := v.(*helperBuild)
	b.once.Do(func() {
		b.dir = filepath.Join(filepath.Dir(sockspawnBin), name)
		if b.err = os.MkdirAll(b.dir, 0o755); b.err == nil {
			b.err = goBuild(filepath.Join(b.dir, name), pkg)
		}
	})
	if b.err != nil {
		t.Fatalf("build %s: %v", name, b.err)
	}
	return b.dir
}
