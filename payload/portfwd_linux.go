package payload

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// NetworkLockPath serializes the changes sockspawn's supervisors make to
// the host's network (ForwardTable, zone bridges): each reads, then
// writes, and two machines starting at once must not interleave.
var NetworkLockPath = "/run/sockspawn/network.lock"

// lockNetwork takes NetworkLockPath; unlock releases it.
func lockNetwork() (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(NetworkLockPath), 0o755); err != nil {
		return nil, fmt.Errorf("lock the host's network: %w", err)
	}
	f, err := os.OpenFile(NetworkLockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the host's network: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock the host's network: %w", os.NewSyscallError("flock "+NetworkLockPath, err))
	}
	return func() { f.Close() }, nil
}

// ForwardSpec is what StartForwarding needs.
type ForwardSpec struct {
	Machine string
	Ports   []PortForward
	// Pid is a process in the container's network namespace (the stage):
	// its addresses are the targets, followed as they change.
	Pid int
	// HostLink is the host's interface towards the container that is
	// sockspawn's own (ve-NAME, or a zone's bridge), or "" (a bridge of
	// the administrator's, left as it is). It gets route_localnet, so that
	// what the host sends from 127.0.0.1 may leave through it, and
	// forwarding (IPv4; IPv6 where the kernel has force_forwarding), so
	// that the container's answers to other hosts and namespaces are
	// forwarded back: the ingress side of those is the host's own
	// forwarding setting.
	HostLink string
	// Warn reports what goes wrong once forwarding runs; safe for
	// concurrent use.
	Warn func(string)
	// Loopback6 are the listening sockets of PortReservation.Loopback6:
	// the Forwarder relays what arrives there (the host's [::1]:PORT)
	// while it runs.
	Loopback6 map[uint16]*net.TCPListener
}

// Forwarder keeps a machine's forwarding rules in step with the
// container's addresses until Stop.
type Forwarder struct {
	spec    ForwardSpec
	owner   forwardOwner
	done    chan struct{}
	stopped chan struct{}
	stop    sync.Once
	err     error
	relay   loopbackRelay
}

// StartForwarding installs the machine's chain (empty until the container
// has an address) and its jumps, then follows the container's addresses.
// On error nothing is left behind.
func StartForwarding(spec ForwardSpec) (*Forwarder, error) {
	owner, err := selfOwner(spec.Machine)
	if err != nil {
		return nil, err
	}
	if spec.HostLink != "" {
		for _, knob := range []string{"ipv4/conf/%s/route_localnet", "ipv4/conf/%s/forwarding", "ipv6/conf/%s/force_forwarding"} {
			p := filepath.Join("/proc/sys/net", fmt.Sprintf(knob, spec.HostLink))
			err := os.WriteFile(p, []byte("1"), 0o644)
			if err != nil && !(strings.HasPrefix(knob, "ipv6") && errors.Is(err, os.ErrNotExist)) {
				return nil, fmt.Errorf("forward ports of %s: set %s: %w", spec.Machine, p, err)
			}
		}
	}
	ns, err := netns.GetFromPid(spec.Pid)
	if err != nil {
		return nil, fmt.Errorf("forward ports of %s: open its network namespace: %w", spec.Machine, err)
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("forward ports of %s: netlink in its network namespace: %w", spec.Machine, err)
	}
	f := &Forwarder{spec: spec, owner: owner, done: make(chan struct{}), stopped: make(chan struct{})}
	targets := containerTargets(h)
	if err := applyForward(owner, PlanForward(spec.Machine, spec.Ports, targets)); err != nil {
		h.Close()
		ns.Close()
		_ = RemoveForwarding(spec.Machine)
		return nil, err
	}
	updates := make(chan netlink.AddrUpdate, 16)
	if err := netlink.AddrSubscribeWithOptions(updates, f.done, netlink.AddrSubscribeOptions{Namespace: &ns}); err != nil {
		h.Close()
		ns.Close()
		_ = RemoveForwarding(spec.Machine)
		return nil, fmt.Errorf("forward ports of %s: follow its addresses: %w", spec.Machine, err)
	}
	f.relay.setTargets(targets)
	f.relay.start(spec.Loopback6, spec.Ports)
	go func() {
		defer close(f.stopped)
		defer ns.Close()
		defer h.Close()
		for {
			select {
			case <-f.done:
				return
			case _, ok := <-updates:
				if !ok {
					return // the namespace is gone, or the subscription failed
				}
				// Drain what came with it: one rewrite per burst.
				for more := true; more; {
					select {
					case _, more = <-updates:
					default:
						more = false
					}
				}
				t := containerTargets(h)
				if t == targets {
					continue
				}
				targets = t
				f.relay.setTargets(t)
				if err := applyForward(owner, PlanForward(spec.Machine, spec.Ports, t)); err != nil && spec.Warn != nil {
					spec.Warn(err.Error())
				}
			}
		}
	}()
	return f, nil
}

// Stop stops following the container and removes the machine's rules.
func (f *Forwarder) Stop() error {
	f.stop.Do(func() {
		close(f.done)
		<-f.stopped
		f.relay.halt(f.spec.Loopback6)
		f.err = RemoveForwarding(f.spec.Machine)
	})
	return f.err
}

// containerTargets lists the addresses of the namespace of h and picks
// the targets; a namespace it cannot read has none.
func containerTargets(h *netlink.Handle) ForwardTargets {
	addrs, err := h.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return ForwardTargets{}
	}
	var infos []AddrInfo
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		infos = append(infos, AddrInfo{Addr: ip.Unmap(), LinkLocal: a.Scope == unix.RT_SCOPE_LINK,
			Loopback: a.Scope == unix.RT_SCOPE_HOST || ip.IsLoopback()})
	}
	return PickTargets(infos)
}

