package machine

import (
	"fmt"
	"os"
	"path"
	"sync"

	"github.com/sockspawn/sockspawn/cmd/sockspawn/control"
	"github.com/sockspawn/sockspawn/payload"
)

// liveBinder carries out `sockspawn bind` for one running container, one
// bind at a time, and remembers the mount each target got, so that a
// second bind to the same target replaces the first instead of stacking
// on it. What it remembers goes with the supervisor.
type liveBinder struct {
	pidfd int // the container's init
	mu    sync.Mutex
	binds map[string]uint64 // target (cleaned) -> mount ID of its live bind
}

func newLiveBinder(pidfd int) *liveBinder {
	return &liveBinder{pidfd: pidfd, binds: map[string]uint64{}}
}

// bind is the control.BindFunc.
func (l *liveBinder) bind(tree *os.File, req control.Request) error {
	target := path.Clean(req.Target)
	l.mu.Lock()
	defer l.mu.Unlock()
	id, err := payload.AttachLive(l.pidfd, tree, payload.LiveBind{
		Target: req.Target, ReadOnly: req.ReadOnly, MkDir: req.MkDir, Replace: l.binds[target],
	})
	if err != nil {
		return fmt.Errorf("bind %s on %s: %w", req.Source, req.Target, err)
	}
	l.binds[target] = id
	return nil
}
