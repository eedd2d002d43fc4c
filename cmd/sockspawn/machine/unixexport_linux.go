package machine

import (
	"sync"

	"github.com/sockspawn/sockspawn/payload"
)

// mountUnixExport makes the machine's /run/host/unix-export for one boot:
// a fresh tmpfs the container's root owns, read-only at
// /run/sockspawn/unix-export/NAME on the host. remove takes it away; a
// copy a killed sockspawn left is removed by the next start.
func mountUnixExport(machine string, users *payload.UserRange, warn func(string)) (remove func(), err error) {
	var uid uint32
	if users != nil {
		uid = users.Base
	}
	undo, err := payload.MountUnixExport(payload.UnixExportPath(machine), uid, uid)
	if err != nil {
		return nil, err
	}
	return sync.OnceFunc(func() {
		if err := undo(); err != nil {
			warn(err.Error())
		}
	}), nil
}
