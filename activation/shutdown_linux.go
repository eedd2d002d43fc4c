package activation

import (
	"syscall"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

// Signal returns the signal the action sends, or 0 for None.
func (a Action) Signal() syscall.Signal {
	switch a {
	case SendRTMin3:
		return systemd.SigRTMin3
	case SendTerm:
		return syscall.SIGTERM
	case SendKill:
		return syscall.SIGKILL
	}
	return 0
}
