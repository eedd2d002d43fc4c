package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/sockspawn/sockspawn/units"
)

// argKind says whether an option takes a value.
type argKind int

const (
	noArg       argKind = iota
	requiredArg         // --opt=VALUE or --opt VALUE (-oVALUE or -o VALUE)
	optionalArg         // --opt or --opt=VALUE only
)

// option is one command-line option of `sockspawn run`. The same table
// renders --help and the man page, so both list every flag.
type option struct {
	short   byte
	long    string
	arg     argKind
	meta    string // the value's name in the help, e.g. PATH
	help    string // one paragraph; wrapped when rendered
	set     func(c *units.Config, v string) error
	section string
	field   string // the units.Config field it sets (units.FieldNames)
	// key is the [Container] key of NAME.conf that sets the same field
	// with the same parser; "" only for -M (the name is the file's) and
	// -q (how sockspawn talks, not what the machine is).
	key string
}

// options returns the table of `sockspawn run` options, in help order.
func options() []option {
	return []option{
		{short: 'D', long: "directory", field: "Directory", key: "Directory", arg: requiredArg, meta: "PATH", section: "Image",
			help: "Root directory of the container's image. Required. A relative PATH is taken from the current directory. `-D /` boots this machine's own OS, never read-write: it needs --volatile=yes or --volatile=state, and -M.",
			set: func(c *units.Config, v string) (err error) {
				// As systemd-nspawn: relative to where the command runs;
				// then as Directory= (absolute and normalized).
				if v != "" && !filepath.IsAbs(v) {
					if v, err = filepath.Abs(v); err != nil {
						return err
					}
				}
				c.Directory, err = units.ParseDirectory(v)
				return err
			}},
		{short: 'M', long: "machine", field: "Machine", arg: requiredArg, meta: "NAME", section: "Image",
			help: "Machine name: the container's hostname, the key of its UUID and of its runtime state. Defaults to the base name of the image directory. Must be a valid hostname of at most 64 characters.",
			set:  func(c *units.Config, v string) error { c.Machine = v; return complete(units.ValidMachineName(v)) }},
		{long: "hostname", field: "Hostname", key: "Hostname", arg: requiredArg, meta: "NAME", section: "Image",
			help: "Hostname set inside the container, if it differs from the machine name. The image's /etc/hostname still wins inside, as with systemd.",
			set:  func(c *units.Config, v string) error { c.Hostname = v; return complete(units.ValidHostname(v)) }},
		{long: "uuid", field: "UUID", key: "UUID", arg: requiredArg, meta: "UUID", section: "Image",
			help: "The container's UUID, passed as $container_uuid and /run/host/container-uuid; systemd inside initializes an empty /etc/machine-id from it. Defaults to a UUID derived from the machine name, the same on every boot.",
			set: func(c *units.Config, v string) error {
				u, err := units.ParseUUID(v)
				c.UUID = u
				return err
			}},
		{long: "volatile", field: "Volatile", key: "Volatile", arg: optionalArg, meta: "MODE", section: "Image",
			help: "Run with a volatile file system. yes: the root is a fresh tmpfs and only the image's /usr is mounted, read-only. state: the image is read-only and /var is a fresh tmpfs. no (the default): the image is used as it is. --volatile alone means yes.",
			set: func(c *units.Config, v string) error {
				if v == "" {
					v = "yes"
				}
				m, err := units.ParseVolatile(v)
				c.Volatile = m
				return err
			}},
		{long: "timezone", field: "Timezone", key: "Timezone", arg: requiredArg, meta: "MODE", section: "Image",
			help: "How the container's /etc/localtime follows the host's time zone, as a relative symlink into the image's zoneinfo (the Container Interface's suggestion). auto (the default): only on a volatile root, which has no /etc of its own. symlink: also in the image, replacing what is there (not with --volatile=state, where the image is read-only). off: leave it alone.",
			set: func(c *units.Config, v string) (err error) {
				c.Timezone, err = units.ParseTimezone(v)
				return err
			}},
		{short: 'b', long: "boot", field: "Boot", key: "Boot", section: "Execution",
			help: "Boot the image's init (/usr/lib/systemd/systemd, /lib/systemd/systemd or /sbin/init, the first that exists) as PID 1. The arguments after the options are passed to it.",
			set:  func(c *units.Config, _ string) error { c.Boot = true; return nil }},
		{short: 'a', long: "as-pid2", field: "AsPid2", key: "AsPid2", section: "Execution",
			help: "Run the command as PID 2 under a minimal stub PID 1 that reaps zombies and forwards termination signals. Notifications from the command are accepted too.",
			set:  func(c *units.Config, _ string) error { c.AsPid2 = true; return nil }},
		{short: 'E', long: "setenv", field: "Environment", key: "Environment", arg: requiredArg, meta: "NAME=VALUE", section: "Execution",
			help: "Set an environment variable for the container's PID 1. May be given more than once; a later value for the same name wins, and these win over sockspawn's own variables.",
			set: func(c *units.Config, v string) error {
				kv, err := units.ParseSetenv(v)
				c.Environment = append(c.Environment, kv)
				return err
			}},
		{long: "notify-ready", field: "NotifyReady", key: "NotifyReady", arg: requiredArg, meta: "BOOL", section: "Execution",
			help: "yes: tell the host's service manager READY=1 only once the container's init has sent READY=1 (the default with -b). no: as soon as the payload runs (the default without -b).",
			set: func(c *units.Config, v string) error {
				b, err := units.ParseBool(v)
				c.NotifyReady = &b
				return err
			}},
		{long: "bind", field: "Binds", key: "Bind", arg: requiredArg, meta: "SRC[:DST[:OPTS]]", section: "Mounts",
			help: "Bind-mount the host path SRC at DST in the container (default: the same path). OPTS is rbind (the default) or norbind. Colons in paths are written \\:. May be given more than once.",
			set: func(c *units.Config, v string) error {
				b, err := units.ParseBind(v, false)
				c.Binds = append(c.Binds, b)
				return err
			}},
		{long: "bind-ro", field: "Binds", key: "BindReadOnly", arg: requiredArg, meta: "SRC[:DST[:OPTS]]", section: "Mounts",
			help: "Like --bind, but read-only (recursively).",
			set: func(c *units.Config, v string) error {
				b, err := units.ParseBind(v, true)
				c.Binds = append(c.Binds, b)
				return err
			}},
		{short: 'U', long: "private-users", field: "PrivateUsers", key: "PrivateUsers", arg: optionalArg, meta: "MODE", section: "Security",
			help: "Run the container in its own user namespace, so that root inside is an unprivileged user outside. pick (what -U and --private-users alone mean): a free range of 65536 UIDs and GIDs chosen from the machine name, the same on every boot while free. UID[:COUNT]: that range. no: none (the default of sockspawn run; sockspawn boot, and so container@.service, defaults to pick, as systemd-nspawn@.service passes -U). The image is used through an idmapped mount, so it is never chowned: files root owns on disk are root's inside. The user namespace is owned by the range's first UID, not root, so the kernel's per-user limits (fs.inotify.max_user_instances, the counts of /proc/sys/user/) count what the container makes against that UID alone. Host directories bound in are not idmapped: files of the host's users show as nobody, root inside gets only the permissions of others on them, and what it creates there belongs to the range on the host. systemd-machined refuses machinectl bind for such a container; sockspawn bind works.",
			set: func(c *units.Config, v string) error {
				if v == "" {
					v = "pick"
				}
				c.PrivateUsers = v
				_, err := units.ParsePrivateUsers(v)
				return err
			}},
		{long: "bind-user", field: "BindUsers", key: "BindUser", arg: requiredArg, meta: "NAME", section: "Security",
			help: "Make the host user NAME (not root) a user of the container, as systemd-nspawn does: a JSON user record and a group record in /run/host/userdb/ for nss-systemd inside (UID and GID 60514 for the first user, 60515 for the next, ...), and the user's home bound at /run/host/home/NAME through an idmapped mount, so that the user owns their files inside and what they create there is theirs on the host. The hash of the user's host password goes to NAME.user-privileged there, readable by root only, so the user can log in inside (on an extra tty, --ttys) with it. Needs -U (a private user range); refused without one, and where the home's file system cannot be idmapped. May be given more than once.",
			set: func(c *units.Config, v string) error {
				u, err := units.ParseBindUser(v)
				c.BindUsers = append(c.BindUsers, u)
				return err
			}},
		{long: "capability", field: "Capabilities", key: "Capability", arg: requiredArg, meta: "CAPS", section: "Security",
			help: "Keep these capabilities (comma-separated, e.g. CAP_NET_ADMIN,SYS_TIME, or \"all\") in the container's bounding set, which by default lacks the audit capabilities (the Container Interface forbids passing them), CAP_NET_ADMIN without a private network, and those that change host-wide state: CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_TIME, CAP_SYSLOG, CAP_MAC_ADMIN, CAP_MAC_OVERRIDE, CAP_WAKE_ALARM, CAP_BLOCK_SUSPEND, CAP_SYS_PACCT, CAP_PERFMON, CAP_BPF, and CAP_IPC_LOCK (which lifts the limit on locked memory; mlock still works within RLIMIT_MEMLOCK, as under systemd-nspawn). The system call filter still refuses what the others would allow.",
			set: func(c *units.Config, v string) error {
				caps, err := units.ParseCapabilities(v)
				c.Capabilities = append(c.Capabilities, caps...)
				return err
			}},
		{long: "drop-capability", field: "DropCapabilities", key: "DropCapability", arg: requiredArg, meta: "CAPS", section: "Security",
			help: "Drop these capabilities too. CAP_SYS_ADMIN and CAP_MKNOD are kept by default because systemd's PrivateDevices=, PrivateTmp= and ProtectSystem= need them inside.",
			set: func(c *units.Config, v string) error {
				caps, err := units.ParseCapabilities(v)
				c.DropCapabilities = append(c.DropCapabilities, caps...)
				return err
			}},
		{long: "set-credential", field: "Credentials", key: "SetCredential", arg: requiredArg, meta: "ID:VALUE", section: "Credentials",
			help: "Pass a credential to the container's init, in /run/host/credentials/ID (a ramfs, read-only to the container) with $CREDENTIALS_DIRECTORY pointing there. VALUE may use C escapes such as \\n and \\x00. Of several credentials with one ID, with this flag or --load-credential, the last one wins, and it wins over one of that ID passed on from sockspawn's own service.",
			set: func(c *units.Config, v string) error {
				cr, err := units.ParseSetCredential(v)
				c.Credentials = append(c.Credentials, cr)
				return err
			}},
		{long: "load-credential", field: "Credentials", key: "LoadCredential", arg: requiredArg, meta: "ID:PATH", section: "Credentials",
			help: "Like --set-credential, but read the value from the file PATH when the container starts. A PATH without a slash names a credential of sockspawn's own service ($CREDENTIALS_DIRECTORY). When sockspawn runs as a service with credentials, all of them are passed on anyway.",
			set: func(c *units.Config, v string) error {
				cr, err := units.ParseLoadCredential(v)
				c.Credentials = append(c.Credentials, cr)
				return err
			}},
		{long: "ttys", field: "TTYs", key: "TTYs", arg: requiredArg, meta: "N", section: "Console",
			help: "Give the container N more ttys (0 to 16; default 0): ptys in its devpts, named to its init in $container_ttys (pts/1, pts/2, ...: never the console's pts/0; from pts/0 with --console=pipe, which has none), on each of which systemd-getty-generator inside starts a getty. `sockspawn login NAME` attaches to one of them.",
			set: func(c *units.Config, v string) (err error) {
				c.TTYs, err = units.ParseTTYs(v)
				return err
			}},
		{long: "console", field: "Console", key: "Console", arg: requiredArg, meta: "MODE", section: "Console",
			help: "What to do with the container's /dev/console. interactive: a pty relayed to sockspawn's own terminal both ways (the default when standard input is a terminal). read-only: a pty whose output is copied to standard output (the default otherwise). passive: a pty, with nothing relayed (what the container writes is read in batches and dropped, so that it never waits on a full console). pipe: no pty; the payload gets sockspawn's standard input, output and error as they are.",
			set: func(c *units.Config, v string) error {
				m, err := units.ParseConsole(v)
				c.Console = m
				return err
			}},
		{short: 'P', long: "pipe", field: "Console", key: "Console", section: "Console",
			help: "Same as --console=pipe.",
			set:  func(c *units.Config, _ string) error { c.Console = units.ConsolePipe; return nil }},
		{long: "listen", field: "Listen", key: "Listen", arg: requiredArg, meta: "ADDRESS", section: "Sockets",
			help: "Bind a listening socket on the host and boot the container only when the first connection arrives, then pass the socket to its init exactly as systemd would (LISTEN_FDS, LISTEN_FDNAMES). ADDRESS takes systemd's ListenStream= syntax (a port, HOST:PORT, [IPv6]:PORT, /path or @abstract), optionally prefixed with NAME= and with datagram: or seqpacket:. For hosts without systemd as PID 1; under systemd, use a socket unit. May be given more than once.",
			set: func(c *units.Config, v string) error {
				l, err := units.ParseListen(v)
				c.Listen = append(c.Listen, l)
				return err
			}},
		{long: "idle-action", field: "IdleAction", key: "IdleAction", arg: requiredArg, meta: "ACTION", section: "Sockets",
			help: "What to do once the machine has been idle for --idle-action-sec: freeze (freeze the container's cgroup with cgroup2's freezer; the next connection thaws it, and it accepts that connection itself), poweroff (shut it down cleanly, exit status 0; under systemd the socket unit stays listening and its next connection starts the service again; with --listen sockspawn boots it again on the next connection) or ignore (the default: run until stopped). Idle means that none of the sockets passed to the container (by the socket unit or --listen) has a connection open or waiting to be accepted, or a datagram waiting, that none arrived, and that nothing inside holds /run/host/busy (flock --shared /run/host/busy COMMAND keeps it awake while COMMAND runs), for the whole period. Needs sockets to watch; freeze needs cgroup2. With -b the init gets systemd.service_watchdogs=0, unless its arguments set it: a freeze longer than a service's WatchdogSec= would fail that service on the thaw.",
			set: func(c *units.Config, v string) (err error) {
				c.IdleAction, err = units.ParseIdleAction(v)
				return err
			}},
		{long: "idle-action-sec", field: "IdleActionSec", key: "IdleActionSec", arg: requiredArg, meta: "TIMESPAN", section: "Sockets",
			help: "How long the machine must be idle before --idle-action applies, as a systemd time span (30s, 5min, 1h 30min). Default: 30s.",
			set: func(c *units.Config, v string) (err error) {
				c.IdleActionSec, err = units.ParseIdleActionSec(v)
				return err
			}},
		{long: "private-network", field: "PrivateNetwork", key: "PrivateNetwork", section: "Networking",
			help: "Give the container its own network namespace with only a loopback device, which is up. It keeps CAP_NET_ADMIN and a writable /proc/sys/net then. Sockets passed by socket activation still work: they were bound on the host.",
			set:  func(c *units.Config, _ string) error { c.PrivateNetwork = true; return nil }},
		{short: 'n', long: "network-veth", field: "NetworkVeth", key: "NetworkVeth", section: "Networking",
			help: "Like --private-network, and add a virtual Ethernet link: host0 inside (systemd-networkd there runs DHCP and IPv4LL on it by default) and ve-NAME on the host (systemd-networkd on the host serves DHCP on it by default). Both have MAC addresses derived from the machine name, the same on every boot.",
			set:  func(c *units.Config, _ string) error { c.NetworkVeth = true; return nil }},
		{long: "network-bridge", field: "NetworkBridge", key: "NetworkBridge", arg: requiredArg, meta: "BRIDGE", section: "Networking",
			help: "Like --network-veth, and attach the host's side of the veth to BRIDGE, an existing bridge on the host. The link is then named vb-NAME on the host, as with systemd-nspawn.",
			set: func(c *units.Config, v string) (err error) {
				c.NetworkBridge, err = units.ParseBridge(v)
				return err
			}},
		{long: "network-zone", field: "NetworkZone", key: "NetworkZone", arg: requiredArg, meta: "ZONE", section: "Networking",
			help: "Like --network-bridge, with the bridge vz-ZONE, which sockspawn makes when the first machine of the zone starts and removes when the last one leaves. Machines of one zone reach each other; systemd-networkd on the host serves DHCP on vz-* by default. ZONE has at most 12 characters.",
			set: func(c *units.Config, v string) (err error) {
				c.NetworkZone, err = units.ParseZone(v)
				return err
			}},
		{long: "network-namespace-path", field: "NetworkNamespacePath", key: "NetworkNamespacePath", arg: requiredArg, meta: "PATH", section: "Networking",
			help: "Run the container in the existing network namespace PATH (such as /run/netns/NAME, or /proc/PID/ns/net) instead of the host's. Not with the other network options.",
			set: func(c *units.Config, v string) (err error) {
				c.NetworkNamespacePath, err = units.ParseNetnsPath(v)
				return err
			}},
		{short: 'p', long: "port", field: "Ports", key: "Port", arg: requiredArg, meta: "[tcp:|udp:]HOST[:CONTAINER]", section: "Networking",
			help: "Forward the host's port HOST (tcp unless udp: is given) to port CONTAINER (default: the same) of the container, which needs a veth (--network-veth, --network-bridge or --network-zone). Traffic to any of the host's addresses is forwarded, from other machines, from other network namespaces and from the host itself, also through 127.0.0.1 (and [::1], relayed by sockspawn, TCP only); over IPv4 and IPv6, to the container's first address of each family. The rules live in the nftables table inet sockspawn, in a chain of the machine's own, and go when the machine stops. sockspawn holds the host port while the machine runs: a port another program or machine uses is refused. May be given more than once.",
			set: func(c *units.Config, v string) error {
				p, err := units.ParsePort(v)
				if err == nil {
					c.Ports = append(c.Ports, p)
				}
				return err
			}},
		{long: "register", field: "Register", key: "Register", arg: requiredArg, meta: "BOOL", section: "Integration",
			help: "Register the container with systemd-machined, so that machinectl lists it, journalctl -M, systemctl -M and machinectl shell reach it, and machinectl bind mounts host directories into it (through /run/host/incoming; not with -U, which machined refuses). By default sockspawn registers when machined is there and goes on quietly when it is not; yes makes a failure to register fatal, no skips it.",
			set: func(c *units.Config, v string) error {
				b, err := units.ParseBool(v)
				c.Register = &b
				return err
			}},
		{long: "link-journal", field: "LinkJournal", key: "LinkJournal", arg: requiredArg, meta: "MODE", section: "Integration",
			help: "Make the container's journal visible on the host, in /var/log/journal/MACHINE-ID, where journalctl -m and journalctl -D find it, also after the container is gone. MACHINE-ID is the image's /etc/machine-id, else the one derived from the UUID. host: the journal lives on the host, in a directory made there and bound into the container (this works with --volatile too). guest: it lives in the image, and the host gets a symlink to it. try-host and try-guest: the same, but nothing is done where it cannot be (the host has no /var/log/journal, or a volatile /var for guest). auto (the default for run): repeat what an earlier host or guest boot left on the host, else nothing. no: nothing. sockspawn boot (container@.service) defaults to try-guest, as systemd-nspawn@.service does. The machine ID must differ from the host's.",
			set: func(c *units.Config, v string) (err error) {
				c.LinkJournal, err = units.ParseLinkJournal(v)
				return err
			}},
		{long: "settings", field: "Settings", key: "Settings", arg: requiredArg, meta: "MODE", section: "Integration",
			help: "How sockspawn boot, cat and check use the machine's systemd-nspawn settings file, NAME.nspawn. yes (the default): read it from /etc/systemd/nspawn/ or /run/systemd/nspawn/, else from next to the image (/var/lib/machines/NAME.nspawn), where it is not trusted and its privileged settings (Bind=, BindReadOnly=, Capability=, MachineID=, PrivateUsers=, Port= and the network settings) are ignored, with a notice, as systemd-nspawn does. trusted: trust it wherever it is. no: ignore it. /etc/sockspawn/NAME.conf wins over the .nspawn file, key by key, and the command line over both.",
			set: func(c *units.Config, v string) (err error) {
				c.Settings, err = units.ParseSettings(v)
				return err
			}},
		{short: 'q', long: "quiet", field: "Quiet", section: "Output",
			help: "Do not print informational messages, such as where the container runs.",
			set:  func(c *units.Config, _ string) error { c.Quiet = true; return nil }},
		{short: 'h', long: "help", section: "Output", help: "Show this help and exit."},
		{long: "version", section: "Output", help: "Show the version and exit."},
	}
}