// applyForward makes the machine's rules in the host's ForwardTable what
// r says, in one transaction, removing first what supervisors that are
// gone left behind.
func applyForward(owner forwardOwner, r ForwardRules) error {
	unlock, err := lockNetwork()
	if err != nil {
		return err
	}
	defer unlock()
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	t := c.AddTable(&nftables.Table{Name: ForwardTable, Family: nftables.TableFamilyINet})
	bases := baseChains(t)
	for _, ch := range bases {
		c.AddChain(ch)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: create table inet %s: %w", ForwardTable, err)
	}
	if err := deleteOwned(c, t, bases, func(o forwardOwner) bool { return o.Machine == owner.Machine || stale(o) }); err != nil {
		return err
	}
	ch := c.AddChain(&nftables.Chain{Name: r.Chain, Table: t})
	c.FlushChain(ch)
	for _, d := range r.DNAT {
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: d.Exprs, UserData: []byte(d.Tag)})
	}
	for _, base := range bases[:2] {
		c.AddRule(&nftables.Rule{Table: t, Chain: base, Exprs: r.Jump, UserData: owner.tag()})
	}
	if r.Masq != nil {
		c.AddRule(&nftables.Rule{Table: t, Chain: bases[2], Exprs: r.Masq, UserData: owner.tag()})
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: set the rules of chain %s: %w", r.Chain, err)
	}
	return nil
}

// deleteOwned deletes, in one transaction, the rules of the base chains
// whose owner match selects, and the chains of those machines; then the
// table, if no machine's chain is left in it.
func deleteOwned(c *nftables.Conn, t *nftables.Table, bases []*nftables.Chain, match func(forwardOwner) bool) error {
	machines := map[string]bool{}
	for _, base := range bases {
		rules, err := c.GetRules(t, base)
		if err != nil {
			return fmt.Errorf("nftables: list chain %s: %w", base.Name, err)
		}
		for _, r := range rules {
			if o, ok := parseOwner(r.UserData); ok && match(o) {
				machines[o.Machine] = true
				if err := c.DelRule(r); err != nil {
					return fmt.Errorf("nftables: delete a rule of chain %s: %w", base.Name, err)
				}
			}
		}
	}
	for m := range machines {
		ch := &nftables.Chain{Name: MachineChain(m), Table: t}
		c.FlushChain(ch)
		c.DelChain(ch)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: delete rules of %s: %w", strings.Join(mapKeys(machines), ", "), err)
	}
	return nil
}

// RemoveForwarding removes machine's chain and rules from the host's
// ForwardTable, and the table once no machine uses it. Nothing there is
// not an error.
func RemoveForwarding(machine string) error {
	unlock, err := lockNetwork()
	if err != nil {
		return err
	}
	defer unlock()
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	t, err := c.ListTableOfFamily(ForwardTable, nftables.TableFamilyINet)
	if err != nil {
		return nil // no table: nothing to remove
	}
	bases := baseChains(t)
	if err := deleteOwned(c, t, bases, func(o forwardOwner) bool { return o.Machine == machine || stale(o) }); err != nil {
		return err
	}
	// Our own chain, even if its jumps were never made.
	if chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyINet); err == nil {
		left := false
		for _, ch := range chains {
			if ch.Table.Name != ForwardTable {
				continue
			}
			switch {
			case ch.Name == MachineChain(machine):
				c.FlushChain(ch)
				c.DelChain(ch)
			case strings.HasPrefix(ch.Name, "machine-"):
				left = true
			}
		}
		if !left {
			c.DelTable(t)
		}
		if err := c.Flush(); err != nil {
			return fmt.Errorf("nftables: delete chain %s: %w", MachineChain(machine), err)
		}
	}
	return nil
}

// ForwardedBy names the machine whose chain forwards host port p, or "".
func ForwardedBy(p PortForward) string {
	c, err := nftables.New()
	if err != nil {
		return ""
	}
	t, err := c.ListTableOfFamily(ForwardTable, nftables.TableFamilyINet)
	if err != nil {
		return ""
	}
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil {
		return ""
	}
	for _, ch := range chains {
		m, ok := strings.CutPrefix(ch.Name, "machine-")
		if ch.Table.Name != ForwardTable || !ok {
			continue
		}
		rules, _ := c.GetRules(t, ch)
		for _, r := range rules {
			if string(r.UserData) == p.String() {
				return m
			}
		}
	}
	return ""
}

// selfOwner is the tag of this supervisor's rules.
func selfOwner(machine string) (forwardOwner, error) {
	start, err := processStart(os.Getpid())
	if err != nil {
		return forwardOwner{}, fmt.Errorf("forward ports of %s: %w", machine, err)
	}
	return forwardOwner{Machine: machine, PID: os.Getpid(), Start: start, PidNS: pidNS()}, nil
}

// stale is true for rules whose supervisor is gone: its pid is free, or
// taken by a later process. The pid of a supervisor in another pid
// namespace cannot be looked up here: its rules are left alone.
func stale(o forwardOwner) bool {
	if o.PidNS != pidNS() {
		return false
	}
	start, err := processStart(o.PID)
	if errors.Is(err, os.ErrNotExist) {
		return true
	}
	return err == nil && start != o.Start
}

// pidNS names this process's pid namespace ("pid:[4026531836]").
func pidNS() string {
	l, _ := os.Readlink("/proc/self/ns/pid")
	return l
}

// processStart reads the start time of process pid (in clock ticks after
// boot): with the pid, it names one process for the life of the system.
func processStart(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold anything: fields are
	// counted after its last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return strconv.ParseUint(f[19], 10, 64) // field 22 overall
}

func mapKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
