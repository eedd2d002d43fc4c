package machine

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/sockspawn/sockspawn/activation"
	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

// A boot is one start of the container, from its stage to its init's
// end; what every boot shares is the run's.
type boot struct {
	// exe is the sealed copy of sockspawn the stage runs from (nil: the
	// stage makes its own). It is closed as soon as the stage runs from
	// it: the container need not hold its memory.
	exe *os.File
	// atExit is started once the container's init is gone, beside the
	// removal of the container's cgroups.
	atExit func()
	// hold, if set, is waited for once the stage has built the container
	// and before it executes the payload; stopped: it never will.
	hold func() (stopped bool, err error)
}

// closeExe closes the sealed copy, once.
func (b *boot) closeExe() {
	if b.exe != nil {
		b.exe.Close()
		b.exe = nil
	}
}

// bootResult is how one boot ended.
type bootResult struct {
	status int
	// again: sockspawn holds its own listening sockets (--listen) and the
	// container ended by itself; the next connection boots it again.
	again bool
	// execed: the payload ran.
	execed bool
}

// hostNet is what a run holds of the host's network for every boot: the
// namespace to join, the reserved ports.
type hostNet struct {
	netns *os.File
	ports *payload.PortReservation
}

// bootOnce boots the container once and supervises it to its end. Once
// the container's init is gone it starts b.atExit, and the removal of the
// container's cgroups, each on a goroutine of its own while the rest of
// the supervisor winds down (they are independent, and each has to wait
// for the kernel); it returns when the cgroups are gone. An error comes
// with status 1.
func (r *run) bootOnce(b boot) (bootResult, error) {
	failed := bootResult{status: 1}
	defer b.closeExe()
	removeExport, err := mountUnixExport(r.d.Machine, r.userRange, r.warn)
	if err != nil {
		return failed, fmt.Errorf("%s: %w", r.d.Machine, err)
	}
	defer removeExport()
	prep := prepareCgroups(r.d.Machine, r.c.Binds, r.userRange, r.warn)
	releaseCgroups, waitCgroups := inBackground(func() { prep.release(r.warn) })
	defer waitCgroups()
	stdio, closeStdio, err := stageStdio(r.plan.Console)
	if err != nil {
		return failed, err
	}
	defer closeStdio()
	spec := payload.StageSpec{Listen: r.sockets.files, CgroupFD: -1, Stdio: stdio, UserNS: userMap(r.userRange), Copy: b.exe,
		MoveInto: prep.move, ForkOn: activation.RunOnMainThread, NetNS: r.net.netns}
	stageNetwork(&spec, r.c, r.d.Machine, r.net.ports, r.warn)
	if r.c.NetworkZone != "" {
		if _, err := payload.EnsureZone(r.c.VethBridge()); err != nil {
			return failed, err
		}
		defer r.releaseZone()
	}
	if cloneLate() {
		spec.LateCgroupNS = true
	} else {
		// Straight into the container's cgroup: clone3(CLONE_INTO_CGROUP).
		if err := prep.wait(); err != nil {
			return failed, err
		}
		spec.CgroupFD, spec.LateCgroupNS = prep.cg.FD(), prep.cg.HasV1()
	}
	plan := r.plan
	plan.Hold = b.hold != nil
	st, err := payload.Start(plan, spec)
	b.closeExe() // the stage's own mapping keeps it until the payload runs
	trace("stage started, plan handed over")
	if err != nil {
		r.dropVeth()
		return failed, fmt.Errorf("%s: %w", r.d.Machine, err)
	}
	if b.hold != nil {
		trace("container built; its init waits")
		stopped, err := b.hold()
		if err == nil && !stopped {
			err = st.Release()
		}
		if err != nil || stopped {
			st.Abort()
			r.dropVeth()
			if err != nil {
				return failed, fmt.Errorf("%s: %w", r.d.Machine, err)
			}
			return bootResult{}, nil
		}
	}
	status, stopped, err := r.supervise(st, func() {
		removeExport() // before the lock goes with atExit: a next start makes its own
		releaseCgroups()
		b.atExit()
	}, r.idleFor(prep))
	r.stopNetwork(st)
	st.Close()
	return bootResult{status: status, again: r.sockets.own && !stopped && st.Execed(), execed: st.Execed()}, err
}

// stageStdio is the stage's stdio: sockspawn's own, but for a payload
// that talks to a console pty /dev/null in and out (the stage's own
// stdio only matters then if it crashes before reporting).
func stageStdio(console string) (stdio [3]*os.File, closeStdio func(), err error) {
	stdio = [3]*os.File{os.Stdin, os.Stdout, os.Stderr}
	if console != payload.ConsolePTY {
		return stdio, func() {}, nil
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return stdio, nil, err
	}
	stdio[0], stdio[1] = devnull, devnull
	return stdio, func() { devnull.Close() }, nil
}

// stageNetwork sets the network of the stage: a namespace of its own,
// the veth and the port forwarding, as c asks.
func stageNetwork(spec *payload.StageSpec, c units.Config, machine string, ports *payload.PortReservation, warn func(string)) {
	if c.OwnNetwork() {
		spec.ExtraFlag = unix.CLONE_NEWNET
	}
	if !c.HasVeth() {
		return
	}
	spec.Veth, spec.VethBridge = machine, c.VethBridge()
	if len(c.Ports) == 0 {
		return
	}
	spec.Forward = &payload.ForwardSpec{Machine: machine, Ports: payloadPorts(c.Ports), Warn: warn}
	if ports != nil {
		spec.Forward.Loopback6 = ports.Loopback6
	}
	switch {
	case c.NetworkZone != "":
		spec.Forward.HostLink = c.VethBridge()
	case c.NetworkBridge == "":
		spec.Forward.HostLink = payload.HostLink(machine)
	}
}

// idleFor is the idle watch of this boot. Without one, the sockets
// systemd passed are the container's init's now: systemd keeps its own
// copies and re-arms its socket unit when we exit, and ours go.
func (r *run) idleFor(prep *cgroupPrep) idleSetup {
	if idleAction(r.c) == activation.IdleIgnore {
		if !r.sockets.own {
			r.sockets.close()
		}
		return idleSetup{}
	}
	// The idle watcher keeps copies of the sockets (closed on the way
	// out) and freezes the payload's cgroup, made by now.
	var cg *payload.Cgroup
	if prep.wait() == nil {
		cg = prep.cg
	}
	return newIdleSetup(r.c, r.sockets.files, cg)
}

// stopNetwork stops the port forwarding of a boot and removes its veth.
func (r *run) stopNetwork(st *payload.Stage) {
	if st.Forwarder != nil {
		if err := st.Forwarder.Stop(); err != nil {
			r.warn(err.Error())
		}
	}
	if r.c.HasVeth() {
		if err := payload.RemoveVeth(r.d.Machine, r.c.VethBridge()); err != nil {
			r.warn(err.Error())
		}
	}
}

// dropVeth removes the veth of a boot whose payload never ran, at once,
// not when the kernel gets round to the dead namespace: a zone's bridge
// goes only once it is empty.
func (r *run) dropVeth() {
	if r.c.HasVeth() {
		_ = payload.RemoveVeth(r.d.Machine, r.c.VethBridge())
	}
}

// releaseZone lets go of the zone's bridge, which goes with its last
// machine.
func (r *run) releaseZone() {
	if err := payload.ReleaseZone(r.c.VethBridge()); err != nil {
		r.warn(err.Error())
	}
}