// parsedArgs is the result of parsing a `sockspawn run` command line.
type parsedArgs struct {
	Config  units.Config
	Set     map[string]bool // the units.Config fields the command line set
	Help    bool
	Version bool
}

// parseRunArgs parses options the way systemd-nspawn does (getopt with a
// leading '+'): options first, the first non-option argument or "--" ends
// them, and everything after is positional.
func parseRunArgs(args []string) (parsedArgs, error) {
	opts := options()
	byLong := map[string]*option{}
	byShort := map[byte]*option{}
	for i := range opts {
		byLong[opts[i].long] = &opts[i]
		if opts[i].short != 0 {
			byShort[opts[i].short] = &opts[i]
		}
	}
	pa := parsedArgs{Set: map[string]bool{}}
	apply := func(o *option, val, shown string) error {
		switch o.long {
		case "help":
			pa.Help = true
			return nil
		case "version":
			pa.Version = true
			return nil
		}
		pa.Set[o.field] = true
		err := o.set(&pa.Config, val)
		var ve *units.ValueError
		var ce completeError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ce):
			return ce.error
		case errors.As(err, &ve):
			ve.Option = shown
			return ve
		}
		return &units.ValueError{Option: shown, Value: val, Err: err}
	}
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		if strings.HasPrefix(a, "--") {
			name, val, hasVal := strings.Cut(a[2:], "=")
			o := byLong[name]
			if o == nil {
				return pa, fmt.Errorf("unknown option --%s (see sockspawn run --help)", name)
			}
			switch o.arg {
			case noArg:
				if hasVal {
					return pa, fmt.Errorf("option --%s takes no value", name)
				}
			case requiredArg:
				if !hasVal {
					if i+1 >= len(args) {
						return pa, fmt.Errorf("option --%s needs a value (%s)", name, o.meta)
					}
					i++
					val = args[i]
				}
			}
			if err := apply(o, val, "--"+name); err != nil {
				return pa, err
			}
			continue
		}
		// One or more short options: -bq, -D DIR, -DDIR.
		for j := 1; j < len(a); j++ {
			o := byShort[a[j]]
			if o == nil {
				return pa, fmt.Errorf("unknown option -%c (see sockspawn run --help)", a[j])
			}
			if o.arg != requiredArg {
				// A short option never takes an optional value (-U).
				if err := apply(o, "", "-"+string(a[j])); err != nil {
					return pa, err
				}
				continue
			}
			val := a[j+1:]
			if val == "" {
				if i+1 >= len(args) {
					return pa, fmt.Errorf("option -%c needs a value (%s)", a[j], o.meta)
				}
				i++
				val = args[i]
			}
			if err := apply(o, val, "-"+string(a[j])); err != nil {
				return pa, err
			}
			break
		}
	}
	pa.Config.Args = append([]string(nil), args[i:]...)
	if len(pa.Config.Args) > 0 {
		pa.Set["Args"] = true
	}
	return pa, nil
}

// completeError is an error that already names the option's value and is
// shown as it is.
type completeError struct{ error }

func complete(err error) error {
	if err == nil {
		return nil
	}
	return completeError{err}
}
