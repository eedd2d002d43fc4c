package units

import "strconv"

// MaxTTYs bounds --ttys=: each extra tty is a pty the supervisor holds and
// a getty inside, and a few are all a console needs.
const MaxTTYs = 16

// ParseTTYs parses the number of extra ttys (--ttys=, TTYs=): 0 to MaxTTYs.
func ParseTTYs(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || s != strconv.Itoa(n) {
		return 0, invalid("", s, "want a number of ttys from 0 to %d", MaxTTYs)
	}
	if n < 0 || n > MaxTTYs {
		return 0, invalid("", s, "at most %d extra ttys (and not fewer than 0)", MaxTTYs)
	}
	return n, nil
}

// FormatTTYs writes n as ParseTTYs reads it.
func FormatTTYs(n int) string { return strconv.Itoa(n) }
