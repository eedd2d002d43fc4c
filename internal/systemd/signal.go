package systemd

import "syscall"

// SigRTMin3 is SIGRTMIN+3 as user space counts it, systemd's "halt" (a
// clean poweroff of a booted init, what a container manager sends on
// stop): glibc keeps the kernel's first two real-time signals (32, 33) for
// itself, so SIGRTMIN is 34 and this is 37.
const SigRTMin3 = syscall.Signal(34 + 3)
