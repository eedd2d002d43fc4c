package machine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A machine's runtime directory is locked while it runs; its mount tunnel
// is made only when asked for; release removes both and leaves the base
// directories, which other machines share.
func TestRuntimeDirectory(t *testing.T) {
	base := t.TempDir()
	oldRuntime, oldTunnel := RuntimeBase, TunnelBase
	RuntimeBase, TunnelBase = filepath.Join(base, "machines"), filepath.Join(base, "propagate")
	t.Cleanup(func() { RuntimeBase, TunnelBase = oldRuntime, oldTunnel })

	for _, tunnel := range []bool{false, true} {
		rt, err := acquireRuntime("web", tunnel)
		if err != nil {
			t.Fatalf("tunnel=%v: %v", tunnel, err)
		}
		if st, err := os.Stat(rt.Dir); err != nil || !st.IsDir() || rt.Dir != filepath.Join(RuntimeBase, "web") {
			t.Errorf("tunnel=%v: runtime directory %q: %v", tunnel, rt.Dir, err)
		}
		wantTunnel := ""
		if tunnel {
			wantTunnel = filepath.Join(TunnelBase, "web")
		}
		if rt.Propagate != wantTunnel {
			t.Errorf("tunnel=%v: Propagate = %q, want %q", tunnel, rt.Propagate, wantTunnel)
		}
		_, err = os.Stat(filepath.Join(TunnelBase, "web"))
		if made := err == nil; made != tunnel {
			t.Errorf("tunnel=%v: tunnel directory made: %v", tunnel, made)
		}
		if _, err := acquireRuntime("web", tunnel); err == nil || !strings.Contains(err.Error(), `"web" is already running`) {
			t.Errorf("tunnel=%v: a second acquire of a running machine: %v", tunnel, err)
		}
		rt.release()
		for _, p := range []string{filepath.Join(RuntimeBase, "web"), filepath.Join(TunnelBase, "web")} {
			if _, err := os.Lstat(p); !os.IsNotExist(err) {
				t.Errorf("tunnel=%v: %s is left after release (%v)", tunnel, p, err)
			}
		}
		if _, err := os.Stat(RuntimeBase); err != nil {
			t.Errorf("tunnel=%v: release removed the shared %s: %v", tunnel, RuntimeBase, err)
		}
	}
}
