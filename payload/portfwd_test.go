package payload

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

func TestPickTargets(t *testing.T) {
	a := func(s string, ll, lo bool) AddrInfo {
		return AddrInfo{Addr: netip.MustParseAddr(s), LinkLocal: ll, Loopback: lo}
	}
	tests := []struct {
		name   string
		addrs  []AddrInfo
		v4, v6 string
	}{
		{"none", nil, "", ""},
		{"loopback only", []AddrInfo{a("127.0.0.1", false, true), a("::1", false, true)}, "", ""},
		{"global first", []AddrInfo{a("169.254.3.4", true, false), a("10.0.0.2", false, false), a("10.0.0.3", false, false)}, "10.0.0.2", ""},
		{"IPv4LL when nothing else", []AddrInfo{a("169.254.3.4", true, false)}, "169.254.3.4", ""},
		{"IPv6 link-local never", []AddrInfo{a("fe80::1", true, false), a("fe80::2", false, false)}, "", ""},
		{"IPv6 global", []AddrInfo{a("fe80::1", true, false), a("fd00::2", false, false), a("2001:db8::2", false, false)}, "", "fd00::2"},
		{"both", []AddrInfo{a("fd00::2", false, false), a("192.168.1.2", false, false)}, "192.168.1.2", "fd00::2"},
	}
	for _, tt := range tests {
		got := PickTargets(tt.addrs)
		if s(got.V4) != tt.v4 || s(got.V6) != tt.v6 {
			t.Errorf("%s: PickTargets = %v, %v; want %q, %q", tt.name, got.V4, got.V6, tt.v4, tt.v6)
		}
	}
}

func s(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// dnatOf finds the DNAT of a planned rule: family, address, port.
func dnatOf(t *testing.T, r Rule) (family uint32, dport uint16, addr []byte, port []byte) {
	t.Helper()
	var imm []*expr.Immediate
	for i, e := range r.Exprs {
		switch e := e.(type) {
		case *expr.Payload:
			if e.Base == expr.PayloadBaseTransportHeader && e.Offset == 2 {
				c := r.Exprs[i+1].(*expr.Cmp)
				dport = uint16(c.Data[0])<<8 | uint16(c.Data[1])
			}
		case *expr.Immediate:
			imm = append(imm, e)
		case *expr.NAT:
			if e.Type != expr.NATTypeDestNAT || !e.Specified || e.RegAddrMin != imm[0].Register || e.RegProtoMin != imm[1].Register {
				t.Errorf("rule %s: NAT %+v does not take its address and port from the immediates", r.Tag, e)
			}
			family = e.Family
		}
	}
	if len(imm) != 2 {
		t.Fatalf("rule %s: %d immediates, want address and port", r.Tag, len(imm))
	}
	return family, dport, imm[0].Data, imm[1].Data
}

func TestPlanForward(t *testing.T) {
	ports := []PortForward{{"tcp", 8080, 80}, {"udp", 53, 5353}}
	v4, v6 := netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("fd00::2")
	r := PlanForward("web", ports, ForwardTargets{V4: v4, V6: v6})
	if r.Chain != "machine-web" {
		t.Errorf("chain %q", r.Chain)
	}
	if v, ok := r.Jump[len(r.Jump)-1].(*expr.Verdict); !ok || v.Kind != expr.VerdictJump || v.Chain != "machine-web" {
		t.Errorf("jump rule ends in %#v", r.Jump[len(r.Jump)-1])
	}
	if len(r.DNAT) != 5 || r.DNAT[0].Tag != "loopback6" {
		t.Fatalf("%d rules (first %q), want the ::1 return and 2 ports x 2 families", len(r.DNAT), r.DNAT[0].Tag)
	}
	want := []struct {
		tag    string
		family uint32
		dport  uint16
		addr   netip.Addr
		port   uint16
	}{
		{"tcp/8080", unix.NFPROTO_IPV4, 8080, v4, 80},
		{"udp/53", unix.NFPROTO_IPV4, 53, v4, 5353},
		{"tcp/8080", unix.NFPROTO_IPV6, 8080, v6, 80},
		{"udp/53", unix.NFPROTO_IPV6, 53, v6, 5353},
	}
	for i, w := range want {
		rule := r.DNAT[i+1]
		family, dport, addr, port := dnatOf(t, rule)
		if rule.Tag != w.tag || family != w.family || dport != w.dport || !bytes.Equal(addr, w.addr.AsSlice()) ||
			!bytes.Equal(port, []byte{byte(w.port >> 8), byte(w.port)}) {
			t.Errorf("rule %d: %s family %d dport %d to %v:%v; want %+v", i, rule.Tag, family, dport, addr, port, w)
		}
	}
	if r.Masq == nil {
		t.Error("no masquerade for the host's loopback")
	} else if _, ok := r.Masq[len(r.Masq)-1].(*expr.Masq); !ok {
		t.Errorf("masquerade rule ends in %#v", r.Masq[len(r.Masq)-1])
	}
	// No address yet: the chain exists but forwards nothing.
	if r := PlanForward("web", ports, ForwardTargets{}); len(r.DNAT) != 1 || r.Masq != nil {
		t.Errorf("without targets: %d rules, masq %v", len(r.DNAT), r.Masq != nil)
	}
	if r := PlanForward("web", ports, ForwardTargets{V6: v6}); len(r.DNAT) != 3 || r.Masq != nil {
		t.Errorf("IPv6 only: %d rules, masq %v", len(r.DNAT), r.Masq != nil)
	}
}

func TestForwardOwnerTag(t *testing.T) {
	o := forwardOwner{Machine: "web", PID: 42, Start: 123456, PidNS: "pid:[4026531836]"}
	got, ok := parseOwner(o.tag())
	if !ok || got != o {
		t.Errorf("parseOwner(tag()) = %+v, %v", got, ok)
	}
	for _, bad := range []string{"", "tcp/80", "sockspawn machine= pid=1 start=2 pidns=x", "sockspawn machine=a pid=x start=2 pidns=x", "other machine=a pid=1 start=2 pidns=x"} {
		if _, ok := parseOwner([]byte(bad)); ok {
			t.Errorf("parseOwner(%q) accepted", bad)
		}
	}
}

func TestHostLinkFor(t *testing.T) {
	if got := HostLinkFor("web", ""); got != "ve-web" {
		t.Errorf("veth: %q", got)
	}
	if got := HostLinkFor("web", "br0"); got != "vb-web" {
		t.Errorf("bridged: %q", got)
	}
	if a, b := HostLinkFor("a-very-long-machine-name", "br0"), HostLinkFor("a-very-long-machine-name2", "br0"); len(a) > 15 || a == b || a[:3] != "vb-" {
		t.Errorf("long names: %q, %q", a, b)
	}
}
