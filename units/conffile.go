package units

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"
)

// ConfigSection is the one section of a machine's configuration file.
const ConfigSection = "Container"

// maxConfigSize bounds what ParseConfigFile reads.
const maxConfigSize = 1 << 20

// Sources records where each value of a Config came from, for `sockspawn
// cat`. Keys are Config field names ("Directory", "Binds"). A single-valued
// field has one entry; a list field has one entry per element, in order.
// An entry is "PATH:LINE", SourceDefault or SourceCommandLine.
type Sources map[string][]string

// The origins of a value that did not come from a file.
const (
	SourceDefault     = "default"
	SourceCommandLine = "command line"
)

// configKey is how one key of the [Container] section sets its field.
type configKey struct {
	field string
	// set parses a non-empty value into c (appending, for a list).
	set func(c *Config, v string) error
	// reset undoes every earlier assignment: an empty value means
	// "back to the default" (an empty list), as in systemd.
	reset func(c *Config)
}

// configKeys maps each key of the [Container] section to its field. They
// mirror the flags of `sockspawn run`; the machine name is the file name
// and is not a key.
var configKeys = map[string]configKey{
	"Directory": {"Directory", func(c *Config, v string) (err error) {
		c.Directory, err = ParseDirectory(v)
		return err
	}, func(c *Config) { c.Directory = "" }},
	"Hostname": {"Hostname", func(c *Config, v string) error {
		c.Hostname = v
		return ValidHostname(v)
	}, func(c *Config) { c.Hostname = "" }},
	"Boot": {"Boot", func(c *Config, v string) (err error) {
		c.Boot, err = ParseBool(v)
		return err
	}, func(c *Config) { c.Boot = false }},
	"AsPid2": {"AsPid2", func(c *Config, v string) (err error) {
		c.AsPid2, err = ParseBool(v)
		return err
	}, func(c *Config) { c.AsPid2 = false }},
	"Volatile": {"Volatile", func(c *Config, v string) (err error) {
		c.Volatile, err = ParseVolatile(v)
		return err
	}, func(c *Config) { c.Volatile = "" }},
	"Bind":         {"Binds", appendBind(false), func(c *Config) { c.Binds = nil }},
	"BindReadOnly": {"Binds", appendBind(true), func(c *Config) { c.Binds = nil }},
	"Environment": {"Environment", func(c *Config, v string) error {
		e, err := ParseSetenv(v)
		c.Environment = append(c.Environment, e)
		return err
	}, func(c *Config) { c.Environment = nil }},
	"SetCredential":  {"Credentials", appendCredential(ParseSetCredential), func(c *Config) { c.Credentials = nil }},
	"LoadCredential": {"Credentials", appendCredential(ParseLoadCredential), func(c *Config) { c.Credentials = nil }},
	"UUID": {"UUID", func(c *Config, v string) (err error) {
		c.UUID, err = ParseUUID(v)
		return err
	}, func(c *Config) { c.UUID = "" }},
	"Console": {"Console", func(c *Config, v string) (err error) {
		c.Console, err = ParseConsole(v)
		return err
	}, func(c *Config) { c.Console = "" }},
	"NotifyReady": {"NotifyReady", func(c *Config, v string) error {
		b, err := ParseBool(v)
		c.NotifyReady = &b
		return err
	}, func(c *Config) { c.NotifyReady = nil }},
	"Listen": {"Listen", func(c *Config, v string) error {
		l, err := ParseListen(v)
		c.Listen = append(c.Listen, l)
		return err
	}, func(c *Config) { c.Listen = nil }},
	"Timezone": {"Timezone", func(c *Config, v string) (err error) {
		c.Timezone, err = ParseTimezone(v)
		return err
	}, func(c *Config) { c.Timezone = "" }},
	"LinkJournal": {"LinkJournal", func(c *Config, v string) (err error) {
		c.LinkJournal, err = ParseLinkJournal(v)
		return err
	}, func(c *Config) { c.LinkJournal = "" }},
	"PrivateNetwork": {"PrivateNetwork", func(c *Config, v string) (err error) {
		c.PrivateNetwork, err = ParseBool(v)
		return err
	}, func(c *Config) { c.PrivateNetwork = false }},
	"NetworkVeth": {"NetworkVeth", func(c *Config, v string) (err error) {
		c.NetworkVeth, err = ParseBool(v)
		return err
	}, func(c *Config) { c.NetworkVeth = false }},
	"Register": {"Register", func(c *Config, v string) error {
		b, err := ParseBool(v)
		c.Register = &b
		return err
	}, func(c *Config) { c.Register = nil }},
	"PrivateUsers": {"PrivateUsers", func(c *Config, v string) error {
		c.PrivateUsers = v
		_, err := ParsePrivateUsers(v)
		return err
	}, func(c *Config) { c.PrivateUsers = "" }},
	"Capability": {"Capabilities", func(c *Config, v string) error {
		caps, err := ParseCapabilities(v)
		c.Capabilities = append(c.Capabilities, caps...)
		return err
	}, func(c *Config) { c.Capabilities = nil }},
	"DropCapability": {"DropCapabilities", func(c *Config, v string) error {
		caps, err := ParseCapabilities(v)
		c.DropCapabilities = append(c.DropCapabilities, caps...)
		return err
	}, func(c *Config) { c.DropCapabilities = nil }},
	"IdleAction": {"IdleAction", func(c *Config, v string) (err error) {
		c.IdleAction, err = ParseIdleAction(v)
		return err
	}, func(c *Config) { c.IdleAction = "" }},
	"IdleActionSec": {"IdleActionSec", func(c *Config, v string) (err error) {
		c.IdleActionSec, err = ParseIdleActionSec(v)
		return err
	}, func(c *Config) { c.IdleActionSec = 0 }},
	"BindUser": {"BindUsers", func(c *Config, v string) error {
		u, err := ParseBindUser(v)
		c.BindUsers = append(c.BindUsers, u)
		return err
	}, func(c *Config) { c.BindUsers = nil }},
	"TTYs": {"TTYs", func(c *Config, v string) (err error) {
		c.TTYs, err = ParseTTYs(v)
		return err
	}, func(c *Config) { c.TTYs = 0 }},
	"NetworkBridge": {"NetworkBridge", func(c *Config, v string) (err error) {
		c.NetworkBridge, err = ParseBridge(v)
		return err
	}, func(c *Config) { c.NetworkBridge = "" }},
	"NetworkZone": {"NetworkZone", func(c *Config, v string) (err error) {
		c.NetworkZone, err = ParseZone(v)
		return err
	}, func(c *Config) { c.NetworkZone = "" }},
	"NetworkNamespacePath": {"NetworkNamespacePath", func(c *Config, v string) (err error) {
		c.NetworkNamespacePath, err = ParseNetnsPath(v)
		return err
	}, func(c *Config) { c.NetworkNamespacePath = "" }},
	"Port": {"Ports", func(c *Config, v string) error {
		p, err := ParsePort(v)
		if err == nil {
			c.Ports = append(c.Ports, p)
		}
		return err
	}, func(c *Config) { c.Ports = nil }},
	"Settings": {"Settings", func(c *Config, v string) (err error) {
		c.Settings, err = ParseSettings(v)
		return err
	}, func(c *Config) { c.Settings = "" }},
	"Parameters": {"Args", func(c *Config, v string) error {
		args, err := SplitParameters(v)
		c.Args = append(c.Args, args...)
		return err
	}, func(c *Config) { c.Args = nil }},
}

