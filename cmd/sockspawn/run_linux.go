package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/sockspawn/sockspawn/activation"
	"github.com/sockspawn/sockspawn/cmd/sockspawn/idlewatch"
	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/payload/devices"
	"github.com/sockspawn/sockspawn/units"
)

// cmdRun is `sockspawn run [OPTIONS] [ARGS...]`.
func cmdRun(args []string) int {
	pa, err := parseRunArgs(args)
	if err != nil {
		return errorf("%v", err)
	}
	if pa.Help {
		writeHelp(os.Stdout)
		return 0
	}
	if pa.Version {
		return dispatch([]string{"--version"})
	}
	if pa.Set["Settings"] {
		return errorf("--settings: sockspawn run reads no settings file; it is for sockspawn boot, cat and check NAME, which read NAME.nspawn")
	}
	return runConfig(pa.Config, nil)
}

// runConfig runs one container to its end and returns the exit status.
// src says where c's values came from, for errors (nil: the command line).
func runConfig(c units.Config, src units.Sources) int {
	d, err := checkInput(c, src, isTerminal(os.Stdin))
	if err != nil {
		return errorf("%v", err)
	}
	d.Argv = idleInitArgs(c, d.Argv)
	// The sealed copy of sockspawn the stage runs from is made while the
	// rest is prepared (the first boot uses it; later ones make their own).
	// Not with --listen: the first boot may be far off, and the copy is
	// memory held all that while.
	copied := make(chan sealedCopy, 1)
	if len(c.Listen) == 0 {
		go func() {
			f, err := payload.SealedSelf()
			trace("sealed copy of sockspawn made")
			copied <- sealedCopy{f, err}
		}()
	} else {
		copied <- sealedCopy{}
	}
	defer func() {
		if sc := <-copied; sc.file != nil {
			sc.file.Close()
		}
	}()
	creds, err := gatherCredentials(c.Credentials)
	if err != nil {
		return errorf("%v", err)
	}
	sockets, err := gatherSockets(c.Listen)
	if err != nil {
		return errorf("%v", err)
	}
	defer sockets.close()
	if err := checkIdle(c, len(sockets.files), payload.CanFreeze); err != nil {
		return errorf("%v", err)
	}
	if c.NetworkBridge != "" {
		if err := payload.CheckBridge(c.NetworkBridge); err != nil {
			return errorf("%v", err)
		}
	}
	var netns *os.File
	if c.NetworkNamespacePath != "" {
		if netns, err = payload.OpenNetNS(c.NetworkNamespacePath); err != nil {
			return errorf("%v", err)
		}
		defer netns.Close()
	}
	ports, err := payload.ReservePorts(payloadPorts(c.Ports))
	if err != nil {
		return errorf("%v", err)
	}
	defer ports.Release()
	osRelease := hostOSRelease()
	trace("gathered credentials, sockets, os-release")
	var saidMu sync.Mutex     // warn is called from cleanups running side by side
	said := map[string]bool{} // each message once, however often the container boots
	warn := func(s string) {
		saidMu.Lock()
		defer saidMu.Unlock()
		if !c.Quiet && !said[s] {
			said[s] = true
			fmt.Fprintf(os.Stderr, "sockspawn: %s\n", s)
		}
	}
	journal, err := journalAction(c, d, warn)
	if err != nil {
		return errorf("%v", err)
	}
	users, _ := units.ParsePrivateUsers(c.PrivateUsers) // checked when parsed
	checkInotifyBudget(c, users)
	hostUsers, err := lookupBindUsers(c.BindUsers, users)
	if err != nil {
		return errorf("%v", err)
	}

	// From here on things are created; each is undone on the way out.
	// The tunnel of `machinectl bind` only where machined may use it: not
	// on a host without systemd (so without machined), and machined
	// refuses a user namespace.
	tunnel := !users.Enabled && (c.Register == nil || *c.Register) && activation.SystemdRunning()
	rt, err := acquireRuntime(d.Machine, tunnel)
	if err != nil {
		return errorf("%v", err)
	}
	// Released as soon as the container's init is gone when no boot can
	// follow (see bootOnce's atExit), else on the way out.
	releaseRuntime, waitRuntime := inBackground(rt.release)
	defer func() {
		waitRuntime()
		trace("cleaned up")
	}()
	trace("runtime directory locked")
	var userRange *payload.UserRange
	if users.Enabled {
		if userRange, err = payload.ReserveUserRange(d.Machine, payload.IDMap{Base: users.Base, Size: users.Size}); err != nil {
			return errorf("--private-users: %v", err)
		}
		defer userRange.Release()
	}
	if !payload.CurrentDelegated() {
		// Run by hand on a systemd host: ask systemd for a delegated
		// scope, as the Container Interface wants.
		if _, err := activation.JoinTransientScope(d.Machine, "Container "+d.Machine); err != nil {
			warn(err.Error())
		}
	}
	boundUsers, err := payload.PlanBoundUsers(hostUsers, userMap(userRange))
	if err != nil {
		return errorf("%v", err)
	}
	d.Tunnel = rt.Propagate
	consoleMode := payload.ConsolePTY
	if d.Console == units.ConsolePipe {
		consoleMode = payload.ConsolePipe
	}
	term := ""
	if d.Console == units.ConsoleInteractive {
		term = os.Getenv("TERM")
	}
	env := payload.Environment(payload.EnvInput{
		UUID:        d.UUID,
		OSRelease:   osRelease,
		Term:        term,
		Credentials: len(creds) > 0,
		Listen:      activation.ListenEnv(len(sockets.files), sockets.names),
		TTYs:        payload.TTYNames(consoleMode, c.TTYs),
		User:        c.Environment,
	})
	plan, err := payload.NewPlan(payload.Options{
		Image:          d.Image,
		Root:           rt.Dir,
		Hostname:       d.Hostname,
		Volatile:       c.Volatile,
		Binds:          payloadBinds(c.Binds),
		Console:        consoleMode,
		Argv:           d.Argv,
		Env:            env,
		ListenFDs:      len(sockets.files),
		UUID:           d.UUID,
		OSRelease:      osRelease,
		Credentials:    creds,
		AsPid2:         c.AsPid2,
		Timezone:       hostTimezone(),
		TimezoneMode:   c.Timezone,
		UserNS:         userMap(userRange),
		PrivateNetwork: c.OwnNetwork() || netns != nil && !users.Enabled, // -U: the namespace is not its user namespace's
		KeepCaps:       units.CapabilityNumbers(c.Capabilities),
		DropCaps:       units.CapabilityNumbers(c.DropCapabilities),
		Journal:        journal,
		Incoming:       d.Tunnel,
		UnixExport:     payload.UnixExportPath(d.Machine),
		TTYs:           c.TTYs,
		BindUsers:      boundUsers,
	})
	if err != nil {
		return errorf("%v", err)
	}
	if idleAction(c) != activation.IdleIgnore {
		// /run/host/busy: a shared lock on it inside holds the machine
		// awake (see idlewatch.BusyFile).
		plan.RunHost.Files = append(plan.RunHost.Files, payload.File{Name: idlewatch.BusyFile})
	}
	undoJournal, err := payload.ApplyJournal(journal, journalOwner(userRange))
	if err != nil {
		return errorf("%v", err)
	}
	ran := false // the payload ran at least once: the journal link stays
	defer func() {
		if !ran {
			undoJournal()
		}
	}()
	stop := make(chan os.Signal, 4)
	signal.Notify(stop, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGWINCH, freezeSignal, thawSignal)
	defer signal.Stop(stop)
	for {
		if sockets.own {
			if status, done := waitFirstConnection(sockets, stop, c.Quiet); done {
				return status
			}
			trace("a connection is pending")
		}
		first, ok := <-copied
		if ok && first.err != nil {
			return errorf("%v", first.err)
		}
		copied <- sealedCopy{} // later boots make their own
		// With sockets of its own, sockspawn may boot the container
		// again; else this boot is the last, and the runtime directory
		// goes with the init.
		atExit := releaseRuntime
		if sockets.own {
			atExit = func() {}
		}
		status, again, execed := bootOnce(plan, d, c, sockets, userRange, first.file, stop, warn, atExit, hostNet{netns, ports})
		ran = ran || execed
		if !again {
			return status
		}
		if !c.Quiet {
			fmt.Fprintf(os.Stderr, "sockspawn: container %s exited with status %d; it boots again on the next connection\n", d.Machine, status)
		}
	}
}

