//go:build linux

package e2e

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func TestZZExplore(t *testing.T) {
	h := startNspawnHost(t)
	os.WriteFile("/tmp/explore/leader", []byte(fmt.Sprint(h.Leader)), 0o644)
	for {
		if _, err := os.Stat("/tmp/explore/stop"); err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}
