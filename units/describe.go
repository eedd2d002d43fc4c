package units

import (
	"fmt"
	"strings"
)

// Describe writes the effective configuration c for `sockspawn cat NAME`,
// in the syntax ParseConfigFile reads, each assignment preceded by a
// comment naming where it came from ("# from /etc/sockspawn/web.conf:3",
// "# default", "# command line"), taken from s; a value with no entry in s
// is marked "# default". Fields left at their zero value with no source
// are not written. The machine name, which is not a key, is named in the
// opening comment.
//
// Values that came from a configuration file are written so that
// ParseConfigFile reads back the same Config, unless escaping makes a line
// longer than ParseConfigFile accepts (2047 bytes). Credential data is written
// too: `sockspawn cat` shows secrets given with SetCredential=.
func Describe(c Config, s Sources) string {
	var b strings.Builder
	if c.Machine != "" {
		fmt.Fprintf(&b, "# Effective configuration of machine %s\n", c.Machine)
	}
	fmt.Fprintf(&b, "[%s]\n", ConfigSection)
	put := func(key, field string, i int, value string) {
		fmt.Fprintf(&b, "# %s\n%s=%s\n", origin(s, field, i), key, value)
	}
	single := func(key, field, value string, zero bool) {
		if !zero || len(s[field]) > 0 {
			put(key, field, 0, value)
		}
	}
	single("Directory", "Directory", c.Directory, c.Directory == "")
	single("Hostname", "Hostname", c.Hostname, c.Hostname == "")
	single("Boot", "Boot", FormatBool(c.Boot), !c.Boot)
	single("AsPid2", "AsPid2", FormatBool(c.AsPid2), !c.AsPid2)
	single("Timezone", "Timezone", c.Timezone, c.Timezone == "")
	single("LinkJournal", "LinkJournal", string(c.LinkJournal), c.LinkJournal == "")
	single("PrivateNetwork", "PrivateNetwork", FormatBool(c.PrivateNetwork), !c.PrivateNetwork)
	single("NetworkVeth", "NetworkVeth", FormatBool(c.NetworkVeth), !c.NetworkVeth)
	single("Volatile", "Volatile", string(c.Volatile), c.Volatile == "")
	single("Console", "Console", string(c.Console), c.Console == "")
	single("UUID", "UUID", c.UUID, c.UUID == "")
	single("PrivateUsers", "PrivateUsers", c.PrivateUsers, c.PrivateUsers == "")
	single("IdleAction", "IdleAction", c.IdleAction, c.IdleAction == "")
	single("IdleActionSec", "IdleActionSec", FormatTimespan(c.IdleActionSec), c.IdleActionSec == 0)
	single("TTYs", "TTYs", FormatTTYs(c.TTYs), c.TTYs == 0)
	single("NetworkBridge", "NetworkBridge", c.NetworkBridge, c.NetworkBridge == "")
	single("NetworkZone", "NetworkZone", c.NetworkZone, c.NetworkZone == "")
	single("NetworkNamespacePath", "NetworkNamespacePath", c.NetworkNamespacePath, c.NetworkNamespacePath == "")
	single("Settings", "Settings", c.Settings, c.Settings == "")
	if c.NotifyReady != nil {
		put("NotifyReady", "NotifyReady", 0, FormatBool(*c.NotifyReady))
	}
	if c.Register != nil {
		put("Register", "Register", 0, FormatBool(*c.Register))
	}
	for i, bind := range c.Binds {
		key := "Bind"
		if bind.ReadOnly {
			key = "BindReadOnly"
		}
		put(key, "Binds", i, FormatBind(bind))
	}
	for i, e := range c.Environment {
		put("Environment", "Environment", i, e)
	}
	for i, cred := range c.Credentials {
		key := "SetCredential"
		if cred.Path != "" {
			key = "LoadCredential"
		}
		put(key, "Credentials", i, FormatCredential(cred))
	}
	for i, l := range c.Listen {
		put("Listen", "Listen", i, l)
	}
	for i, p := range c.Ports {
		put("Port", "Ports", i, FormatPort(p))
	}
	for i, cp := range c.Capabilities {
		put("Capability", "Capabilities", i, cp)
	}
	for i, u := range c.BindUsers {
		put("BindUser", "BindUsers", i, u)
	}
	for i, cp := range c.DropCapabilities {
		put("DropCapability", "DropCapabilities", i, cp)
	}
	// Arguments from the same origin (one Parameters= line of a file, or
	// the command line) share a line, as they did where they came from.
	for i := 0; i < len(c.Args); {
		o := origin(s, "Args", i)
		j := i + 1
		for j < len(c.Args) && origin(s, "Args", j) == o {
			j++
		}
		fmt.Fprintf(&b, "# %s\nParameters=%s\n", o, JoinParameters(c.Args[i:j]))
		i = j
	}
	return b.String()
}

// origin is the comment text for element i of field.
func origin(s Sources, field string, i int) string {
	src := SourceDefault
	if l := s[field]; i < len(l) {
		src = l[i]
	}
	switch src {
	case SourceDefault, SourceCommandLine, SourceNspawnDefault:
		return src
	}
	return "from " + src
}
