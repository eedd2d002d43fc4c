package machine

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/payload/devices"
	"github.com/sockspawn/sockspawn/units"
)

// cgroupPrep makes the container's cgroups and device policy, in the
// background: on a hybrid host they wait on the kernel (the RCU grace
// period of the first v1 move holds cgroup_mutex), and the stage can
// start up and build the root meanwhile.
type cgroupPrep struct {
	done   chan struct{}
	cg     *payload.Cgroup
	policy io.Closer
	err    error
}

// prepareCgroups starts making the cgroups of machine, with the device
// allow-list for binds, handed to the user namespace's root if any.
func prepareCgroups(machine string, binds []units.Bind, users *payload.UserRange, warn func(string)) *cgroupPrep {
	p := &cgroupPrep{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.err = p.setup(machine, binds, users, warn)
		trace("cgroups and device policy ready")
	}()
	return p
}

func (p *cgroupPrep) setup(machine string, binds []units.Bind, users *payload.UserRange, warn func(string)) error {
	cg, err := payload.SetupCgroup(machine, warn)
	if err != nil {
		return fmt.Errorf("cgroup: %w", err)
	}
	p.cg = cg
	rules := deviceRules(binds)
	if p.policy, err = devices.Attach(filepath.Join(cg.Mount, cg.Payload), rules); err != nil {
		return fmt.Errorf("device policy: %w", err)
	}
	// Where the host has the v1 devices controller, it enforces the same
	// list (on a host with cgroup v1 alone, it is what a v1 tool reads).
	if dir := cg.DevicesV1(); dir != "" {
		if err := devices.AttachV1(dir, rules); err != nil {
			return fmt.Errorf("device policy (cgroup v1): %w", err)
		}
	}
	if users != nil {
		if err := cg.HandTo(int(users.Base)); err != nil {
			return err
		}
	}
	return nil
}

// wait waits until the cgroups are ready, or failed.
func (p *cgroupPrep) wait() error {
	<-p.done
	return p.err
}

// move puts the stage (pid) into the container's cgroups, once ready.
func (p *cgroupPrep) move(pid int, unified bool) error {
	if err := p.wait(); err != nil {
		return err
	}
	return p.cg.Move(pid, unified)
}

// release removes the device policy and the cgroups.
func (p *cgroupPrep) release(warn func(string)) {
	<-p.done
	if p.policy != nil {
		p.policy.Close()
	}
	if err := p.cg.Remove(); err != nil {
		warn(err.Error())
	}
}

// cloneLate reports whether the stage is better cloned outside the
// container's cgroups and moved in afterwards: where a move into v1
// cgroups is needed anyway (a hybrid host) the move costs nothing more,
// and the stage starts while the kernel makes the cgroups; and on request
// (the path for kernels without clone3 into a cgroup).
func cloneLate() bool {
	return os.Getenv("SOCKSPAWN_CLONE_INTO_CGROUP") == "0" || payload.HostHasWritableV1()
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
