//go:build linux

package e2e

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// TestExitStatus: a command's exit status is sockspawn's, and without -b
// READY=1 is sent as soon as the command runs.
func TestExitStatus(t *testing.T) {
	needRoot(t)
	t.Parallel()
	for _, want := range []int{0, 7} {
		t.Run(fmt.Sprintf("exit-%d", want), func(t *testing.T) {
			m := startMachine(t, runSpec{Notify: true, Args: []string{"-D", "/", "--volatile=yes", "--", "/bin/sh", "-c", fmt.Sprintf("exit %d", want)}})
			if got := m.Wait(20 * time.Second); got != want {
				t.Errorf("exit status %d, want the command's %d; stderr:\n%s", got, want, m.Stderr.String())
			}
			leaderIdx, _ := m.Notify.Index("X_SOCKSPAWN_LEADER_PID=")
			readyIdx, _ := m.Notify.Index("READY=1")
			if leaderIdx < 0 || readyIdx < leaderIdx {
				t.Errorf("want X_SOCKSPAWN_LEADER_PID then READY=1 (the command ran), got:\n%s", m.Notify)
			}
			checkForwarded(t, m)
		})
	}
}

// TestSecondSIGTERMKills: a payload that ignores SIGTERM is killed at
// once by a second SIGTERM.
func TestSecondSIGTERMKills(t *testing.T) {
	needRoot(t)
	t.Parallel()
	m := startMachine(t, runSpec{Notify: true, Args: []string{"-D", "/", "--volatile=yes", "--",
		"/bin/sh", "-c", `trap "" TERM; while :; do sleep 0.1; done`}})
	m.WaitNotify("READY=1", 20*time.Second)
	m.Leader()
	time.Sleep(200 * time.Millisecond) // let the shell install its trap
	m.Signal(syscall.SIGTERM)
	time.Sleep(500 * time.Millisecond)
	if m.hasExited() {
		t.Fatalf("the payload ignores SIGTERM, yet sockspawn exited with %d on the first SIGTERM", m.exitStatus())
	}
	start := time.Now()
	m.Signal(syscall.SIGTERM)
	status := m.Wait(20 * time.Second)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the second SIGTERM took %v to end the container, want at once", d.Round(time.Millisecond))
	}
	if status != 128+int(syscall.SIGKILL) {
		t.Errorf("exit status %d, want %d (init killed by SIGKILL)", status, 128+int(syscall.SIGKILL))
	}
	if i, _ := m.Notify.Index("STOPPING=1"); i < 0 {
		t.Errorf("no STOPPING=1 after SIGTERM:\n%s", m.Notify)
	}
}
