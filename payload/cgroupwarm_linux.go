package payload

import (
	"errors"
	"os"
	"path"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Every move of a process between cgroups, in any hierarchy, takes one
// kernel-wide lock (cgroup_threadgroup_rwsem) for writing. Unless a cgroup
// hierarchy is mounted with favordynmods, the first such move after a
// quiet spell waits for a full RCU grace period (7 to 18 ms here), and
// moves that follow within about one more grace period do not. A booted
// container's manager moves every process it starts into the cgroup of
// its unit: while the container boots or stops, each of those that comes
// after a pause waits for a grace period of its own, and its service waits
// with it.
//
// The supervisor keeps that fast path open while it matters: it moves
// itself into the cgroup it is already in (a no-op that takes the lock)
// every few milliseconds while the container boots and while it stops, so
// that none of the container's moves finds the lock idle. That is the
// kernel's favordynmods trade-off (slightly dearer forks and exits
// host-wide), for a few hundred milliseconds, and only on a host that has
// not made it for good. One
// supervisor on the host does it at a time (the one that holds warmToken):
// the lock is one, and fifty containers starting together need no more
// moves than one does.

// WarmInterval is how often a MigrationWarmer moves the supervisor:
// shorter than the grace periods it bridges.
const WarmInterval = 3 * time.Millisecond

// WarmLimit bounds how long a MigrationWarmer runs: a container still
// stopping after that waits on something slower than a grace period.
const WarmLimit = 5 * time.Second

// warmToken is the abstract socket the warming supervisor holds bound. A
// process of the host's network namespace that binds it first keeps every
// supervisor from warming, which costs speed and nothing else.
const warmToken = "@sockspawn/cgroup-warmer"

// MigrationWarmer keeps cgroup moves off RCU grace periods while it runs.
// A nil *MigrationWarmer is valid and does nothing.
type MigrationWarmer struct {
	f               *os.File // nil once closed
	interval, limit time.Duration
	mu              sync.Mutex    // guards stop, stopping and closed
	moving          sync.Mutex    // guards f; held over a move
	stop            chan struct{} // closed to end the current run
	stopping        bool          // the current run is a stop's
	closed          bool
	tokenName       string // warmToken, or a test's own
	token           int    // the bound token socket, or -1; guarded by moving
}

// NewMigrationWarmer opens what the warmer writes to, so that starting it
// later costs no more than a goroutine; each run lasts at most limit. It
// returns nil when there is nothing to do: a cgroup hierarchy is mounted
// with favordynmods, or the supervisor may not write to its own cgroup
// (as inside a container with a read-only cgroupfs).
func NewMigrationWarmer(interval, limit time.Duration) *MigrationWarmer {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil || FavorsDynmods(mi) {
		return nil
	}
	f := ownProcsFile(mi)
	if f == nil {
		return nil
	}
	return &MigrationWarmer{f: f, interval: interval, limit: limit, tokenName: warmToken, token: -1}
}

// StartBoot starts a run for the container's start-up, unless one runs.
// The first move after a quiet spell waits for a grace period itself,
// holding the kernel's cgroup_mutex meanwhile: a run starts as early as it
// can. All methods are safe from any goroutine.
func (w *MigrationWarmer) StartBoot() { w.start(false) }

// StartStop starts a run for the container's stop, ending a start-up run;
// a stop run already going goes on.
func (w *MigrationWarmer) StartStop() { w.start(true) }

// EndBoot ends a start-up run; a stop run goes on.
func (w *MigrationWarmer) EndBoot() {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopping {
		w.endRun()
	}
}

func (w *MigrationWarmer) start(stopping bool) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || (w.stop != nil && (w.stopping || !stopping)) {
		return
	}
	w.endRun()
	stop := make(chan struct{})
	w.stop, w.stopping = stop, stopping
	go func() {
		warmLoop(w.move, w.interval, w.limit, stop)
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.stop == nil || w.stop == stop { // no newer run needs the token
			w.moving.Lock()
			w.dropToken()
			w.moving.Unlock()
		}
	}()
}

