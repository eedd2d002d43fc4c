package payload

import (
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func TestDroppedCapabilities(t *testing.T) {
	const (
		capNetAdmin = 12
		capSysAdmin = 21
		capMknod    = 27
	)
	audit := []int{29, 30, 37} // CAP_AUDIT_WRITE, CAP_AUDIT_CONTROL, CAP_AUDIT_READ
	tests := []struct {
		privateNetwork bool
		wantNetAdmin   bool // whether CAP_NET_ADMIN is dropped
	}{
		{privateNetwork: false, wantNetAdmin: true},
		{privateNetwork: true, wantNetAdmin: false},
	}
	for _, tt := range tests {
		caps := DroppedCapabilities(tt.privateNetwork)
		for _, c := range audit {
			if !slices.Contains(caps, c) {
				t.Errorf("privateNetwork=%v: audit capability %d is not dropped", tt.privateNetwork, c)
			}
		}
		for _, c := range []int{capSysAdmin, capMknod} {
			if slices.Contains(caps, c) {
				t.Errorf("privateNetwork=%v: capability %d is dropped; the Container Interface demands it", tt.privateNetwork, c)
			}
		}
		if got := slices.Contains(caps, capNetAdmin); got != tt.wantNetAdmin {
			t.Errorf("privateNetwork=%v: CAP_NET_ADMIN dropped = %v, want %v", tt.privateNetwork, got, tt.wantNetAdmin)
		}
		for _, c := range []int{14, 16, 17, 25, 38, 39} { // CAP_IPC_LOCK, CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_TIME, CAP_PERFMON, CAP_BPF
			if !slices.Contains(caps, c) {
				t.Errorf("privateNetwork=%v: host-wide capability %d is not dropped", tt.privateNetwork, c)
			}
		}
		seen := map[int]bool{}
		for _, c := range caps {
			if c < 0 || c > unix.CAP_LAST_CAP {
				t.Errorf("capability %d out of range", c)
			}
			if seen[c] {
				t.Errorf("capability %d listed twice", c)
			}
			seen[c] = true
		}
	}
}
