package devices

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// RuleForNode returns the rule that allows the host device node at path, a
// node the user binds into the container: its type, major and minor, with
// access "rwm". Symbolic links are followed, as the bind mount follows them.
//
// The access includes m: the container already reads and writes the device
// through the bound node, and being allowed to make another node for the same
// device gives it nothing more, while tools that copy a /dev (as systemd does
// for PrivateDevices= services with DeviceAllow=) need it.
func RuleForNode(path string) (Rule, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return Rule{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	var r Rule
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		r.Type = 'c'
	case unix.S_IFBLK:
		r.Type = 'b'
	default:
		return Rule{}, fmt.Errorf("device node %s: not a character or block device", path)
	}
	r.Major = int64(unix.Major(st.Rdev))
	r.Minor = int64(unix.Minor(st.Rdev))
	r.Access = "rwm"
	if err := r.validate(); err != nil {
		return Rule{}, fmt.Errorf("device node %s: %w", path, err)
	}
	return r, nil
}