func appendBind(readOnly bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := ParseBind(v, readOnly)
		c.Binds = append(c.Binds, b)
		return err
	}
}

func appendCredential(parse func(string) (Credential, error)) func(*Config, string) error {
	return func(c *Config, v string) error {
		cred, err := parse(v)
		if err != nil {
			return err
		}
		// Of one ID given twice the last wins when the machine starts
		// (activation.MergeCredentials), as with the flags.
		c.Credentials = append(c.Credentials, cred)
		return nil
	}
}

// ParseConfigFile reads a machine's configuration file from r; path is used
// in errors and in the returned Sources. The file has unit-file syntax and
// one section, [Container], whose keys mirror the flags of `sockspawn run`:
//
//	[Container]
//	Directory=/var/lib/machines/web   # -D
//	Hostname=web                      # --hostname
//	Boot=yes                          # -b
//	AsPid2=no                         # --as-pid2
//	Volatile=no|yes|state             # --volatile (booleans too)
//	Bind=SRC[:DST[:OPTS]]             # --bind, repeatable
//	BindReadOnly=SRC[:DST[:OPTS]]     # --bind-ro, repeatable
//	Environment=KEY=VALUE             # --setenv, repeatable
//	SetCredential=ID:VALUE            # --set-credential, repeatable
//	LoadCredential=ID:PATH            # --load-credential, repeatable
//	UUID=...                          # --uuid
//	Console=interactive|read-only|passive|pipe
//	NotifyReady=yes|no                # --notify-ready
//	Listen=ADDR                       # --listen, repeatable
//	IdleAction=freeze|poweroff|ignore # --idle-action
//	IdleActionSec=30s                 # --idle-action-sec (a time span)
//	Parameters=ARGS...                # the positional arguments
//	NetworkBridge=BR, NetworkZone=ZONE, NetworkNamespacePath=PATH
//	Port=[tcp:|udp:]HOST[:CONTAINER]  # --port, repeatable
//	Settings=yes|no|trusted           # --settings: the .nspawn file
//
// (Comments go on lines of their own; the ones above are for show.) As in
// systemd, a later assignment of a single-valued key wins; a repeatable key
// appends; an empty value resets the field to its default, and for Bind= /
// BindReadOnly= and SetCredential= / LoadCredential= resets the shared
// list. Environment= takes one KEY=VALUE per line, unquoted. Parameters=
// values are split like a shell command line (SplitParameters) and
// concatenated. Values are literal: no %-specifiers.
//
// The syntax is go-systemd's unit.DeserializeOptions, which gives values
// but no line numbers. A line scanner that follows the same lexer
// (scanConfig) runs first: it numbers the assignments, names the line of
// unknown sections and keys and of malformed lines, and rejects the few
// constructs where go-systemd and systemd disagree. Continuation lines
// ('\' at the end) are joined with a space, as systemd does; a value may
// not end with a backslash or hold control characters other than tab.
//
// Errors name the file, the line and the key:
// `/etc/sockspawn/web.conf:3: invalid Bind= "x": source "x" is not an absolute path`.
func ParseConfigFile(path string, r io.Reader) (Config, Sources, error) {
	assigns, err := readAssignments(path, r, containerKeys)
	if err != nil {
		return Config{}, nil, err
	}
	var c Config
	src := Sources{}
	for _, a := range assigns {
		if err := apply(&c, src, a.key, a.value, fmt.Sprintf("%s:%d", path, a.line)); err != nil {
			return Config{}, nil, fmt.Errorf("%s:%d: %w", path, a.line, err)
		}
	}
	return c, src, nil
}

