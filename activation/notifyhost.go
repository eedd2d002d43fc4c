package activation

import (
	"fmt"
	"os"

	"github.com/coreos/go-systemd/v22/daemon"
)

// NotifyHost sends state, such as the result of ForwardState, to the
// supervisor's own service manager at $NOTIFY_SOCKET. It leaves the
// environment alone. It returns one of:
//
//	(false, nil) - notification not supported ($NOTIFY_SOCKET is unset)
//	(false, err) - notification supported, but it failed
//	(true, nil)  - notification supported, state has been sent
//
// An empty state sends nothing and returns (false, nil).
func NotifyHost(state string) (bool, error) {
	if state == "" {
		return false, nil
	}
	sent, err := daemon.SdNotify(false, state)
	if err != nil {
		return false, fmt.Errorf("notify service manager at %q: %w", os.Getenv("NOTIFY_SOCKET"), err)
	}
	return sent, nil
}
