package machine

import (
	"os"
	"strings"
	"testing"
)

// A running machine's supervisor is the holder of the lock on its
// runtime directory; a machine that does not run is said to be so.
func TestSupervisorOf(t *testing.T) {
	privateRuntime(t)
	if _, err := supervisorOf("web"); err == nil || !strings.Contains(err.Error(), "machine web is not running (no ") {
		t.Errorf("no directory: %v", err)
	}
	rt, err := acquireRuntime("web", false)
	if err != nil {
		t.Fatal(err)
	}
	if pid, err := supervisorOf("web"); err != nil || pid != os.Getpid() {
		t.Errorf("locked by this process: pid %d, %v; want %d", pid, err, os.Getpid())
	}
	// Cleanup leaves a running machine alone.
	if errs := Cleanup("web"); errs != nil {
		t.Errorf("Cleanup of a running machine: %v", errs)
	}
	if _, err := os.Stat(rt.Dir); err != nil {
		t.Errorf("Cleanup removed a running machine's directory: %v", err)
	}
	rt.release()
	if err := os.Mkdir(rt.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(rt.Dir)
	if _, err := supervisorOf("web"); err == nil || !strings.Contains(err.Error(), "nothing holds") {
		t.Errorf("unlocked: %v", err)
	}
}

func TestFreezeErrors(t *testing.T) {
	privateRuntime(t)
	for _, tc := range []struct {
		name   string
		freeze bool
		want   string
	}{
		{"-bad", true, "machine name"},
		{"web", true, "freeze web: machine web is not running"},
		{"web", false, "thaw web: machine web is not running"},
	} {
		if err := Freeze(tc.name, tc.freeze); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Freeze(%q, %v): %v, want an error with %q", tc.name, tc.freeze, err, tc.want)
		}
	}
}
