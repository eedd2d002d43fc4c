package activation

import "fmt"

// SystemdInotifyInstances is how many inotify instances a booted systemd
// 252 container holds, as measured on Debian 12 booting its own OS
// (-D / --volatile=yes -b): 5 in PID 1, one each in dbus-daemon,
// systemd-logind and agetty; no more was seen during its boot. It agrees
// with issue 13's count: on a limit of 128, 16 of 50 such containers
// booted. Without them systemd stops in its boot with
// "Failed to allocate manager object: Too many open files" or "Failed to
// create inotify object", and never says READY=1.
const SystemdInotifyInstances = 8

// InotifySysctl is the limit a machine sharing root's budget runs into.
const InotifySysctl = "fs.inotify.max_user_instances"

// InotifyBudget is a user's share of inotify instances: the limit and
// what that user's processes hold now.
type InotifyBudget struct {
	Limit int // fs.inotify.max_user_instances
	Used  int // instances charged to the user
}

// Free is what is left of the budget, never below zero.
func (b InotifyBudget) Free() int {
	if b.Used >= b.Limit {
		return 0
	}
	return b.Limit - b.Used
}

// Short reports whether need instances do not fit in the budget.
func (b InotifyBudget) Short(need int) bool { return b.Free() < need }

// Suggest is the limit to raise fs.inotify.max_user_instances to when
// need does not fit: room for what is used, this machine and as many
// again as already run (the budget runs out when machines multiply),
// rounded up to a multiple of 128 (the kernel's default), and never below
// twice the current limit.
func (b InotifyBudget) Suggest(need int) int {
	want := 2*b.Used + 2*need
	if twice := 2 * b.Limit; want < twice {
		want = twice
	}
	return (want + 127) / 128 * 128
}

// InotifyWarning is what sockspawn says before it boots a machine that
// shares root's budget when need instances do not fit in b; "" when they
// do. It names the sysctl, the value now and the value to raise it to, and
// why.
func InotifyWarning(b InotifyBudget, need int) string {
	if !b.Short(need) {
		return ""
	}
	return fmt.Sprintf("warning: root's inotify instances are nearly used up: %s=%d, %d held by processes of root "+
		"(this machine's peers among them), %d free; a booted systemd needs about %d and, without them, "+
		"stops in its boot without saying READY=1 (\"Failed to allocate manager object\" or \"Failed to create inotify object\" on its console). "+
		"Raise the limit, e.g. sysctl -w %s=%d (and in /etc/sysctl.d/ to keep it)",
		InotifySysctl, b.Limit, b.Used, b.Free(), need, InotifySysctl, b.Suggest(need))
}