// bootOnce boots the container once and supervises it to its end. again
// is true when sockspawn holds its own listening sockets (--listen) and
// the container ended by itself: the sockets are then re-armed and the
// next connection boots it again. execed is true when the payload ran.
// bootOnce closes exeCopy, the sealed copy of sockspawn, as soon as the
// stage runs from it: the container need not hold its memory. Once the
// container's init is gone it starts atExit, and the removal of the
// container's cgroups, each on a goroutine of its own while the rest of
// the supervisor winds down (they are independent, and each has to wait
// for the kernel); it returns when the cgroups are gone. warn must be safe
// for concurrent use.
func bootOnce(plan payload.Plan, d decision, c units.Config, sockets *listenSockets, userRange *payload.UserRange, exeCopy *os.File, stop <-chan os.Signal, warn func(string), atExit func(), hn hostNet) (status int, again, execed bool) {
	closeCopy := func() {
		if exeCopy != nil {
			exeCopy.Close()
			exeCopy = nil
		}
	}
	defer closeCopy()
	removeExport, err := mountUnixExport(d.Machine, userRange, warn)
	if err != nil {
		return errorf("%s: %v", d.Machine, err), false, false
	}
	defer removeExport()
	prep := prepareCgroups(d.Machine, c.Binds, userRange, warn)
	releaseCgroups, waitCgroups := inBackground(func() { prep.release(warn) })
	defer waitCgroups()
	stdio := [3]*os.File{os.Stdin, os.Stdout, os.Stderr}
	if plan.Console == payload.ConsolePTY {
		// The payload talks to the console; the stage's own stdio only
		// matters if it crashes before reporting.
		devnull, err := os.Open(os.DevNull)
		if err != nil {
			return errorf("%v", err), false, false
		}
		defer devnull.Close()
		stdio[0], stdio[1] = devnull, devnull
	}
	spec := payload.StageSpec{Listen: sockets.files, CgroupFD: -1, Stdio: stdio, UserNS: userMap(userRange), Copy: exeCopy, MoveInto: prep.move,
		ForkOn: activation.RunOnMainThread}
	if c.OwnNetwork() {
		spec.ExtraFlag = unix.CLONE_NEWNET
	}
	spec.NetNS = hn.netns
	if c.HasVeth() {
		spec.Veth, spec.VethBridge = d.Machine, c.VethBridge()
		if len(c.Ports) > 0 {
			spec.Forward = &payload.ForwardSpec{Machine: d.Machine, Ports: payloadPorts(c.Ports), Warn: warn, Loopback6: hn.ports.Loopback6}
			switch {
			case c.NetworkZone != "":
				spec.Forward.HostLink = c.VethBridge()
			case c.NetworkBridge == "":
				spec.Forward.HostLink = payload.HostLink(d.Machine)
			}
		}
	}
	if c.NetworkZone != "" {
		if _, err := payload.EnsureZone(c.VethBridge()); err != nil {
			return errorf("%v", err), false, false
		}
		defer func() {
			if err := payload.ReleaseZone(c.VethBridge()); err != nil {
				warn(err.Error())
			}
		}()
	}
	if cloneLate() {
		spec.LateCgroupNS = true
	} else {
		// Straight into the container's cgroup: clone3(CLONE_INTO_CGROUP).
		if err := prep.wait(); err != nil {
			return errorf("%v", err), false, false
		}
		spec.CgroupFD, spec.LateCgroupNS = prep.cg.FD(), prep.cg.HasV1()
	}
	st, err := payload.Start(plan, spec)
	closeCopy() // the stage's own mapping keeps it until the payload runs
	trace("stage started, plan handed over")
	if err != nil {
		if c.HasVeth() {
			// At once, not when the kernel gets round to the dead
			// namespace: a zone's bridge goes only once it is empty.
			_ = payload.RemoveVeth(d.Machine, c.VethBridge())
		}
		return errorf("%s: %v", d.Machine, err), false, false
	}
	var idle idleSetup
	if idleAction(c) != activation.IdleIgnore {
		// The idle watcher keeps copies of the sockets (closed on the
		// way out) and freezes the payload's cgroup, made by now.
		var cg *payload.Cgroup
		if prep.wait() == nil {
			cg = prep.cg
		}
		idle = newIdleSetup(c, sockets.files, cg)
	} else if !sockets.own {
		// The container's init owns the sockets now; systemd keeps its
		// own copies and re-arms its socket unit when we exit.
		sockets.close()
	}
	status, stopped := supervise(st, d, c, stop, func() {
		removeExport() // before the lock goes with atExit: a next start makes its own
		releaseCgroups()
		atExit()
	}, idle)
	if st.Forwarder != nil {
		if err := st.Forwarder.Stop(); err != nil {
			warn(err.Error())
		}
	}
	if c.HasVeth() {
		if err := payload.RemoveVeth(d.Machine, c.VethBridge()); err != nil {
			warn(err.Error())
		}
	}
	return status, sockets.own && !stopped && st.Execed(), st.Execed()
}

