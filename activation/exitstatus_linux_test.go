package activation

import (
	"syscall"
	"testing"
)

func TestExitStatus(t *testing.T) {
	exited := func(code int) syscall.WaitStatus { return syscall.WaitStatus(code << 8) }
	killed := func(sig syscall.Signal) syscall.WaitStatus { return syscall.WaitStatus(sig) }
	dumped := func(sig syscall.Signal) syscall.WaitStatus { return syscall.WaitStatus(sig) | 0x80 }
	stopped := func(sig syscall.Signal) syscall.WaitStatus { return syscall.WaitStatus(sig)<<8 | 0x7f }
	tests := []struct {
		name string
		ws   syscall.WaitStatus
		want int
	}{
		{"exit 0", exited(0), 0},
		{"exit 3", exited(3), 3},
		{"exit 133", exited(133), 133},
		{"exit 255", exited(255), 255},
		{"poweroff or halt", killed(syscall.SIGINT), 0},
		{"reboot", killed(syscall.SIGHUP), ExitReboot},
		{"SIGKILL", killed(syscall.SIGKILL), 128 + 9},
		{"SIGTERM", killed(syscall.SIGTERM), 128 + 15},
		{"SIGSEGV with core", dumped(syscall.SIGSEGV), 128 + 11},
		{"stopped", stopped(syscall.SIGSTOP), ExitNotTerminated},
		{"continued", syscall.WaitStatus(0xffff), ExitNotTerminated},
	}
	for _, tt := range tests {
		if got := ExitStatus(tt.ws); got != tt.want {
			t.Errorf("%s: ExitStatus(%#x) = %d, want %d", tt.name, uint32(tt.ws), got, tt.want)
		}
	}
}
