package activation

import (
	"bytes"
	"fmt"
	"os"
	"testing"
)

// status is a /proc/PID/status excerpt with the given masks.
func status(blk, cgt string) string {
	return fmt.Sprintf("Name:\tsystemd\nState:\tS (sleeping)\nSigQ:\t0/7823\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t%s\nSigIgn:\t0000000000001000\nSigCgt:\t%s\nCapInh:\t0000000000000000\n", blk, cgt)
}

func TestHaltHandledStatus(t *testing.T) {
	tests := []struct {
		name   string
		status string
		want   bool
	}{
		// The masks below are systemd 252's, as read on this machine at
		// each stage of its life in a container.
		{"systemd just executed", status("0000000000000000", "0000000000000000"), false},
		{"systemd with crash handlers only", status("0000000000000000", "00000000000004ec"), false},
		{"systemd manager (signalfd)", status("7fe3c0fe28014a03", "00000000000004ec"), true},
		{"systemd manager with a thread", status("7fe3c0fe28014a03", "00000001000004ec"), true},
		{"systemd around fork: all blocked", status("fffffffffffbfeff", "00000000000004ec"), false},
		{"glibc sigfillset: all but its own", status("fffffffe7ffbfeff", "00000000000004ec"), false},
		{"handler for SIGRTMIN+3", status("0000000000000000", "0000001000000000"), true},
		{"handler while all blocked", status("fffffffffffbfeff", "0000001000000000"), true},
		{"blocked with SIGQUIT open", status("fffffffffffbfefb", "0000000000000000"), true},
		{"other real-time signals only", status("0000002000000000", "0000000800000000"), false},
		{"Go program: every handler", status("0000000000000000", "fffffffd7fc1feff"), true},
		{"no masks", "Name:\tx\n", false},
		{"malformed SigCgt", status("0000000000000000", "zz"), false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		if got := HaltHandledStatus([]byte(tt.status)); got != tt.want {
			t.Errorf("%s: HaltHandledStatus = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// HaltHandled reads a live process: this test binary is a Go program,
// which catches every signal.
func TestHaltHandledSelf(t *testing.T) {
	ok, err := HaltHandled(os.Getpid())
	if err != nil || !ok {
		t.Fatalf("HaltHandled(self) = %v, %v; want true (Go installs a handler for every signal)", ok, err)
	}
	if _, err := HaltHandled(-1); err == nil {
		t.Errorf("HaltHandled(-1): no error")
	}
}

// The parser agrees with the rule on any pair of masks, whatever the
// other lines hold, and survives any input.
func FuzzHaltHandledStatus(f *testing.F) {
	f.Add(uint64(0x7fe3c0fe28014a03), uint64(0x4ec), []byte("Name:\tsystemd"))
	f.Add(uint64(0xfffffffffffbfeff), uint64(0), []byte(""))
	f.Add(uint64(0), uint64(1)<<36, []byte("SigBlk"))
	f.Fuzz(func(t *testing.T, blk, cgt uint64, other []byte) {
		_ = HaltHandledStatus(other)
		const bit = uint64(1) << 36
		want := cgt&bit != 0 || blk&bit != 0 && !blocksAllOrdinary(blk)
		in := bytes.ReplaceAll(other, []byte("Sig"), nil) // no competing mask lines
		text := append(append(in, '\n'), status(fmt.Sprintf("%016x", blk), fmt.Sprintf("%016x", cgt))...)
		if got := HaltHandledStatus(text); got != want {
			t.Errorf("SigBlk %016x SigCgt %016x: %v, want %v", blk, cgt, got, want)
		}
	})
}

// IsSystemd goes by the process's name: this test binary is not systemd.
func TestIsSystemdSelf(t *testing.T) {
	if IsSystemd(os.Getpid()) {
		t.Errorf("IsSystemd(self) = true for %s", os.Args[0])
	}
	if IsSystemd(-1) {
		t.Errorf("IsSystemd(-1) = true")
	}
}