// Close ends the current run and closes the file; no move is made once it
// has returned (one under way is waited for), so the supervisor may move
// itself elsewhere after. Close it before the supervisor leaves its cgroup.
func (w *MigrationWarmer) Close() {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.endRun()
	w.closed = true
	w.mu.Unlock()
	w.moving.Lock()
	defer w.moving.Unlock()
	w.dropToken()
	if w.f != nil {
		_ = w.f.Close()
		w.f = nil
	}
}

func (w *MigrationWarmer) endRun() {
	if w.stop != nil {
		close(w.stop)
		w.stop = nil
	}
}

// move moves the supervisor into the cgroup it is in ("0": the writer),
// if it holds the token or can take it; else another supervisor keeps the
// fast path open, and it does nothing this time.
func (w *MigrationWarmer) move() error {
	w.moving.Lock()
	defer w.moving.Unlock()
	if w.f == nil {
		return os.ErrClosed
	}
	if w.token < 0 {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrUnix{Name: w.tokenName}); err != nil {
			unix.Close(fd)
			if errors.Is(err, unix.EADDRINUSE) {
				return nil
			}
			return err
		}
		w.token = fd
	}
	_, err := w.f.Write([]byte("0"))
	return err
}

// dropToken lets another supervisor warm; w.moving is held.
func (w *MigrationWarmer) dropToken() {
	if w.token >= 0 {
		unix.Close(w.token)
		w.token = -1
	}
}

// warmLoop calls move at once and then every interval until stop is
// closed, limit has passed, or move fails; it returns how many moves it
// made.
func warmLoop(move func() error, interval, limit time.Duration, stop <-chan struct{}) int {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	n := 0
	for {
		if move() != nil {
			return n
		}
		n++
		select {
		case <-stop:
			return n
		case <-deadline.C:
			return n
		case <-tick.C:
			select {
			case <-stop: // a stop wins over a tick that came with it
				return n
			default:
			}
		}
	}
}

// FavorsDynmods reports whether mountinfo shows a cgroup hierarchy mounted
// with favordynmods, which holds the kernel's cgroup moves on the fast path
// for good (for all hierarchies: the lock is one).
func FavorsDynmods(mountinfo []byte) bool {
	for _, m := range cgroupMounts(mountinfo) {
		if slices.Contains(m.Options, "favordynmods") {
			return true
		}
	}
	return false
}

// ownProcsFile opens for writing the cgroup.procs of the cgroup the
// supervisor is in: in the cgroup2 hierarchy, else in its first v1 one;
// nil if neither can be written.
func ownProcsFile(mountinfo []byte) *os.File {
	var dirs []string
	if pc, err := os.ReadFile("/proc/self/cgroup"); err == nil {
		if own, err := OwnCgroup(pc); err == nil {
			if mnt, err := UnifiedMount(); err == nil {
				dirs = append(dirs, path.Join(mnt, own))
			}
		}
		for _, h := range V1Hierarchies(mountinfo, pc) {
			dirs = append(dirs, path.Join(h.Mount, h.Own))
		}
	}
	for _, d := range dirs {
		if f, err := os.OpenFile(path.Join(d, "cgroup.procs"), os.O_WRONLY, 0); err == nil {
			return f
		}
	}
	return nil
}

// WarmMigration, on a host with cgroup v1 hierarchies, starts in the
// background a move of the calling process into the cgroup it is already
// in, so that the supervisor's own moves of the stage into the container's
// v1 cgroups (see Cgroup.Move) find the fast path open: started at once
// when sockspawn starts, the grace period runs alongside its start-up
// instead of in front of the container's. It changes nothing and does
// nothing without v1 hierarchies.
func WarmMigration() {
	hs, err := hostV1Hierarchies()
	if err != nil || len(hs) == 0 {
		return
	}
	procs := path.Join(hs[0].Mount, hs[0].Own, "cgroup.procs")
	go func() { _ = os.WriteFile(procs, []byte("0"), 0) }()
}
