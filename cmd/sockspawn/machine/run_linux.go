package machine

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/sockspawn/sockspawn/activation"
	"github.com/sockspawn/sockspawn/cmd/sockspawn/console"
	"github.com/sockspawn/sockspawn/cmd/sockspawn/idlewatch"
	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

// Run runs one container to its end and returns its exit status. src
// says where c's values came from, for errors (nil: the command line).
// When the container could not be started or supervised, the error says
// why and the status is 1.
func Run(c units.Config, src units.Sources) (status int, err error) {
	d, err := checkInput(c, src, console.IsTerminal(os.Stdin))
	if err != nil {
		return 1, err
	}
	d.Argv = idleInitArgs(c, d.Argv)
	r := &run{c: c, d: d, warn: onceWarner(os.Stderr, c.Quiet)}
	defer r.unwind()
	r.startSealedCopy()
	if err := r.gather(); err != nil {
		return 1, err
	}
	if err := r.prepare(); err != nil {
		return 1, err
	}
	return r.boots()
}

// A run is one `sockspawn run` or `boot` of a machine: what was decided,
// gathered and made for it, which every boot of it shares.
type run struct {
	c    units.Config
	d    decision
	warn func(string) // safe for concurrent use

	copied    chan sealedCopy // the copy of sockspawn the next boot takes
	creds     []payload.File
	sockets   *listenSockets
	net       hostNet
	osRelease []byte
	journal   payload.JournalAction
	hostUsers []payload.HostUser // --bind-user

	rt             *machineRuntime
	releaseRuntime func() // starts the runtime directory's release
	userRange      *payload.UserRange
	plan           payload.Plan
	stop           chan os.Signal
	ran            bool // the payload ran at least once: the journal link stays

	undo []func() // what unwind undoes, in reverse
}

// atEnd has f run by unwind, before what was registered earlier.
func (r *run) atEnd(f func()) { r.undo = append(r.undo, f) }

// unwind undoes what the run made, the latest first.
func (r *run) unwind() {
	for i := len(r.undo) - 1; i >= 0; i-- {
		r.undo[i]()
	}
}

// onceWarner returns a warn function that prints each message to w once,
// however often the container boots, unless quiet. It is called from
// cleanups running side by side.
func onceWarner(w io.Writer, quiet bool) func(string) {
	var mu sync.Mutex
	said := map[string]bool{}
	return func(s string) {
		mu.Lock()
		defer mu.Unlock()
		if !quiet && !said[s] {
			said[s] = true
			fmt.Fprintf(w, "sockspawn: %s\n", s)
		}
	}
}

// sealedCopy is the result of payload.SealedSelf.
type sealedCopy struct {
	file *os.File
	err  error
}

// startSealedCopy makes the sealed copy of sockspawn the stage runs from
// while the rest is prepared (the first boot uses it; later ones make
// their own). Not with --listen: the first boot may be far off, and the
// copy is memory held all that while.
func (r *run) startSealedCopy() {
	r.copied = make(chan sealedCopy, 1)
	if len(r.c.Listen) == 0 {
		go func() {
			f, err := payload.SealedSelf()
			trace("sealed copy of sockspawn made")
			r.copied <- sealedCopy{f, err}
		}()
	} else {
		r.copied <- sealedCopy{}
	}
	r.atEnd(func() {
		if sc := <-r.copied; sc.file != nil {
			sc.file.Close()
		}
	})
}

// gather reads and checks what the machine takes from the host before
// anything is made: credentials, sockets, network, os-release, the
// journal's state, the users to bind.
func (r *run) gather() error {
	var err error
	if r.creds, err = gatherCredentials(r.c.Credentials); err != nil {
		return err
	}
	if r.sockets, err = gatherSockets(r.c.Listen); err != nil {
		return err
	}
	r.atEnd(r.sockets.close)
	if err := checkIdle(r.c, len(r.sockets.files), payload.CanFreeze); err != nil {
		return err
	}
	if err := r.gatherNetwork(); err != nil {
		return err
	}
	r.osRelease = hostOSRelease()
	trace("gathered credentials, sockets, os-release")
	if r.journal, err = journalAction(r.c, r.d, r.warn); err != nil {
		return err
	}
	checkInotifyBudget(r.c, r.d.Users)
	r.hostUsers, err = lookupBindUsers(r.c.BindUsers, r.d.Users)
	return err
}

// gatherNetwork checks the bridge to join, opens the network namespace
// to join and reserves the ports to forward.
func (r *run) gatherNetwork() error {
	if r.c.NetworkBridge != "" {
		if err := payload.CheckBridge(r.c.NetworkBridge); err != nil {
			return err
		}
	}
	if r.c.NetworkNamespacePath != "" {
		netns, err := payload.OpenNetNS(r.c.NetworkNamespacePath)
		if err != nil {
			return err
		}
		r.net.netns = netns
		r.atEnd(func() { netns.Close() })
	}
	ports, err := payload.ReservePorts(payloadPorts(r.c.Ports))
	if err != nil {
		return err
	}
	r.net.ports = ports
	r.atEnd(ports.Release)
	return nil
}

