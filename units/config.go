// Package units owns what a machine is called and how it is configured:
// machine and instance names (validation and escaping), the per-machine
// configuration files, and rendering and installing the unit templates.
// It knows nothing of namespaces or mounts.
package units

import (
	"time"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

// Console selects what the supervisor does with the container's /dev/console.
type Console string

// The --console= modes, with systemd-nspawn's meanings.
const (
	ConsoleInteractive Console = "interactive" // pty relayed both ways to our stdio
	ConsoleReadOnly    Console = "read-only"   // pty, output relayed, input not
	ConsolePassive     Console = "passive"     // pty, nothing relayed
	ConsolePipe        Console = "pipe"        // no pty: the payload gets our stdio
)

// LinkJournal selects whether the container's journal is made visible on
// the host, beneath /var/log/journal/MACHINE-ID.
type LinkJournal string

// The --link-journal= modes, with systemd-nspawn's meanings.
const (
	LinkJournalNo       LinkJournal = "no"        // not linked
	LinkJournalHost     LinkJournal = "host"      // kept on the host, bound into the container
	LinkJournalTryHost  LinkJournal = "try-host"  // host, unless the host has no persistent journal
	LinkJournalGuest    LinkJournal = "guest"     // kept in the image, symlinked from the host
	LinkJournalTryGuest LinkJournal = "try-guest" // guest, unless that cannot be done
	LinkJournalAuto     LinkJournal = "auto"      // whatever an earlier host or guest boot left on the host
)

// Bind is one --bind= or --bind-ro= request.
type Bind struct {
	Source    string // absolute path on the host
	Target    string // absolute path inside the container
	ReadOnly  bool
	Recursive bool // rbind (the default) or norbind
}

// Credential is one credential handed to the container's init through
// $CREDENTIALS_DIRECTORY. Data is set for --set-credential=; Path for
// --load-credential= (read when the container starts).
type Credential struct {
	ID   string
	Data []byte
	Path string
}

// Config is everything a user can ask of one container, from flags and from
// the machine's configuration file. The zero value of each field means
// "not set" where a default applies; Defaults fills those in.
type Config struct {
	// The fields are in the order `sockspawn cat` writes them (Describe);
	// Options says how each one is set.
	Directory            string           // -D: the image's root directory
	Machine              string           // -M: machine name
	Hostname             string           // --hostname: defaults to Machine
	Boot                 bool             // -b: run the image's init
	AsPid2               bool             // --as-pid2: run the command under a stub PID 1
	Timezone             string           // --timezone=: "", "auto", "symlink" or "off"
	LinkJournal          LinkJournal      // --link-journal=: empty means auto (try-guest for `sockspawn boot`)
	PrivateNetwork       bool             // --private-network: own network namespace, loopback only
	NetworkVeth          bool             // -n/--network-veth: own network namespace and a veth pair
	Volatile             systemd.Volatile // --volatile=
	Console              Console          // --console=: empty means chosen by whether stdin is a tty
	UUID                 string           // --uuid: empty means derived from Machine
	PrivateUsers         string           // -U/--private-users=: "", "no", "pick" or "UID[:COUNT]"
	IdleAction           string           // --idle-action=: "", IdleActionIgnore, IdleActionFreeze or IdleActionPoweroff
	IdleActionSec        time.Duration    // --idle-action-sec=: zero means DefaultIdleActionSec
	TTYs                 int              // --ttys=: extra ptys with a getty each ($container_ttys)
	NetworkBridge        string           // --network-bridge=: the veth's host side joins this bridge
	NetworkZone          string           // --network-zone=: ... the bridge vz-ZONE, made on demand
	NetworkNamespacePath string           // --network-namespace-path=: join this network namespace
	Settings             string           // --settings=: how a .nspawn file is used ("", yes, no, trusted)
	NotifyReady          *bool            // --notify-ready=: nil means yes with -b
	Register             *bool            // --register=: nil means "if systemd-machined is there"
	Binds                []Bind           // --bind=, --bind-ro=
	Environment          []string         // --setenv=KEY=VALUE, in order
	Credentials          []Credential     // --set-credential=, --load-credential=
	Listen               []string         // --listen=ADDR: sockets sockspawn binds itself
	Ports                []Port           // --port=: host ports forwarded to the container
	Capabilities         []string         // --capability=: kept in addition to the defaults (canonical names)
	BindUsers            []string         // --bind-user=: host users whose records and homes go to /run/host
	DropCapabilities     []string         // --drop-capability=: removed from the defaults
	Args                 []string         // positional arguments: init arguments with -b, else the command
	Quiet                bool             // -q: no informational messages
}
