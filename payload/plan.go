package payload

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

// Console modes: whether the stage allocates a pty for /dev/console.
const (
	ConsolePTY  = "pty"  // /dev/console is a pty whose master the supervisor holds
	ConsolePipe = "pipe" // no pty: the payload inherits the supervisor's stdio
)

// BindMount is a bind mount the user asked for.
type BindMount struct {
	Source    string `json:"source"`
	Target    string `json:"target"`
	ReadOnly  bool   `json:"ro,omitempty"`
	Recursive bool   `json:"rec,omitempty"`
}

// File is a file the stage writes into the container, named relative to its
// directory.
type File struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
}

// Options is what the supervisor decided about one container, as plain
// data. NewPlan turns it into a Plan.
type Options struct {
	Image          string // absolute path of the image's root directory
	Root           string // empty host directory the stage builds the root on
	Hostname       string // hostname inside the container
	Volatile       systemd.Volatile
	Binds          []BindMount   // user binds, in order
	Console        string        // ConsolePTY or ConsolePipe
	Argv           []string      // the payload's argv; Argv[0] is a path inside the container
	Env            []string      // the payload's whole environment
	ListenFDs      int           // fds 3..3+ListenFDs-1 are handed to the payload
	UUID           string        // the container's UUID, for /run/host/container-uuid
	OSRelease      []byte        // the host's os-release, for /run/host/os-release
	Credentials    []File        // for /run/host/credentials
	AsPid2         bool          // run Argv under a stub PID 1
	UserNS         *IDMap        // run in a user namespace with this mapping (nil: none)
	KeepCaps       []int         // --capability: kept although dropped by default
	DropCaps       []int         // --drop-capability: dropped in addition
	Timezone       string        // host time zone name ("Europe/Berlin") for /etc/localtime
	TimezoneMode   string        // --timezone: "auto" (""), "symlink" or "off"
	PrivateNetwork bool          // the container has its own network namespace
	Journal        JournalAction // --link-journal: what the container side gets
	// Incoming is the host directory bound read-only at
	// /run/host/incoming, the tunnel of `machinectl bind`; empty for none.
	Incoming string
	// UnixExport is the host directory (a tmpfs, MountUnixExport) bound
	// writable at /run/host/unix-export; empty for none.
	UnixExport string
	// TTYs is the number of extra ttys (--ttys), named by TTYNames.
	TTYs int
	// BindUsers are the host users bound in (--bind-user), planned by
	// PlanBoundUsers.
	BindUsers []BoundUser
}

// Plan is everything the init stage does, in order. It travels from the
// supervisor to the stage as JSON over the sync socket.
type Plan struct {
	Root      string    `json:"root"`
	ImageDir  string    `json:"image"`
	Hostname  string    `json:"hostname"`
	Mounts    []Mount   `json:"mounts"`
	Console   string    `json:"console"`
	Argv      []string  `json:"argv"`
	Env       []string  `json:"env"`
	ListenFDs int       `json:"listen_fds"`
	RunHost   RunHost   `json:"run_host"`
	AsPid2    bool      `json:"as_pid2,omitempty"`
	Devices   []Device  `json:"devices"`
	Symlinks  []Symlink `json:"symlinks"`
	DropCaps  []int     `json:"drop_caps"`
	Dirs      []string  `json:"dirs,omitempty"`     // directories made once everything is mounted
	Loopback  bool      `json:"loopback,omitempty"` // bring up lo: the container has its own network namespace
	// LateCgroupNS: the supervisor moves the stage into the container's
	// cgroup v1 cgroups after the clone; the stage waits for that and
	// then makes its cgroup namespace (see StageSpec.LateCgroupNS).
	LateCgroupNS bool     `json:"late_cgroupns,omitempty"`
	UserNS       bool     `json:"userns,omitempty"` // the stage runs in a user namespace: no mknod, no sysfs
	TTYs         []string `json:"ttys,omitempty"`   // extra ttys to allocate, as TTYNames names them
	// Hold: the stage builds the container, then waits, ready to execute
	// the payload, for the supervisor's go-ahead (Stage.Release).
	Hold bool `json:"hold,omitempty"`

	trees []*os.File // idmapped trees from the supervisor, one per SourceIDMap mount, in order
}

