package supervisor

import (
	"time"

	"github.com/sockspawn/sockspawn/activation"
)

// haltPollInterval is how often the supervisor looks at the init's signal
// masks while a stop request waits for it to take SIGRTMIN+3. systemd
// blocks the signal for its signalfd about 40 ms after it starts, so the
// wait is short, and each look is one read of /proc/PID/status.
const haltPollInterval = 10 * time.Millisecond

// haltWatch looks at the init's signal masks while a stop request is held
// (activation.Shutdown.Waiting): the kernel tells no one when a process
// installs a handler or blocks a signal, so this one wait polls.
type haltWatch struct {
	init   Init
	clock  Clock
	ticker Timer
	C      <-chan time.Time // ticks while watching; nil otherwise
}

// check is called by the loop after every event. It reports whether the
// held request can now go out as SIGRTMIN+3, and keeps the ticker running
// exactly while the request is held.
func (w *haltWatch) check(sd *activation.Shutdown) bool {
	if !sd.Waiting() {
		w.stop()
		return false
	}
	if w.init.HaltHandled() {
		w.stop()
		return true
	}
	if w.ticker == nil {
		w.ticker = w.clock.NewTicker(haltPollInterval)
		w.C = w.ticker.C()
	}
	return false
}

func (w *haltWatch) stop() {
	if w.ticker != nil {
		w.ticker.Stop()
		w.ticker, w.C = nil, nil
	}
}
