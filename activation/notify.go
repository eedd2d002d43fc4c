package activation

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxNotifySize is the largest sd_notify datagram the supervisor accepts
// from the container. systemd allows more (NOTIFY_BUFFER_MAX, a page and
// more) for the fd store and long STATUS= texts; the relay forwards none of
// the former and an init's status lines are short, so a page is plenty and
// bounds what an untrusted container can make the supervisor copy.
const MaxNotifySize = 4096

// Message is one parsed sd_notify datagram.
type Message struct {
	Ready         bool     // READY=1
	Stopping      bool     // STOPPING=1
	Reloading     bool     // RELOADING=1
	Status        string   // the last STATUS= value
	HasStatus     bool     // a STATUS= line was present (it may be empty)
	SignalsLevel2 bool     // X_SYSTEMD_SIGNALS_LEVEL=2 or more: init handles SIGRTMIN+3
	Errno         string   // the last ERRNO= value, unchecked
	Fields        []string // every KEY=VALUE line, in order, known or not
}

// Value returns the value of the last key=... line in the message.
func (m Message) Value(key string) (string, bool) {
	for i := len(m.Fields) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(m.Fields[i], key+"="); ok {
			return v, true
		}
	}
	return "", false
}

// ParseNotify parses an sd_notify datagram: newline-separated KEY=VALUE
// lines, where KEY is made of A-Z, 0-9 and '_'. Empty lines are skipped, as
// systemd does. It fails on an empty message, one longer than
// MaxNotifySize, a NUL byte, invalid UTF-8, or any line that is not a
// KEY=VALUE assignment.
func ParseNotify(b []byte) (Message, error) {
	var m Message
	switch {
	case len(b) > MaxNotifySize:
		return m, fmt.Errorf("notify message: %d bytes, more than %d", len(b), MaxNotifySize)
	case bytes.IndexByte(b, 0) >= 0:
		return m, errors.New("notify message: contains a NUL byte")
	case !utf8.Valid(b):
		return m, errors.New("notify message: not valid UTF-8")
	}
	for i, line := range strings.Split(string(b), "\n") {
		if line == "" {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return Message{}, fmt.Errorf("notify message: line %d %q: no '='", i+1, truncate(line))
		}
		if !notifyKeyValid(key) {
			return Message{}, fmt.Errorf("notify message: line %d: invalid key %q", i+1, truncate(key))
		}
		m.Fields = append(m.Fields, line)
		switch key {
		case "READY":
			m.Ready = m.Ready || value == "1"
		case "STOPPING":
			m.Stopping = m.Stopping || value == "1"
		case "RELOADING":
			m.Reloading = m.Reloading || value == "1"
		case "STATUS":
			m.Status, m.HasStatus = value, true
		case "ERRNO":
			m.Errno = value
		case "X_SYSTEMD_SIGNALS_LEVEL":
			if level, err := parseDecimal(value, 1<<30); err == nil && level >= 2 {
				m.SignalsLevel2 = true
			}
		}
	}
	if len(m.Fields) == 0 {
		return Message{}, errors.New("notify message: empty")
	}
	return m, nil
}

// notifyKeyValid reports whether key matches [A-Z0-9_]+.
func notifyKeyValid(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// truncate shortens s for an error message.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

// ForwardState returns what the supervisor sends its own service manager
// for a message from the container's init, or "" when there is nothing to
// forward. readySeen says whether the supervisor has already forwarded
// READY=1 for this container.
//
// Forwarded, in this order:
//   - RELOADING=1, only once READY=1 was seen (before that the host
//     manager is still starting the unit), with MONOTONIC_USEC= when the
//     message had a well-formed one (the container shares the host's
//     CLOCK_MONOTONIC);
//   - READY=1, every time: it also ends a reload;
//   - STOPPING=1;
//   - STATUS=, even when empty (which clears the status).
//
// Never forwarded: MAINPID= (a pid in another namespace), WATCHDOG*= (the
// supervisor's unit has its own watchdog, if any), FDSTORE*= and
// FDNAME= (the relay drops fds), BARRIER=, ERRNO=, EXIT_STATUS=,
// NOTIFYACCESS=, X_SYSTEMD_* (the container's own protocol with its
// supervisor) and every other key.
func ForwardState(m Message, readySeen bool) string {
	var lines []string
	if m.Reloading && readySeen {
		lines = append(lines, "RELOADING=1")
		if usec, ok := m.Value("MONOTONIC_USEC"); ok {
			if _, err := parseDecimal(usec, 1<<62); err == nil {
				lines = append(lines, "MONOTONIC_USEC="+usec)
			}
		}
	}
	if m.Ready {
		lines = append(lines, "READY=1")
	}
	if m.Stopping {
		lines = append(lines, "STOPPING=1")
	}
	if m.HasStatus {
		lines = append(lines, "STATUS="+m.Status)
	}
	return strings.Join(lines, "\n")
}
