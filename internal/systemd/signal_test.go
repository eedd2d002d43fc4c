package systemd

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSigRTMin3 asks bash, which numbers real-time signals as the C
// library does: SIGRTMIN+3 must be the signal we send.
func TestSigRTMin3(t *testing.T) {
	out, err := exec.Command("bash", "-c", "kill -l RTMIN+3").Output()
	if err != nil {
		t.Skipf("bash cannot name RTMIN+3 here: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != "37" {
		t.Errorf("kill -l RTMIN+3 = %q, SigRTMin3 = %d", got, int(SigRTMin3))
	}
}
