package activation

import "syscall"

// SIGRTMIN+3 as user space counts it: glibc keeps the kernel's first two
// real-time signals (32, 33) for itself, so SIGRTMIN is 34 and systemd's
// "halt" signal is 37.
const sigRTMin3 = syscall.Signal(34 + 3)

// Signal returns the signal the action sends, or 0 for None.
func (a Action) Signal() syscall.Signal {
	switch a {
	case SendRTMin3:
		return sigRTMin3
	case SendTerm:
		return syscall.SIGTERM
	case SendKill:
		return syscall.SIGKILL
	}
	return 0
}