// NewPlan checks o and computes the Plan the stage will carry out.
func NewPlan(o Options) (Plan, error) {
	if !path.IsAbs(o.Image) {
		return Plan{}, fmt.Errorf("image directory %q is not an absolute path", o.Image)
	}
	if !path.IsAbs(o.Root) {
		return Plan{}, fmt.Errorf("staging directory %q is not an absolute path", o.Root)
	}
	if len(o.Argv) == 0 || o.Argv[0] == "" {
		return Plan{}, fmt.Errorf("no command to run")
	}
	switch o.Volatile {
	case systemd.VolatileNo, systemd.VolatileYes, systemd.VolatileState:
	case "":
		o.Volatile = systemd.VolatileNo
	default:
		return Plan{}, fmt.Errorf("unknown volatile mode %q", o.Volatile)
	}
	switch o.Console {
	case ConsolePTY, ConsolePipe:
	default:
		return Plan{}, fmt.Errorf("unknown console mode %q", o.Console)
	}
	for _, b := range o.Binds {
		if !path.IsAbs(b.Source) || !path.IsAbs(b.Target) {
			return Plan{}, fmt.Errorf("bind %s:%s: paths must be absolute", b.Source, b.Target)
		}
		if t := path.Clean(b.Target); t == RunHostDir || strings.HasPrefix(t, RunHostDir+"/") {
			return Plan{}, fmt.Errorf("bind %s:%s: %s belongs to the container manager", b.Source, b.Target, RunHostDir)
		}
	}
	if o.TTYs < 0 {
		return Plan{}, fmt.Errorf("negative number of ttys")
	}
	if o.ListenFDs < 0 {
		return Plan{}, fmt.Errorf("negative number of listening fds")
	}
	p := Plan{
		Root:      o.Root,
		ImageDir:  o.Image,
		Hostname:  o.Hostname,
		Mounts:    Mounts(o),
		Console:   o.Console,
		Argv:      o.Argv,
		Env:       o.Env,
		ListenFDs: o.ListenFDs,
		RunHost:   newRunHostWithUsers(o),
		AsPid2:    o.AsPid2,
		Devices:   DevNodes(),
		Symlinks:  append(append(baseSymlinks(o.Volatile), localtimeLink(o)...), DevSymlinks()...),
		Dirs:      append(baseDirs(o.Volatile), journalDirs(o.Journal)...),
		Loopback:  o.PrivateNetwork,
		UserNS:    o.UserNS != nil,
		DropCaps:  planCaps(o),
		TTYs:      TTYNames(o.Console, o.TTYs),
	}
	return p, nil
}

// bindTargets reports whether a user bind mounts exactly on target, in
// which case the default mount there is left out.
func bindTargets(o Options, target string) bool {
	for _, b := range o.Binds {
		if path.Clean(b.Target) == target {
			return true
		}
	}
	return false
}

// planCaps is the bounding set to drop: our defaults, plus what the user
// dropped, minus what the user asked to keep.
func planCaps(o Options) []int {
	drop := map[int]bool{}
	for _, c := range append(DroppedCapabilities(o.PrivateNetwork), o.DropCaps...) {
		drop[c] = true
	}
	for _, c := range o.KeepCaps {
		delete(drop, c)
	}
	out := make([]int, 0, len(drop))
	for c := range drop {
		out = append(out, c)
	}
	sort.Ints(out)
	return out
}

// baseSymlinks are the merged-/usr links a volatile root needs, since only
// /usr comes from the image (systemd's base-filesystem makes the same).
func baseSymlinks(volatile systemd.Volatile) []Symlink {
	if volatile != systemd.VolatileYes {
		return nil
	}
	return []Symlink{
		{Path: "/bin", Target: "usr/bin"},
		{Path: "/sbin", Target: "usr/sbin"},
		{Path: "/lib", Target: "usr/lib"},
		{Path: "/lib64", Target: "usr/lib64"},
	}
}

// Time zone modes (--timezone).
const (
	TimezoneAuto    = "auto"    // a volatile root gets the host's zone; an image keeps its own
	TimezoneSymlink = "symlink" // /etc/localtime becomes a link to the host's zone, in the image too
	TimezoneOff     = "off"     // leave /etc/localtime alone
)

// localtimeLink is /etc/localtime pointing at the host's time zone in the
// image's zoneinfo, relative, as the Container Interface suggests.
func localtimeLink(o Options) []Symlink {
	if o.Timezone == "" {
		return nil
	}
	link := Symlink{Path: "/etc/localtime", Target: "../usr/share/zoneinfo/" + o.Timezone}
	switch o.TimezoneMode {
	case TimezoneOff:
		return nil
	case TimezoneSymlink:
		if o.Volatile == systemd.VolatileState {
			return nil // the image is read-only
		}
		link.Replace = true
		return []Symlink{link}
	}
	if o.Volatile != systemd.VolatileYes {
		return nil
	}
	return []Symlink{link}
}

// journalDirs is the container's journal directory when it is kept in the
// image (--link-journal=guest); in host mode the bind makes its target.
func journalDirs(a JournalAction) []string {
	if !a.Linked() || a.Bind {
		return nil
	}
	return []string{a.GuestPath}
}

// baseDirs are the top-level directories an empty volatile root needs
// before its init runs: systemd writes /etc/machine-id early, and
// systemd-machine-id-commit syncs /etc and /var.
func baseDirs(volatile systemd.Volatile) []string {
	if volatile != systemd.VolatileYes {
		return nil
	}
	return []string{"/etc", "/var"}
}
