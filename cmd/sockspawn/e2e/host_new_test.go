//go:build linux

package e2e

import (
	"strings"
	"testing"
	"time"
)

// testHostNewSteps: every command `sockspawn new` tells the user to run
// next works, in the order printed. The configuration `new` writes boots
// the image read-write; for the host's own OS the test makes it stateless
// (Volatile=yes) before running the commands.
func testHostNewSteps(t *testing.T, h *nspawnHost) {
	const name = "steps"
	hostStopUnits(t, h, "container@"+name+".service", "container@"+name+".socket")
	t.Cleanup(func() {
		h.Run(t, 30*time.Second, "systemctl", "disable", "container@"+name+".service", "container@"+name+".socket")
	})
	out := h.Must(t, "sockspawn", "new", name, "--image", "/", "--force")
	var cmds []string
	for _, l := range lines(out) {
		if !strings.HasPrefix(l, "  ") {
			continue
		}
		cmd, _, _ := strings.Cut(l, "#")
		if cmd = strings.TrimSpace(cmd); cmd != "" {
			cmds = append(cmds, cmd)
		}
	}
	if len(cmds) == 0 {
		t.Fatalf("sockspawn new printed no command to run next:\n%s", out)
	}
	h.WriteFile(t, "/etc/sockspawn/"+name+".conf", hostMachineConfig)
	for _, cmd := range cmds {
		r := h.Run(t, bootTimeout, strings.Fields(cmd)...)
		if r.Status != 0 {
			t.Errorf("`%s`, as sockspawn new printed it, fails: %s", cmd, r)
		} else {
			t.Logf("`%s`: ok", cmd)
		}
	}
}
