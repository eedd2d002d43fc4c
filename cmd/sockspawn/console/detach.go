package console

import "time"

// detachKey is Ctrl-], pressed three times within detachWindow to detach
// from a login, as with machinectl login and systemd-nspawn's console.
const (
	detachKey    = 0x1d
	detachPress  = 3
	detachWindow = time.Second
)

// detacher watches what the user types for the detach sequence. The keys
// still reach the tty: a lone Ctrl-] is the container's.
type detacher struct {
	count int
	first time.Time
}

// feed reports whether b, typed at now, completes the detach sequence.
// Any other key in between starts it over.
func (d *detacher) feed(b []byte, now time.Time) bool {
	for _, c := range b {
		if c != detachKey {
			d.count = 0
			continue
		}
		if d.count == 0 || now.Sub(d.first) > detachWindow {
			d.count, d.first = 1, now
			continue
		}
		d.count++
		if d.count >= detachPress {
			d.count = 0
			return true
		}
	}
	return false
}
