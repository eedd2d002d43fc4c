package units

import (
	"fmt"
	"strconv"
	"strings"
)

// Port is one --port= / Port= request: traffic to Host on the host goes
// to Container in the container.
type Port struct {
	Proto     string // "tcp" or "udp"
	Host      uint16
	Container uint16
}

// ParsePort parses a --port= / Port= value as systemd-nspawn does:
// [tcp:|udp:]HOST[:CONTAINER], ports 1 to 65535, tcp when the protocol is
// left out, CONTAINER the same as HOST when left out.
func ParsePort(s string) (Port, error) {
	p := Port{Proto: "tcp"}
	rest := s
	if proto, after, ok := strings.Cut(s, ":"); ok && (proto == "tcp" || proto == "udp") {
		p.Proto, rest = proto, after
	}
	host, ctr, hasCtr := strings.Cut(rest, ":")
	var err error
	if p.Host, err = parsePortNumber(host); err != nil {
		return Port{}, invalid("--port", s, "host port: %v (want [tcp:|udp:]HOST[:CONTAINER])", err)
	}
	p.Container = p.Host
	if hasCtr {
		if p.Container, err = parsePortNumber(ctr); err != nil {
			return Port{}, invalid("--port", s, "container port: %v (want [tcp:|udp:]HOST[:CONTAINER])", err)
		}
	}
	return p, nil
}

func parsePortNumber(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 || s[0] == '+' {
		return 0, fmt.Errorf("%q is not a port number from 1 to 65535", s)
	}
	return uint16(n), nil
}

// FormatPort writes p as ParsePort reads it, always in full.
func FormatPort(p Port) string {
	return fmt.Sprintf("%s:%d:%d", p.Proto, p.Host, p.Container)
}

// String is FormatPort.
func (p Port) String() string { return FormatPort(p) }

// ValidInterfaceName checks a network interface name as the kernel does
// (dev_valid_name): 1 to 15 bytes, not "." or "..", no '/', ':' or
// white space.
func ValidInterfaceName(s string) error {
	switch {
	case s == "" || len(s) > 15:
		return fmt.Errorf("interface name %q: must be 1 to 15 characters", s)
	case s == "." || s == "..":
		return fmt.Errorf("interface name %q is reserved", s)
	case strings.ContainsAny(s, "/: \t\n\r\v\f") || strings.IndexFunc(s, isControl) >= 0:
		return fmt.Errorf("interface name %q contains '/', ':', white space or a control character", s)
	}
	return nil
}

// ZonePrefix begins the name of a zone's bridge, as in systemd-nspawn.
const ZonePrefix = "vz-"

// ZoneBridge is the bridge of network zone zone: "vz-" and the zone.
func ZoneBridge(zone string) string { return ZonePrefix + zone }

// ParseZone checks a --network-zone= / Zone= name: vz-NAME must be a
// valid interface name, so NAME has at most 12 characters.
func ParseZone(s string) (string, error) {
	if err := ValidInterfaceName(ZoneBridge(s)); err != nil || s == "" {
		return "", invalid("--network-zone", s, "the zone's bridge %s would not be a valid interface name (at most 12 characters, no '/', ':' or white space)", ZoneBridge(s))
	}
	return s, nil
}

// ParseBridge checks a --network-bridge= / Bridge= interface name.
func ParseBridge(s string) (string, error) {
	if err := ValidInterfaceName(s); err != nil {
		return "", invalid("--network-bridge", s, "%v", err)
	}
	return s, nil
}

// ParseNetnsPath checks a --network-namespace-path= value: an absolute,
// normalized path. Whether it is a network namespace is checked when the
// machine starts.
func ParseNetnsPath(s string) (string, error) {
	if err := checkPath("network namespace path", s); err != nil {
		return "", invalid("--network-namespace-path", s, "%v", err)
	}
	return s, nil
}

// CheckNetwork checks that the network options of c go together, as
// systemd-nspawn's do: ports need a network of the machine's own, a
// bridge and a zone exclude each other, and a namespace path excludes the
// rest. It also refuses a host port given twice.
func CheckNetwork(c Config) error {
	veth := c.HasVeth()
	switch {
	case c.NetworkBridge != "" && c.NetworkZone != "":
		return fmt.Errorf("--network-bridge and --network-zone cannot be combined")
	case c.NetworkNamespacePath != "" && (veth || c.PrivateNetwork):
		return fmt.Errorf("--network-namespace-path cannot be combined with --private-network, --network-veth, --network-bridge or --network-zone")
	case len(c.Ports) > 0 && !veth:
		return fmt.Errorf("--port needs a veth to the host: add --network-veth, --network-bridge or --network-zone")
	}
	seen := map[string]bool{}
	for _, p := range c.Ports {
		k := fmt.Sprintf("%s/%d", p.Proto, p.Host)
		if seen[k] {
			return fmt.Errorf("--port: host port %s is given twice", k)
		}
		seen[k] = true
	}
	return nil
}

// HasVeth is true when the machine gets a veth pair: --network-veth, or
// a bridge or zone, which imply it.
func (c Config) HasVeth() bool {
	return c.NetworkVeth || c.NetworkBridge != "" || c.NetworkZone != ""
}

// OwnNetwork is true when the machine gets a network namespace of its
// own.
func (c Config) OwnNetwork() bool { return c.PrivateNetwork || c.HasVeth() }

// VethBridge is the bridge the host's side of the veth joins: the
// --network-bridge, or the zone's, or "".
func (c Config) VethBridge() string {
	if c.NetworkZone != "" {
		return ZoneBridge(c.NetworkZone)
	}
	return c.NetworkBridge
}