// prepare makes what every boot shares: the runtime directory (locked),
// the user range, the scope, the plan and the journal's link. Each is
// undone on the way out.
func (r *run) prepare() error {
	d := &r.d
	// The tunnel of `machinectl bind` only where machined may use it: not
	// on a host without systemd (so without machined), and machined
	// refuses a user namespace.
	tunnel := !d.Users.Enabled && (r.c.Register == nil || *r.c.Register) && activation.SystemdRunning()
	rt, err := acquireRuntime(d.Machine, tunnel)
	if err != nil {
		return err
	}
	r.rt = rt
	// Released as soon as the container's init is gone when no boot can
	// follow (see boots), else on the way out.
	var waitRuntime func()
	r.releaseRuntime, waitRuntime = inBackground(rt.release)
	r.atEnd(func() {
		waitRuntime()
		trace("cleaned up")
	})
	trace("runtime directory locked")
	if d.Users.Enabled {
		if r.userRange, err = payload.ReserveUserRange(d.Machine, payload.IDMap{Base: d.Users.Base, Size: d.Users.Size}); err != nil {
			return fmt.Errorf("--private-users: %w", err)
		}
		r.atEnd(r.userRange.Release)
	}
	if !payload.CurrentDelegated() {
		// Run by hand on a systemd host: ask systemd for a delegated
		// scope, as the Container Interface wants.
		if _, err := activation.JoinTransientScope(d.Machine, "Container "+d.Machine); err != nil {
			r.warn(err.Error())
		}
	}
	d.Tunnel = rt.Propagate
	if err := r.makePlan(); err != nil {
		return err
	}
	return r.linkJournal()
}

// makePlan plans the container's root and init.
func (r *run) makePlan() error {
	bound, err := payload.PlanBoundUsers(r.hostUsers, userMap(r.userRange))
	if err != nil {
		return err
	}
	r.plan, err = payload.NewPlan(planOptions(r.c, r.d, planInput{
		root:        r.rt.Dir,
		osRelease:   r.osRelease,
		term:        os.Getenv("TERM"),
		timezone:    hostTimezone(),
		creds:       r.creds,
		listenNames: r.sockets.names,
		listenFDs:   len(r.sockets.files),
		userNS:      userMap(r.userRange),
		netns:       r.net.netns != nil,
		journal:     r.journal,
		boundUsers:  bound,
	}))
	if err != nil {
		return err
	}
	if idleAction(r.c) != activation.IdleIgnore {
		// /run/host/busy: a shared lock on it inside holds the machine
		// awake (see idlewatch.BusyFile).
		r.plan.RunHost.Files = append(r.plan.RunHost.Files, payload.File{Name: idlewatch.BusyFile})
	}
	return nil
}

// linkJournal links the container's journal on the host, as decided;
// the link is undone on the way out unless the payload ran.
func (r *run) linkJournal() error {
	undo, err := payload.ApplyJournal(r.journal, journalOwner(r.userRange))
	if err != nil {
		return err
	}
	r.atEnd(func() {
		if !r.ran {
			undo()
		}
	})
	return nil
}

// boots boots the container and supervises it to its end; with sockets
// of its own (--listen) sockspawn boots it again on the next connection
// after it ended by itself. It returns the last boot's status.
func (r *run) boots() (int, error) {
	stop := make(chan os.Signal, 4)
	signal.Notify(stop, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGWINCH, freezeSignal, thawSignal)
	r.atEnd(func() { signal.Stop(stop) })
	r.stop = stop
	for {
		first := <-r.copied
		r.copied <- sealedCopy{} // later boots make their own
		if first.err != nil {
			return 1, first.err
		}
		// With sockets of its own, sockspawn may boot the container
		// again; else this boot is the last, and the runtime directory
		// goes with the init.
		b := boot{exe: first.file, atExit: r.releaseRuntime}
		if r.sockets.own {
			b.atExit = func() {}
			// The container is built before the connection comes, and
			// the connection only starts its init.
			b.hold = func() (bool, error) {
				stopped, err := waitFirstConnection(r.sockets, stop, r.c.Quiet)
				if err == nil && !stopped {
					trace("a connection is pending")
				}
				return stopped, err
			}
		}
		res, err := r.bootOnce(b)
		r.ran = r.ran || res.execed
		if !res.again {
			return res.status, err
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "sockspawn: %v\n", err)
		}
		if !r.c.Quiet {
			fmt.Fprintf(os.Stderr, "sockspawn: container %s exited with status %d; it boots again on the next connection\n", r.d.Machine, res.status)
		}
	}
}

// inBackground returns start, which runs f on a goroutine of its own the
// first time it is called, and wait, which calls start and returns once f
// has returned.
func inBackground(f func()) (start, wait func()) {
	done := make(chan struct{})
	start = sync.OnceFunc(func() {
		go func() {
			defer close(done)
			f()
		}()
	})
	return start, func() {
		start()
		<-done
	}
}
