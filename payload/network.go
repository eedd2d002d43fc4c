package payload

import (
	"crypto/sha256"
	"fmt"
	"net"
)

// ContainerLink is the name of the container's side of the veth pair:
// systemd-networkd inside runs DHCP and IPv4LL on "host0" by default.
const ContainerLink = "host0"

// HostLink names the host's side of the veth pair: "ve-" and the machine
// name, which systemd-networkd on the host serves with DHCP by default.
// Interface names have at most 15 characters, so a long machine name is
// shortened and a hash of the whole name keeps two machines apart.
func HostLink(machine string) string {
	return hostLinkName("ve-", machine)
}

// HostLinkFor names the host's side of the veth pair: HostLink, or with a
// bridge "vb-" and the machine name, as systemd-nspawn names them.
func HostLinkFor(machine, bridge string) string {
	if bridge != "" {
		return hostLinkName("vb-", machine)
	}
	return HostLink(machine)
}

func hostLinkName(prefix, machine string) string {
	name := prefix + machine
	if len(name) <= 15 {
		return name
	}
	h := sha256.Sum256([]byte(machine))
	return fmt.Sprintf("%s%s-%02x%02x", prefix, machine[:6], h[0], h[1])
}

// LinkMAC returns a stable MAC address for one side of a machine's veth
// pair, hashed from the machine name, so that DHCP and IPv4LL hand out
// the same addresses on every boot (the Container Interface recommends
// it). It is unicast and locally administered.
func LinkMAC(machine, side string) net.HardwareAddr {
	h := sha256.Sum256([]byte("sockspawn veth\x00" + machine + "\x00" + side))
	mac := net.HardwareAddr(h[:6])
	mac[0] = mac[0]&^0x01 | 0x02
	return mac
}
