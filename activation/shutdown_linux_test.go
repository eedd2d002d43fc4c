package activation

import (
	"syscall"
	"testing"
)

func TestActionSignal(t *testing.T) {
	for a, want := range map[Action]syscall.Signal{None: 0, SendRTMin3: 37, SendTerm: syscall.SIGTERM, SendKill: syscall.SIGKILL} {
		if got := a.Signal(); got != want {
			t.Errorf("%v.Signal() = %d, want %d", a, got, want)
		}
	}
}
