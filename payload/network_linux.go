package payload

import (
	"fmt"
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// SetupVeth creates the machine's veth pair: the host's side up on the
// host, "host0" in the network namespace of pid (the stage). Deleting
// either side deletes both, and the container's side goes with its
// namespace, so nothing needs undoing when the container ends; remove is
// for a start that fails before that.
func SetupVeth(machine, bridge string, pid int) (remove func(), err error) {
	host := HostLinkFor(machine, bridge)
	la := netlink.NewLinkAttrs()
	la.Name = host
	la.HardwareAddr = LinkMAC(machine, "host")
	veth := &netlink.Veth{
		LinkAttrs:        la,
		PeerName:         ContainerLink,
		PeerHardwareAddr: LinkMAC(machine, "container"),
		PeerNamespace:    netlink.NsPid(pid),
	}
	if err := netlink.LinkAdd(veth); err != nil {
		return nil, fmt.Errorf("create veth %s/%s: %w", host, ContainerLink, err)
	}
	remove = func() { _ = netlink.LinkDel(veth) }
	if bridge != "" {
		if err := attachToBridge(veth, bridge); err != nil {
			remove()
			return nil, err
		}
	}
	if err := netlink.LinkSetUp(veth); err != nil {
		remove()
		return nil, fmt.Errorf("bring up %s: %w", host, err)
	}
	return remove, nil
}

// RemoveVeth deletes the machine's veth pair if it is still there. The
// kernel deletes it with the container's network namespace, but only
// some time after the container ended; the supervisor removes it at once
// so that nothing of the container outlives sockspawn.
func RemoveVeth(machine, bridge string) error {
	name := HostLinkFor(machine, bridge)
	l, err := netlink.LinkByName(name)
	if err != nil {
		return nil // gone already
	}
	if err := netlink.LinkDel(l); err != nil {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}

// loopbackUp brings up "lo" in the stage's own network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return os.NewSyscallError("ioctl(SIOCGIFFLAGS, lo)", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return os.NewSyscallError("ioctl(SIOCSIFFLAGS, lo)", err)
	}
	return nil
}
