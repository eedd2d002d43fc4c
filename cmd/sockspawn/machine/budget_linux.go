package machine

import (
	"fmt"
	"os"

	"github.com/sockspawn/sockspawn/activation"
	"github.com/sockspawn/sockspawn/units"
)

// checkInotifyBudget warns, before a booted machine that shares root's
// budget starts, when root's inotify instances cannot hold one more
// systemd. A machine without a private user range runs as root, and the
// kernel charges what it makes to root. One with a private range is left
// alone: its user namespace is owned by its base UID,
// and the kernel charges what it makes to that UID, which nothing else
// on the host uses. It is a warning, not a refusal: the count is a
// snapshot (peers that stop give instances back, the machine's init may
// need fewer than systemd), and a refusal would make a fleet's start
// depend on its order. It is printed even with -q, and goes to the host
// manager as STATUS=, since the machine it warns of stops in its boot
// without a word.
func checkInotifyBudget(c units.Config, users units.UserRange) {
	if !c.Boot || users.Enabled {
		return
	}
	b, err := activation.RootInotifyBudget()
	if err != nil {
		if !c.Quiet {
			fmt.Fprintf(os.Stderr, "sockspawn: inotify budget not checked: %v\n", err)
		}
		return
	}
	trace(fmt.Sprintf("inotify budget of root: %d of %d in use", b.Used, b.Limit))
	if w := activation.InotifyWarning(b, activation.SystemdInotifyInstances); w != "" {
		fmt.Fprintf(os.Stderr, "sockspawn: %s\n", w)
		notifyHost(fmt.Sprintf("STATUS=%s=%d nearly used up (%d free); the container may not finish booting", activation.InotifySysctl, b.Limit, b.Free()))
	}
}
