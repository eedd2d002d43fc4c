package systemd

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestCapabilities: one name for each capability up to the last one x/sys
// knows, each with its own number.
func TestCapabilities(t *testing.T) {
	byNumber := map[int]string{}
	for name, n := range Capabilities {
		if other, ok := byNumber[n]; ok {
			t.Errorf("%s and %s are both %d", name, other, n)
		}
		byNumber[n] = name
	}
	for n := 0; n <= unix.CAP_LAST_CAP; n++ {
		if _, ok := byNumber[n]; !ok {
			t.Errorf("capability %d has no name", n)
		}
	}
	if len(Capabilities) != unix.CAP_LAST_CAP+1 {
		t.Errorf("%d names for %d capabilities", len(Capabilities), unix.CAP_LAST_CAP+1)
	}
}