// hostNet is what runConfig holds of the host's network for every boot:
// the namespace to join, the reserved ports.
type hostNet struct {
	netns *os.File
	ports *payload.PortReservation
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

// deviceRules is the container's device allow-list: the nodes of its
// /dev, and the device nodes the user binds in.
func deviceRules(binds []units.Bind) []devices.Rule {
	rules := devices.DefaultAllow()
	// /run/host/inaccessible/{chr,blk} are device nodes 0:0, which no
	// driver backs: creating them ("m" only) is all they are good for.
	rules = append(rules,
		devices.Rule{Type: 'c', Major: 0, Minor: 0, Access: "m"},
		devices.Rule{Type: 'b', Major: 0, Minor: 0, Access: "m"})
	for _, b := range binds {
		if r, err := devices.RuleForNode(b.Source); err == nil {
			rules = append(rules, r)
		}
	}
	return rules
}

// userMap is the user namespace mapping of a reserved range, or nil.
func userMap(r *payload.UserRange) *payload.IDMap {
	if r == nil {
		return nil
	}
	return &r.IDMap
}

// sealedCopy is the result of payload.SealedSelf.
type sealedCopy struct {
	file *os.File
	err  error
}

// payloadPorts converts the user's ports to the payload's plain form.
func payloadPorts(ps []units.Port) []payload.PortForward {
	out := make([]payload.PortForward, 0, len(ps))
	for _, p := range ps {
		out = append(out, payload.PortForward{Proto: p.Proto, Host: p.Host, Container: p.Container})
	}
	return out
}

// payloadBinds converts the user's binds to the payload's plain form.
func payloadBinds(bs []units.Bind) []payload.BindMount {
	out := make([]payload.BindMount, 0, len(bs))
	for _, b := range bs {
		out = append(out, payload.BindMount{Source: b.Source, Target: b.Target, ReadOnly: b.ReadOnly, Recursive: b.Recursive})
	}
	return out
}

// gatherCredentials reads the credentials to pass: those of sockspawn's
// own service, then the explicit ones, which win.
func gatherCredentials(explicit []units.Credential) ([]payload.File, error) {
	credDir := os.Getenv("CREDENTIALS_DIRECTORY")
	inherited, err := activation.InheritedCredentials(credDir)
	if err != nil {
		return nil, err
	}
	var given []activation.Credential
	for _, c := range explicit {
		if c.Path == "" {
			given = append(given, activation.Credential{ID: c.ID, Data: c.Data})
			continue
		}
		cr, err := activation.LoadCredential(c.ID, c.Path, credDir)
		if err != nil {
			return nil, fmt.Errorf("--load-credential: %w", err)
		}
		given = append(given, cr)
	}
	var out []payload.File
	for _, c := range activation.MergeCredentials(inherited, given) {
		out = append(out, payload.File{Name: c.ID, Data: c.Data})
	}
	return out, nil
}

// hostOSRelease reads the host's os-release, as the os-release
// specification says: /etc/os-release, else /usr/lib/os-release.
func hostOSRelease() []byte {
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		if b, err := os.ReadFile(p); err == nil {
			return b
		}
	}
	return nil
}

// hostTimezone names the host's time zone from its /etc/localtime symlink
// ("Europe/Berlin"), or "" if it is not a link into a zoneinfo directory.
func hostTimezone() string {
	l, err := os.Readlink("/etc/localtime")
	if err != nil {
		return ""
	}
	_, zone, ok := strings.Cut(l, "zoneinfo/")
	if !ok || zone == "" || strings.Contains(zone, "..") {
		return ""
	}
	return zone
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// sigWinch is true for the signal that only resizes the console.
func sigWinch(s os.Signal) bool { return s == syscall.SIGWINCH }
