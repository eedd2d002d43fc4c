package payload

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// PortForward is one forwarded port: traffic to Host on the host goes to
// Container in the container.
type PortForward struct {
	Proto     string // "tcp" or "udp"
	Host      uint16
	Container uint16
}

func (p PortForward) String() string { return fmt.Sprintf("%s/%d", p.Proto, p.Host) }

// ForwardTable is sockspawn's own nftables table, of family inet (IPv4
// and IPv6 alike). It holds three base chains shared by all machines,
// which hold only jumps and masquerades tagged with their machine, and a
// chain of each machine's own (MachineChain) with its DNAT rules.
const ForwardTable = "sockspawn"

// The base chains of ForwardTable.
const (
	chainPrerouting  = "prerouting"  // from other hosts and namespaces
	chainOutput      = "output"      // from the host itself
	chainPostrouting = "postrouting" // masquerades the host's loopback
)

// MachineChain names the chain of a machine's forwarded ports.
func MachineChain(machine string) string { return "machine-" + machine }

// ForwardTargets are the container's addresses its ports are forwarded
// to: the zero Addr of a family forwards nothing of it.
type ForwardTargets struct {
	V4, V6 netip.Addr
}

// AddrInfo is one address of the container, as netlink reports it.
type AddrInfo struct {
	Addr      netip.Addr
	LinkLocal bool // scope link
	Loopback  bool // on lo, or scope host
}

// PickTargets chooses where ports are forwarded to among the container's
// addresses: the first IPv4 address of scope global, else the first
// link-local one (IPv4LL, which systemd-networkd falls back to); the first
// IPv6 address of scope global (a link-local IPv6 address needs a zone a
// DNAT rule cannot name).
func PickTargets(addrs []AddrInfo) ForwardTargets {
	var t ForwardTargets
	var ll4 netip.Addr
	for _, a := range addrs {
		switch {
		case a.Loopback || !a.Addr.IsValid():
		case a.Addr.Is4() && a.LinkLocal:
			if !ll4.IsValid() {
				ll4 = a.Addr
			}
		case a.Addr.Is4():
			if !t.V4.IsValid() {
				t.V4 = a.Addr
			}
		case !a.LinkLocal && !a.Addr.IsLinkLocalUnicast():
			if !t.V6.IsValid() {
				t.V6 = a.Addr.Unmap()
			}
		}
	}
	if !t.V4.IsValid() {
		t.V4 = ll4
	}
	return t
}

// ForwardRules is the plan of a machine's nftables rules.
type ForwardRules struct {
	Chain string // MachineChain
	// DNAT holds the rules of the machine's chain, each tagged
	// "PROTO/PORT" (its UserData) so that a refused port can name the
	// machine that holds it.
	DNAT []Rule
	// Jump is the rule in the prerouting and output chains that sends
	// traffic to the host's own addresses into the machine's chain.
	Jump []expr.Any
	// Masq, for the postrouting chain, rewrites the source of what the
	// host sends from 127.0.0.0/8 to the container, which cannot answer
	// 127.0.0.1 (nil without an IPv4 target).
	Masq []expr.Any
}

// Rule is one planned rule.
type Rule struct {
	Tag   string
	Exprs []expr.Any
}

// PlanForward plans the rules forwarding ports to t. It is pure.
func PlanForward(machine string, ports []PortForward, t ForwardTargets) ForwardRules {
	r := ForwardRules{Chain: MachineChain(machine)}
	// fib daddr type local jump machine-NAME
	r.Jump = []expr.Any{
		&expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL)},
		&expr.Verdict{Kind: expr.VerdictJump, Chain: r.Chain},
	}
	if len(ports) > 0 {
		// meta nfproto ipv6 ip6 saddr ::1 return: IPv6 has no
		// route_localnet, so what the host sends from ::1 could not
		// leave; left alone, it reaches the port's reservation, whose
		// TCP socket the supervisor relays (loopbackRelay).
		r.DNAT = append(r.DNAT, Rule{Tag: "loopback6", Exprs: []expr.Any{
			&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.NFPROTO_IPV6}},
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 8, Len: 16},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: netip.IPv6Loopback().AsSlice()},
			&expr.Verdict{Kind: expr.VerdictReturn},
		}})
	}
	for _, target := range []netip.Addr{t.V4, t.V6} {
		if !target.IsValid() {
			continue
		}
		family := uint32(unix.NFPROTO_IPV6)
		if target.Is4() {
			family = unix.NFPROTO_IPV4
		}
		for _, p := range ports {
			proto := byte(unix.IPPROTO_TCP)
			if p.Proto == "udp" {
				proto = unix.IPPROTO_UDP
			}
			// meta nfproto F meta l4proto P th dport HOST dnat to TARGET:CONTAINER
			r.DNAT = append(r.DNAT, Rule{Tag: p.String(), Exprs: []expr.Any{
				&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{byte(family)}},
				&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
				&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(p.Host)},
				&expr.Immediate{Register: 1, Data: target.AsSlice()},
				&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(p.Container)},
				&expr.NAT{Type: expr.NATTypeDestNAT, Family: family, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
			}})
		}
	}
	if t.V4.IsValid() && len(ports) > 0 {
		// meta nfproto ipv4 ip saddr 127.0.0.0/8 ip daddr TARGET masquerade
		r.Masq = []expr.Any{
			&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.NFPROTO_IPV4}},
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte{255, 0, 0, 0}, Xor: []byte{0, 0, 0, 0}},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{127, 0, 0, 0}},
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: t.V4.AsSlice()},
			&expr.Masq{},
		}
	}
	return r
}

// forwardOwner is the tag of a machine's rules in the shared chains: the
// machine and the supervisor that made them, so that the rules of a
// supervisor killed with SIGKILL can be told from live ones and removed.
type forwardOwner struct {
	Machine string
	PID     int
	Start   uint64 // the supervisor's start time (field 22 of /proc/PID/stat)
	PidNS   string // the pid namespace PID is in ("pid:[4026531836]")
}

func (o forwardOwner) tag() []byte {
	return []byte(fmt.Sprintf("sockspawn machine=%s pid=%d start=%d pidns=%s", o.Machine, o.PID, o.Start, o.PidNS))
}

// parseOwner reads a tag written by tag; ok is false for anything else.
func parseOwner(b []byte) (o forwardOwner, ok bool) {
	f := strings.Fields(string(b))
	if len(f) != 5 || f[0] != "sockspawn" {
		return o, false
	}
	m, ok1 := strings.CutPrefix(f[1], "machine=")
	p, ok2 := strings.CutPrefix(f[2], "pid=")
	s, ok3 := strings.CutPrefix(f[3], "start=")
	ns, ok4 := strings.CutPrefix(f[4], "pidns=")
	pid, err1 := strconv.Atoi(p)
	start, err2 := strconv.ParseUint(s, 10, 64)
	if !ok1 || !ok2 || !ok3 || !ok4 || err1 != nil || err2 != nil || m == "" {
		return o, false
	}
	return forwardOwner{Machine: m, PID: pid, Start: start, PidNS: ns}, true
}

// baseChains are the shared chains of ForwardTable: NAT chains at the
// standard priorities, so that they run where nft's "dstnat" and
// "srcnat" do.
func baseChains(t *nftables.Table) []*nftables.Chain {
	nat := nftables.ChainTypeNAT
	return []*nftables.Chain{
		{Name: chainPrerouting, Table: t, Type: nat, Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityNATDest},
		{Name: chainOutput, Table: t, Type: nat, Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityNATDest},
		{Name: chainPostrouting, Table: t, Type: nat, Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource},
	}
}
