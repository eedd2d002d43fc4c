package payload

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
)

// CheckBridge checks that the host has a bridge called name, so that a
// machine asking for one it lacks fails before anything is made.
func CheckBridge(name string) error {
	l, err := netlink.LinkByName(name)
	var nf netlink.LinkNotFoundError
	switch {
	case errors.As(err, &nf):
		return fmt.Errorf("--network-bridge=%s: the host has no interface %s", name, name)
	case err != nil:
		return fmt.Errorf("--network-bridge=%s: %w", name, err)
	case l.Type() != "bridge":
		return fmt.Errorf("--network-bridge=%s: %s is a %s interface, not a bridge", name, name, l.Type())
	}
	return nil
}

// attachToBridge makes bridge the master of link and brings the link up.
func attachToBridge(link netlink.Link, bridge string) error {
	if err := CheckBridge(bridge); err != nil {
		return err
	}
	br, err := netlink.LinkByName(bridge)
	if err != nil {
		return fmt.Errorf("attach %s to bridge %s: %w", link.Attrs().Name, bridge, err)
	}
	if err := netlink.LinkSetMaster(link, br); err != nil {
		return fmt.Errorf("attach %s to bridge %s: %w", link.Attrs().Name, bridge, err)
	}
	return nil
}

// EnsureZone makes the bridge of a network zone (units.ZoneBridge: vz-
// and the zone) if the host does not have it yet, and brings it up.
// made is true if this call made it. A vz- interface that is not a bridge
// is an error.
func EnsureZone(bridge string) (made bool, err error) {
	unlock, err := lockNetwork()
	if err != nil {
		return false, err
	}
	defer unlock()
	l, err := netlink.LinkByName(bridge)
	if err == nil {
		if l.Type() != "bridge" {
			return false, fmt.Errorf("network zone: %s is a %s interface, not a bridge", bridge, l.Type())
		}
		return false, netlink.LinkSetUp(l)
	}
	la := netlink.NewLinkAttrs()
	la.Name = bridge
	br := &netlink.Bridge{LinkAttrs: la}
	if err := netlink.LinkAdd(br); err != nil {
		return false, fmt.Errorf("create zone bridge %s: %w", bridge, err)
	}
	if err := netlink.LinkSetUp(br); err != nil {
		_ = netlink.LinkDel(br)
		return false, fmt.Errorf("bring up zone bridge %s: %w", bridge, err)
	}
	return true, nil
}

// ReleaseZone removes a zone's bridge once no interface is attached to
// it: its last machine has left. Call it after the machine's veth is gone.
func ReleaseZone(bridge string) error {
	unlock, err := lockNetwork()
	if err != nil {
		return err
	}
	defer unlock()
	br, err := netlink.LinkByName(bridge)
	if err != nil {
		return nil // gone already
	}
	links, err := netlink.LinkList()
	if err != nil {
		return fmt.Errorf("list interfaces on zone bridge %s: %w", bridge, err)
	}
	for _, l := range links {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			return nil // another machine is still in the zone
		}
	}
	if err := netlink.LinkDel(br); err != nil {
		return fmt.Errorf("delete zone bridge %s: %w", bridge, err)
	}
	return nil
}
