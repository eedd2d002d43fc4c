package payload

import (
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

// Where a mount's Source is looked up.
const (
	SourceHost  = "host"  // a host path, or a file system name
	SourceImage = "image" // a path resolved inside the image directory
	SourceRoot  = "root"  // a path resolved inside the root being built
	SourceIDMap = "idmap" // a path inside the image, idmapped by the supervisor into the container's user namespace
	SourceTree  = "tree"  // a host path the supervisor opens (open_tree) and hands over: a stage in a user namespace may not reach it
	// SourceUserHome is a bound user's home, which the supervisor opens
	// and idmaps as HomeMap says (--bind-user).
	SourceUserHome = "userhome"
)

// Mount is one step of building the container's file system tree. Target
// is a path inside the container, always resolved inside the root being
// built so that a symlink in the image can never point it at the host.
type Mount struct {
	Target    string  `json:"target"`
	Source    string  `json:"source,omitempty"`
	SourceIn  string  `json:"source_in,omitempty"` // SourceHost, SourceImage or SourceRoot
	FSType    string  `json:"fstype,omitempty"`    // empty for a bind mount
	Flags     uintptr `json:"flags,omitempty"`
	Data      string  `json:"data,omitempty"`
	ReadOnly  bool    `json:"ro,omitempty"`       // made read-only once mounted (recursively for Recursive)
	Recursive bool    `json:"rec,omitempty"`      // MS_REC for binds
	Optional  bool    `json:"optional,omitempty"` // skipped when the source or target does not exist
	File      bool    `json:"file,omitempty"`     // the target is a file, not a directory
	Seal      bool    `json:"seal,omitempty"`     // made read-only only after the stage filled it
	Follow    bool    `json:"follow,omitempty"`   // a symlink as the target is followed (inside the root); else refused
	Writable  bool    `json:"rw,omitempty"`       // made writable once mounted (a bind below a read-only mount)
	Slave     bool    `json:"slave,omitempty"`    // stays only a slave of its source when the rest is made shared
	// Detach: what the image brings mounted at Target (-D / brings the
	// host's /proc, /sys, /dev, /run) is detached first, with all below
	// it. The kernel refuses to mount a sysfs on the root of the same
	// sysfs (EBUSY), and the container must not find the host's file
	// systems under its own by unmounting them.
	Detach  bool     `json:"detach,omitempty"`
	HomeMap *HomeMap `json:"home_map,omitempty"` // SourceUserHome: how the home is idmapped
}

// IsBind reports whether m is a bind mount.
func (m Mount) IsBind() bool { return m.FSType == "" }

const (
	apiFlags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	tmpFlags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_STRICTATIME
)

// procMasks are /proc files that reveal or change host-wide state and are
// hidden behind a read-only /dev/null. Missing ones are skipped.
var procMasks = []string{
	"/proc/kcore",
	"/proc/keys",
	"/proc/timer_list",
	"/proc/sched_debug",
	"/proc/latency_stats",
	"/proc/kallsyms",
}

// Mounts returns the mount steps for o, in the order the stage performs
// them: the root, the API file systems the Container Interface asks for,
// /run and /tmp, the user's binds, and finally /run/host.
func Mounts(o Options) []Mount {
	var ms []Mount
	image := SourceImage
	if o.UserNS != nil {
		image = SourceIDMap
	}
	switch o.Volatile {
	case systemd.VolatileYes:
		ms = append(ms,
			Mount{Target: "/", Source: "tmpfs", FSType: "tmpfs", Flags: unix.MS_STRICTATIME, Data: "mode=0755"},
			Mount{Target: "/usr", Source: "/usr", SourceIn: image, Recursive: true, ReadOnly: true})
	case systemd.VolatileState:
		ms = append(ms,
			Mount{Target: "/", Source: "/", SourceIn: image, Recursive: true, ReadOnly: true},
			Mount{Target: "/var", Source: "tmpfs", FSType: "tmpfs", Flags: tmpFlags, Data: "mode=0755", Detach: true})
	default:
		ms = append(ms, Mount{Target: "/", Source: "/", SourceIn: image, Recursive: true})
	}
	ms = append(ms,
		Mount{Target: "/proc", Source: "proc", FSType: "proc", Flags: apiFlags, Detach: true},
		Mount{Target: "/proc/sys", Source: "/proc/sys", SourceIn: SourceRoot, ReadOnly: true},
		Mount{Target: "/proc/sysrq-trigger", Source: "/proc/sysrq-trigger", SourceIn: SourceRoot, ReadOnly: true, File: true, Optional: true})
	if o.PrivateNetwork {
		// The container's own network namespace is its to configure.
		ms = append(ms, Mount{Target: "/proc/sys/net", Source: "/proc/sys/net", SourceIn: SourceRoot, Writable: true})
	}
	for _, p := range procMasks {
		ms = append(ms, Mount{Target: p, Source: "/dev/null", SourceIn: SourceHost, ReadOnly: true, File: true, Optional: true})
	}
	sys := Mount{Target: "/sys", Source: "sysfs", FSType: "sysfs", Flags: apiFlags | unix.MS_RDONLY, Detach: true}
	if o.UserNS != nil {
		// sysfs can only be mounted by the owner of the network
		// namespace: the host's /sys is bound in, read-only.
		sys = Mount{Target: "/sys", Source: "/sys", SourceIn: SourceHost, Recursive: true, ReadOnly: true, Detach: true}
	}
	ms = append(ms,
		sys,
		Mount{Target: "/sys/fs/selinux", Source: "/sys/fs/selinux", SourceIn: SourceHost, ReadOnly: true, Optional: true},
		// Firmware tables (ACPI, EFI variables, DMI) are the host's and
		// none of the container's business; systemd does not need them.
		Mount{Target: "/sys/firmware", Source: "tmpfs", FSType: "tmpfs", Flags: apiFlags | unix.MS_RDONLY, Data: "mode=0555", Optional: true},
		Mount{Target: "/dev", Source: "tmpfs", FSType: "tmpfs", Flags: unix.MS_NOSUID | unix.MS_STRICTATIME, Data: "mode=0755", Detach: true},
		Mount{Target: "/dev/pts", Source: "devpts", FSType: "devpts", Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: "newinstance,ptmxmode=0666,mode=620,gid=5"},
		Mount{Target: "/dev/shm", Source: "tmpfs", FSType: "tmpfs", Flags: tmpFlags, Data: "mode=1777"},
		Mount{Target: "/dev/mqueue", Source: "mqueue", FSType: "mqueue", Flags: apiFlags})
	if !bindTargets(o, "/run") {
		ms = append(ms, Mount{Target: "/run", Source: "tmpfs", FSType: "tmpfs", Flags: tmpFlags, Data: "mode=0755", Detach: true})
	}
	if !bindTargets(o, "/tmp") {
		ms = append(ms, Mount{Target: "/tmp", Source: "tmpfs", FSType: "tmpfs", Flags: tmpFlags, Data: "mode=1777", Detach: true})
	}
	bindSource := SourceHost
	if o.UserNS != nil {
		bindSource = SourceTree
	}
	if o.Journal.Bind {
		// --link-journal=host: before the user's binds, which may hide it.
		ms = append(ms, Mount{Target: o.Journal.GuestPath, Source: o.Journal.HostPath, SourceIn: bindSource})
	}
	for _, b := range o.Binds {
		ms = append(ms, Mount{Target: b.Target, Source: b.Source, SourceIn: bindSource, ReadOnly: b.ReadOnly, Recursive: b.Recursive, Follow: true})
	}
	// /run/host comes after the user's binds, so that a bind on /run
	// cannot hide it; binds inside it are refused by NewPlan.
	ms = append(ms,
		Mount{Target: RunHostDir, Source: "tmpfs", FSType: "tmpfs", Flags: tmpFlags, Data: "mode=0755", Seal: true})
	ms = append(ms, unixExportMounts(o)...)
	ms = append(ms, userHomeMounts(o)...)
	if o.Incoming != "" && o.UserNS == nil {
		// A slave of the host's mount (the stage made every mount a
		// slave first): what machined mounts beneath the host directory
		// appears here, and nothing goes back. It stays a slave when the
		// container's mounts are made shared, because machined moves the
		// mounts out of it, and the kernel moves none out of a shared
		// mount. machined refuses `machinectl bind` into a user namespace
		// anyway.
		ms = append(ms, Mount{Target: IncomingDir, Source: o.Incoming, SourceIn: SourceHost, ReadOnly: true, Slave: true})
	}
	ms = append(ms,
		Mount{Target: CredentialsDir, Source: "ramfs", FSType: "ramfs", Flags: apiFlags, Data: "mode=0500", Seal: true},
		// Last: with a late cgroup namespace (StageSpec.LateCgroupNS) the
		// stage waits here until it is in its v1 cgroups, and everything
		// above is done meanwhile.
		Mount{Target: "/sys/fs/cgroup", Source: "cgroup2", FSType: "cgroup2", Flags: apiFlags})
	return ms
}

// FromImage reports whether the container path p (absolute, clean) comes
// from the image as it is on disk: not from a bind, nor from a file system
// sockspawn mounts (which the stage fills), nor from below the root of a
// volatile root other than the image's /usr and the links to it.
func FromImage(o Options, p string) bool {
	for _, m := range Mounts(o) {
		if m.Target == "/" || m.SourceIn == SourceImage || m.SourceIn == SourceIDMap {
			continue
		}
		if p == m.Target || strings.HasPrefix(p, m.Target+"/") {
			return false
		}
	}
	return true
}
