module github.com/sockspawn/sockspawn

go 1.26.8

require (
	github.com/coreos/go-systemd/v22 v22.7.0
	github.com/godbus/dbus/v5 v5.2.4
	golang.org/x/sys v0.50.0
)

require (
	github.com/cilium/ebpf v0.22.0
	github.com/vishvananda/netlink v1.3.1
)

require github.com/vishvananda/netns v0.0.5
