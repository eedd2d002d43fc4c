package payload

// Device is a character device node the stage creates in the container's
// private /dev.
type Device struct {
	Name  string `json:"name"` // path below /dev
	Major uint32 `json:"major"`
	Minor uint32 `json:"minor"`
	Mode  uint32 `json:"mode"` // permission bits
}

// Symlink is a symbolic link the stage creates in the container.
type Symlink struct {
	Path    string `json:"path"`              // absolute path inside the container
	Target  string `json:"target"`            // what it points to
	Replace bool   `json:"replace,omitempty"` // replace an existing file or link (never a directory)
}

// DevNodes returns the device nodes of the container's /dev: exactly the
// ones the Container Interface lists, plus /dev/net/tun. /dev/console is a
// pty and made separately.
func DevNodes() []Device {
	return []Device{
		{Name: "null", Major: 1, Minor: 3, Mode: 0o666},
		{Name: "zero", Major: 1, Minor: 5, Mode: 0o666},
		{Name: "full", Major: 1, Minor: 7, Mode: 0o666},
		{Name: "random", Major: 1, Minor: 8, Mode: 0o666},
		{Name: "urandom", Major: 1, Minor: 9, Mode: 0o666},
		{Name: "tty", Major: 5, Minor: 0, Mode: 0o666},
		{Name: "ptmx", Major: 5, Minor: 2, Mode: 0o666},
		{Name: "net/tun", Major: 10, Minor: 200, Mode: 0o666},
	}
}

// DevSymlinks returns the conventional symlinks of /dev.
func DevSymlinks() []Symlink {
	return []Symlink{
		{Path: "/dev/fd", Target: "/proc/self/fd"},
		{Path: "/dev/stdin", Target: "/proc/self/fd/0"},
		{Path: "/dev/stdout", Target: "/proc/self/fd/1"},
		{Path: "/dev/stderr", Target: "/proc/self/fd/2"},
	}
}
