package units

import "path/filepath"

// options is the table, in the order of --help. init checks it and fills
// in the second flags of a key.
var options = []Option{
	{Key: "Directory", Field: "Directory", Flag: "directory", Short: 'D', Arg: RequiredArg, Meta: "PATH", Section: "Image",
		Help: "Root directory of the container's image. Required. A relative PATH is taken from the current directory. `-D /` boots this machine's own OS, never read-write: it needs --volatile=yes or --volatile=state, and -M.",
		// As systemd-nspawn: relative to where the command runs; then as
		// Directory= (absolute and normalized).
		FlagValue: func(v string) (string, error) {
			if v != "" && !filepath.IsAbs(v) {
				return filepath.Abs(v)
			}
			return v, nil
		},
		Parse: func(c *Config, v string) (err error) {
			c.Directory, err = ParseDirectory(v)
			return err
		}},
	{Field: "Machine", Flag: "machine", Short: 'M', Arg: RequiredArg, Meta: "NAME", Section: "Image", NamesValue: true,
		Help:  "Machine name: the container's hostname, the key of its UUID and of its runtime state. Defaults to the base name of the image directory. Must be a valid hostname of at most 64 characters.",
		Parse: func(c *Config, v string) error { c.Machine = v; return ValidMachineName(v) }},
	{Key: "Hostname", Field: "Hostname", Flag: "hostname", Arg: RequiredArg, Meta: "NAME", Section: "Image", NamesValue: true,
		Help:   "Hostname set inside the container, if it differs from the machine name. The image's /etc/hostname still wins inside, as with systemd.",
		Nspawn: NspawnKey{Name: "Exec.Hostname"}, Example: "@MACHINE@",
		Parse: func(c *Config, v string) error { c.Hostname = v; return ValidHostname(v) }},
	{Key: "UUID", Field: "UUID", Flag: "uuid", Arg: RequiredArg, Meta: "UUID", Section: "Image",
		Help:   "The container's UUID, passed as $container_uuid and /run/host/container-uuid; systemd inside initializes an empty /etc/machine-id from it. Defaults to a UUID derived from the machine name, the same on every boot.",
		Nspawn: NspawnKey{Name: "Exec.MachineID", Privileged: true},
		Parse: func(c *Config, v string) (err error) {
			c.UUID, err = ParseUUID(v)
			return err
		}},
	{Key: "Volatile", Field: "Volatile", Flag: "volatile", Arg: OptionalArg, Implied: "yes", Meta: "MODE", Section: "Image",
		Help:   "Run with a volatile file system. yes: the root is a fresh tmpfs and only the image's /usr is mounted, read-only. state: the image is read-only and /var is a fresh tmpfs. no (the default): the image is used as it is. --volatile alone means yes.",
		Nspawn: NspawnKey{Name: "Files.Volatile"}, Example: "no",
		Parse: func(c *Config, v string) (err error) {
			c.Volatile, err = ParseVolatile(v)
			return err
		}},
	{Key: "Timezone", Field: "Timezone", Flag: "timezone", Arg: RequiredArg, Meta: "MODE", Section: "Image",
		Help:   "How the container's /etc/localtime follows the host's time zone, as a relative symlink into the image's zoneinfo (the Container Interface's suggestion). auto (the default): only on a volatile root, which has no /etc of its own. symlink: also in the image, replacing what is there (not with --volatile=state, where the image is read-only). off: leave it alone.",
		Nspawn: NspawnKey{Name: "Exec.Timezone"}, Example: "auto",
		Parse: func(c *Config, v string) (err error) {
			c.Timezone, err = ParseTimezone(v)
			return err
		}},
	{Key: "Boot", Field: "Boot", Flag: "boot", Short: 'b', Implied: "yes", Section: "Execution",
		Help:   "Boot the image's init (/usr/lib/systemd/systemd, /lib/systemd/systemd or /sbin/init, the first that exists) as PID 1. The arguments after the options are passed to it.",
		Nspawn: NspawnKey{Name: "Exec.Boot"},
		Parse: func(c *Config, v string) (err error) {
			c.Boot, err = ParseBool(v)
			return err
		}},
	{Key: "AsPid2", Field: "AsPid2", Flag: "as-pid2", Short: 'a', Implied: "yes", Section: "Execution",
		Help:   "Run the command as PID 2 under a minimal stub PID 1 that reaps zombies and forwards termination signals. Notifications from the command are accepted too.",
		Nspawn: NspawnKey{Name: "Exec.ProcessTwo"},
		Parse: func(c *Config, v string) (err error) {
			c.AsPid2, err = ParseBool(v)
			return err
		}},
	{Key: "Environment", Field: "Environment", Flag: "setenv", Short: 'E', Arg: RequiredArg, Meta: "NAME=VALUE", Section: "Execution",
		Help:   "Set an environment variable for the container's PID 1. May be given more than once; a later value for the same name wins, and these win over sockspawn's own variables.",
		Nspawn: NspawnKey{Name: "Exec.Environment", Words: true}, Example: "LANG=C.UTF-8",
		Parse: func(c *Config, v string) error {
			e, err := ParseSetenv(v)
			c.Environment = append(c.Environment, e)
			return err
		},
		KeyValue: unquoteSetenv, Format: formatSetenv},
	{Key: "NotifyReady", Field: "NotifyReady", Flag: "notify-ready", Arg: RequiredArg, Meta: "BOOL", Section: "Execution",
		Help:   "yes: tell the host's service manager READY=1 only once the container's init has sent READY=1 (the default with -b). no: as soon as the payload runs (the default without -b).",
		Nspawn: NspawnKey{Name: "Exec.NotifyReady"}, Example: "yes",
		Parse: func(c *Config, v string) error {
			b, err := ParseBool(v)
			c.NotifyReady = &b
			return err
		}},
	{Key: "Bind", Field: "Binds", Flag: "bind", Arg: RequiredArg, Meta: "SRC[:DST[:OPTS]]", Section: "Mounts",
		Help:   "Bind-mount the host path SRC at DST in the container (default: the same path). OPTS is rbind (the default) or norbind. Colons in paths are written \\:. May be given more than once.",
		Nspawn: NspawnKey{Name: "Files.Bind", Privileged: true}, Example: "/srv/@MACHINE@:/srv",
		Parse: appendBind(false), Format: formatBind(false)},
	{Key: "BindReadOnly", Field: "Binds", Flag: "bind-ro", Arg: RequiredArg, Meta: "SRC[:DST[:OPTS]]", Section: "Mounts",
		Help:   "Like --bind, but read-only (recursively).",
		Nspawn: NspawnKey{Name: "Files.BindReadOnly", Privileged: true}, Example: "/etc/resolv.conf",
		Parse: appendBind(true), Format: formatBind(true)},
	{Key: "PrivateUsers", Field: "PrivateUsers", Flag: "private-users", Short: 'U', Arg: OptionalArg, Implied: "pick", Meta: "MODE", Section: "Security",
		Help:   "Run the container in its own user namespace, so that root inside is an unprivileged user outside. pick (what -U and --private-users alone mean): a free range of 65536 UIDs and GIDs chosen from the machine name, the same on every boot while free. UID[:COUNT]: that range, which is refused if it overlaps the range of another running machine, holds a user or group of the host, or lies outside what the host maps. no: none (the default of sockspawn run; sockspawn boot, and so container@.service, defaults to pick, as systemd-nspawn@.service passes -U). The image is used through an idmapped mount, so it is never chowned: files root owns on disk are root's inside. The user namespace is owned by the range's first UID, not root, so the kernel's per-user limits (fs.inotify.max_user_instances, the counts of /proc/sys/user/) count what the container makes against that UID alone. Host directories bound in are not idmapped: files of the host's users show as nobody, root inside gets only the permissions of others on them, and what it creates there belongs to the range on the host. systemd-machined refuses machinectl bind for such a container; sockspawn bind works.",
		Nspawn: NspawnKey{Name: "Exec.PrivateUsers", Privileged: true}, Example: "no",
		Note: "A private user range (the default, as with nspawn@'s -U): root inside is\n" +
			"an unprivileged UID on the host, which the kernel's per-user limits count\n" +
			"this machine against. no shares the host's root instead (needed for\n" +
			"`machinectl bind`, and for host directories bound in to keep their owners).",
		Parse: func(c *Config, v string) error {
			c.PrivateUsers = v
			_, err := ParsePrivateUsers(v)
			return err
		}},
	{Key: "BindUser", Field: "BindUsers", Flag: "bind-user", Arg: RequiredArg, Meta: "NAME", Section: "Security",
		Help:   "Make the host user NAME (not root) a user of the container, as systemd-nspawn does: a JSON user record and a group record in /run/host/userdb/ for nss-systemd inside (UID and GID 60514 for the first user, 60515 for the next, ...), and the user's home bound at /run/host/home/NAME through an idmapped mount, so that the user owns their files inside and what they create there is theirs on the host. The hash of the user's host password goes to NAME.user-privileged there, readable by root only, so the user can log in inside (on an extra tty, --ttys) with it. Needs -U (a private user range); refused without one, and where the home's file system cannot be idmapped. May be given more than once.",
		Nspawn: NspawnKey{Name: "Files.BindUser", Privileged: true, Words: true}, Example: "alice",
		Parse: func(c *Config, v string) error {
			u, err := ParseBindUser(v)
			c.BindUsers = append(c.BindUsers, u)
			return err
		}},
	{Key: "Capability", Field: "Capabilities", Flag: "capability", Arg: RequiredArg, Meta: "CAPS", Section: "Security",
		Help:   "Keep these capabilities (comma-separated, e.g. CAP_NET_ADMIN,SYS_TIME, or \"all\") in the container's bounding set, which by default lacks the audit capabilities (the Container Interface forbids passing them), CAP_NET_ADMIN without a private network, and those that change host-wide state: CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_TIME, CAP_SYSLOG, CAP_MAC_ADMIN, CAP_MAC_OVERRIDE, CAP_WAKE_ALARM, CAP_BLOCK_SUSPEND, CAP_SYS_PACCT, CAP_PERFMON, CAP_BPF, and CAP_IPC_LOCK (which lifts the limit on locked memory; mlock still works within RLIMIT_MEMLOCK, as under systemd-nspawn). The system call filter still refuses what the others would allow.",
		Nspawn: NspawnKey{Name: "Exec.Capability", Privileged: true, Commas: true},
		Parse: func(c *Config, v string) error {
			caps, err := ParseCapabilities(v)
			c.Capabilities = append(c.Capabilities, caps...)
			return err
		}},
	{Key: "DropCapability", Field: "DropCapabilities", Flag: "drop-capability", Arg: RequiredArg, Meta: "CAPS", Section: "Security",
		Help:   "Drop these capabilities too. CAP_SYS_ADMIN and CAP_MKNOD are kept by default because systemd's PrivateDevices=, PrivateTmp= and ProtectSystem= need them inside.",
		Nspawn: NspawnKey{Name: "Exec.DropCapability", Commas: true},
		Parse: func(c *Config, v string) error {
			caps, err := ParseCapabilities(v)
			c.DropCapabilities = append(c.DropCapabilities, caps...)
			return err
		}},
	{Key: "SetCredential", Field: "Credentials", Flag: "set-credential", Arg: RequiredArg, Meta: "ID:VALUE", Section: "Credentials",
		Help:    "Pass a credential to the container's init, in /run/host/credentials/ID (a ramfs, read-only to the container) with $CREDENTIALS_DIRECTORY pointing there. VALUE may use C escapes such as \\n and \\x00. Of several credentials with one ID, with this flag or --load-credential, the last one wins, and it wins over one of that ID passed on from sockspawn's own service.",
		Example: "passwd.plaintext-password.root:changeme",
		Parse:   appendCredential(ParseSetCredential), Format: formatCredential(false)},
	{Key: "LoadCredential", Field: "Credentials", Flag: "load-credential", Arg: RequiredArg, Meta: "ID:PATH", Section: "Credentials",
		Help:    "Like --set-credential, but read the value from the file PATH when the container starts. A PATH without a slash names a credential of sockspawn's own service ($CREDENTIALS_DIRECTORY). When sockspawn runs as a service with credentials, all of them are passed on anyway.",
		Example: "ssh.authorized_keys.root:/root/.ssh/authorized_keys",
		Parse:   appendCredential(ParseLoadCredential), Format: formatCredential(true)},
	{Key: "TTYs", Field: "TTYs", Flag: "ttys", Arg: RequiredArg, Meta: "N", Section: "Console",
		Help: "Give the container N more ttys (0 to 16; default 0): ptys in its devpts, named to its init in $container_ttys (pts/1, pts/2, ...: never the console's pts/0; from pts/0 with --console=pipe, which has none), on each of which systemd-getty-generator inside starts a getty. `sockspawn login NAME` attaches to one of them.", Example: "2",
		Parse: func(c *Config, v string) (err error) {
			c.TTYs, err = ParseTTYs(v)
			return err
		}},
	{Key: "Console", Field: "Console", Flag: "console", Arg: RequiredArg, Meta: "MODE", Section: "Console",
		Help: "What to do with the container's /dev/console. interactive: a pty relayed to sockspawn's own terminal both ways (the default when standard input is a terminal). read-only: a pty whose output is copied to standard output (the default otherwise). passive: a pty, with nothing relayed (what the container writes is read in batches and dropped, so that it never waits on a full console). pipe: no pty; the payload gets sockspawn's standard input, output and error as they are.",
		Parse: func(c *Config, v string) (err error) {
			c.Console, err = ParseConsole(v)
			return err
		}},
	{Key: "Console", Flag: "pipe", Short: 'P', Implied: string(ConsolePipe), Section: "Console",
		Help: "Same as --console=pipe."},
	{Key: "Listen", Field: "Listen", Flag: "listen", Arg: RequiredArg, Meta: "ADDRESS", Section: "Sockets",
		Help: "Bind a listening socket on the host and boot the container only when the first connection arrives, then pass the socket to its init exactly as systemd would (LISTEN_FDS, LISTEN_FDNAMES). The container is built (namespaces, mounts, cgroups) ahead, so a bad image or setting fails at the start, and the connection only starts the init; so again after the container ends. ADDRESS takes systemd's ListenStream= syntax (a port, HOST:PORT, [IPv6]:PORT, /path or @abstract), optionally prefixed with NAME= and with datagram: or seqpacket:. For hosts without systemd as PID 1; under systemd, use a socket unit. May be given more than once.",
		Parse: func(c *Config, v string) error {
			l, err := ParseListen(v)
			c.Listen = append(c.Listen, l)
			return err
		}},
	{Key: "IdleAction", Field: "IdleAction", Flag: "idle-action", Arg: RequiredArg, Meta: "ACTION", Section: "Sockets", New: true,
		Help:    "What to do once the machine has been idle for --idle-action-sec: freeze (freeze the container's cgroup with cgroup2's freezer; the next connection thaws it, and it accepts that connection itself), poweroff (shut it down cleanly, exit status 0; under systemd the socket unit stays listening and its next connection starts the service again; with --listen sockspawn boots it again on the next connection) or ignore (the default: run until stopped). Idle means that none of the sockets passed to the container (by the socket unit or --listen) has a connection open or waiting to be accepted, or a datagram waiting, that none arrived, and that nothing inside holds /run/host/busy (flock --shared /run/host/busy COMMAND keeps it awake while COMMAND runs), for the whole period. Needs sockets to watch; freeze needs cgroup2. With -b the init gets systemd.service_watchdogs=0, unless its arguments set it: a freeze longer than a service's WatchdogSec= would fail that service on the thaw.",
		Example: "freeze",
		Note: "Freeze (or power off) the machine once none of its sockets has had a\n" +
			"connection for IdleActionSec=; the next connection wakes (or boots) it.",
		Parse: func(c *Config, v string) (err error) {
			c.IdleAction, err = ParseIdleAction(v)
			return err
		}},
	{Key: "IdleActionSec", Field: "IdleActionSec", Flag: "idle-action-sec", Arg: RequiredArg, Meta: "TIMESPAN", Section: "Sockets", New: true,
		Help: "How long the machine must be idle before --idle-action applies, as a systemd time span (30s, 5min, 1h 30min), or infinity: never idle, as with --idle-action=ignore. Default: 30s.", Example: "30s",
		Parse: func(c *Config, v string) (err error) {
			c.IdleActionSec, err = ParseIdleActionSec(v)
			return err
		}},
	{Key: "PrivateNetwork", Field: "PrivateNetwork", Flag: "private-network", Implied: "yes", Section: "Networking",
		Help:   "Give the container its own network namespace with only a loopback device, which is up. It keeps CAP_NET_ADMIN and a writable /proc/sys/net then. Sockets passed by socket activation still work: they were bound on the host.",
		Nspawn: NspawnKey{Name: "Network.Private", Privileged: true},
		Parse: func(c *Config, v string) (err error) {
			c.PrivateNetwork, err = ParseBool(v)
			return err
		}},
	{Key: "NetworkVeth", Field: "NetworkVeth", Flag: "network-veth", Short: 'n', Implied: "yes", Section: "Networking",
		Help:   "Like --private-network, and add a virtual Ethernet link: host0 inside (systemd-networkd there runs DHCP and IPv4LL on it by default) and ve-NAME on the host (systemd-networkd on the host serves DHCP on it by default). Both have MAC addresses derived from the machine name, the same on every boot.",
		Nspawn: NspawnKey{Name: "Network.VirtualEthernet", Privileged: true}, Example: "yes",
		Parse: func(c *Config, v string) (err error) {
			c.NetworkVeth, err = ParseBool(v)
			return err
		}},
	{Key: "NetworkBridge", Field: "NetworkBridge", Flag: "network-bridge", Arg: RequiredArg, Meta: "BRIDGE", Section: "Networking",
		Help:   "Like --network-veth, and attach the host's side of the veth to BRIDGE, an existing bridge on the host. The link is then named vb-NAME on the host, as with systemd-nspawn.",
		Nspawn: NspawnKey{Name: "Network.Bridge", Privileged: true},
		Parse: func(c *Config, v string) (err error) {
			c.NetworkBridge, err = ParseBridge(v)
			return err
		}},
	{Key: "NetworkZone", Field: "NetworkZone", Flag: "network-zone", Arg: RequiredArg, Meta: "ZONE", Section: "Networking",
		Help:   "Like --network-bridge, with the bridge vz-ZONE, which sockspawn makes when the first machine of the zone starts and removes when the last one leaves. Machines of one zone reach each other; systemd-networkd on the host serves DHCP on vz-* by default. ZONE has at most 12 characters.",
		Nspawn: NspawnKey{Name: "Network.Zone", Privileged: true},
		Parse: func(c *Config, v string) (err error) {
			c.NetworkZone, err = ParseZone(v)
			return err
		}},
	{Key: "NetworkNamespacePath", Field: "NetworkNamespacePath", Flag: "network-namespace-path", Arg: RequiredArg, Meta: "PATH", Section: "Networking",
		Help: "Run the container in the existing network namespace PATH (such as /run/netns/NAME, or /proc/PID/ns/net) instead of the host's. Not with the other network options.",
		Parse: func(c *Config, v string) (err error) {
			c.NetworkNamespacePath, err = ParseNetnsPath(v)
			return err
		}},
	{Key: "Port", Field: "Ports", Flag: "port", Short: 'p', Arg: RequiredArg, Meta: "[tcp:|udp:]HOST[:CONTAINER]", Section: "Networking",
		Help:   "Forward the host's port HOST (tcp unless udp: is given) to port CONTAINER (default: the same) of the container, which needs a veth (--network-veth, --network-bridge or --network-zone). Traffic to any of the host's addresses is forwarded, from other machines, from other network namespaces and from the host itself, also through 127.0.0.1 (and [::1], relayed by sockspawn, TCP only); over IPv4 and IPv6, to the container's first address of each family. The rules live in the nftables table inet sockspawn, in a chain of the machine's own, and go when the machine stops. sockspawn holds the host port while the machine runs: a port another program or machine uses is refused. May be given more than once.",
		Nspawn: NspawnKey{Name: "Network.Port", Privileged: true},
		Parse: func(c *Config, v string) error {
			p, err := ParsePort(v)
			if err == nil {
				c.Ports = append(c.Ports, p)
			}
			return err
		},
		Format: func(c *Config, i int) (string, bool) { return FormatPort(c.Ports[i]), true }},
	{Key: "Register", Field: "Register", Flag: "register", Arg: RequiredArg, Meta: "BOOL", Section: "Integration",
		Help: "Register the container with systemd-machined, so that machinectl lists it, journalctl -M, systemctl -M and machinectl shell reach it, and machinectl bind mounts host directories into it (through /run/host/incoming; not with -U, which machined refuses). By default sockspawn registers when machined is there and goes on quietly when it is not; yes makes a failure to register fatal, no skips it.",
		Parse: func(c *Config, v string) error {
			b, err := ParseBool(v)
			c.Register = &b
			return err
		}},
	{Key: "LinkJournal", Field: "LinkJournal", Flag: "link-journal", Arg: RequiredArg, Meta: "MODE", Section: "Integration",
		Help:   "Make the container's journal visible on the host, in /var/log/journal/MACHINE-ID, where journalctl -m and journalctl -D find it, also after the container is gone. MACHINE-ID is the image's /etc/machine-id, else the one derived from the UUID. host: the journal lives on the host, in a directory made there and bound into the container (this works with --volatile too). guest: it lives in the image, and the host gets a symlink to it. try-host and try-guest: the same, but nothing is done where it cannot be (the host has no /var/log/journal, or a volatile /var for guest). auto (the default for run): repeat what an earlier host or guest boot left on the host, else nothing. no: nothing. sockspawn boot (container@.service) defaults to try-guest, as systemd-nspawn@.service does. The machine ID must differ from the host's.",
		Nspawn: NspawnKey{Name: "Exec.LinkJournal"}, Example: "try-guest",
		Parse: func(c *Config, v string) (err error) {
			c.LinkJournal, err = ParseLinkJournal(v)
			return err
		}},
	{Key: "Settings", Field: "Settings", Flag: "settings", Arg: RequiredArg, Meta: "MODE", Section: "Integration",
		Help: "How sockspawn boot, cat and check use the machine's systemd-nspawn settings file, NAME.nspawn. yes (the default): read it from /etc/systemd/nspawn/ or /run/systemd/nspawn/, else from next to the image (/var/lib/machines/NAME.nspawn), where it is not trusted and its privileged settings (Bind=, BindReadOnly=, Capability=, MachineID=, PrivateUsers=, Port= and the network settings) are ignored, with a notice, as systemd-nspawn does. trusted: trust it wherever it is. no: ignore it. /etc/sockspawn/NAME.conf wins over the .nspawn file, key by key, and the command line over both.",
		Parse: func(c *Config, v string) (err error) {
			c.Settings, err = ParseSettings(v)
			return err
		}},
	{Field: "Quiet", Flag: "quiet", Short: 'q', Implied: "yes", Section: "Output",
		Help: "Do not print informational messages, such as where the container runs.",
		Parse: func(c *Config, v string) (err error) {
			c.Quiet, err = ParseBool(v)
			return err
		}},
	// The positional arguments of run; Describe writes them itself, one
	// Parameters= line for each origin.
	{Key: "Parameters", Field: "Args",
		Nspawn: NspawnKey{Name: "Exec.Parameters"}, Example: "systemd.unit=multi-user.target",
		Parse: func(c *Config, v string) error {
			args, err := SplitParameters(v)
			c.Args = append(c.Args, args...)
			return err
		}},
}