// readAssignments reads a file of unit-file syntax whose sections and
// keys check knows, and returns its assignments in order with their
// sections, lines and raw values. It is shared by the machine's
// configuration file and .nspawn files (ParseNspawnFile).
func readAssignments(path string, r io.Reader, check keyCheck) ([]assignment, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(raw) > maxConfigSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxConfigSize)
	}
	raw = bytes.TrimPrefix(raw, []byte("\uFEFF"))
	assigns, err := scanConfig(path, string(raw), check)
	if err != nil {
		return nil, err
	}
	opts, err := unit.DeserializeOptions(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(opts) != len(assigns) {
		return nil, fmt.Errorf("%s: found %d assignments but go-systemd's parser found %d; unusual syntax?", path, len(assigns), len(opts))
	}
	for i, opt := range opts {
		a := &assigns[i]
		if opt.Section != a.section || opt.Name != a.key {
			return nil, fmt.Errorf("%s:%d: go-systemd's parser read [%s] %q here; unusual syntax?", path, a.line, opt.Section, opt.Name)
		}
		a.value = opt.Value
	}
	return assigns, nil
}

// apply sets the field of key from its raw value and records loc as the
// source of what it set.
func apply(c *Config, src Sources, key, raw, loc string) error {
	return applyAs(c, src, key, key, raw, loc)
}

// applyAs is apply for a key that a file spells shown (a .nspawn file's
// MachineID= sets UUID=): errors name shown.
func applyAs(c *Config, src Sources, key, shown, raw, loc string) error {
	k := configKeys[key]
	key = shown
	v := strings.TrimSpace(strings.ReplaceAll(raw, "\\\n", " "))
	if strings.HasSuffix(v, `\`) {
		return fmt.Errorf("%s=: the value ends with a backslash", key)
	}
	if strings.IndexFunc(v, isControlNotTab) >= 0 {
		return fmt.Errorf("%s=: the value contains a control character", key)
	}
	if v == "" {
		k.reset(c)
		delete(src, k.field)
		return nil
	}
	before := fieldLen(c, k.field)
	if err := k.set(c, v); err != nil {
		var ve *ValueError
		if errors.As(err, &ve) {
			named := *ve
			named.Option = key + "="
			return &named
		}
		return fmt.Errorf("%s=: %w", key, err)
	}
	after := fieldLen(c, k.field)
	if after < 0 { // a single value
		src[k.field] = []string{loc}
		return nil
	}
	for ; before < after; before++ {
		src[k.field] = append(src[k.field], loc)
	}
	return nil
}

// fieldLen returns the length of a list field, or -1 for a single-valued one.
func fieldLen(c *Config, field string) int {
	switch field {
	case "Binds":
		return len(c.Binds)
	case "Environment":
		return len(c.Environment)
	case "Credentials":
		return len(c.Credentials)
	case "Listen":
		return len(c.Listen)
	case "Args":
		return len(c.Args)
	case "Capabilities":
		return len(c.Capabilities)
	case "DropCapabilities":
		return len(c.DropCapabilities)
	case "BindUsers":
		return len(c.BindUsers)
	case "Ports":
		return len(c.Ports)
	}
	return -1
}
