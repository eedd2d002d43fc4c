package units

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// NspawnSearchPath lists the directories of trusted .nspawn files, as
// systemd-nspawn searches them: the administrator's, then the runtime's.
// A file found there is used whole; else the one next to the image is
// used without its privileged settings. Tests pass their own list.
var NspawnSearchPath = []string{"/etc/systemd/nspawn", "/run/systemd/nspawn"}

// The --settings= modes, systemd-nspawn's minus "override".
const (
	SettingsYes     = "yes"     // use the .nspawn file; one next to the image is untrusted
	SettingsNo      = "no"      // ignore .nspawn files
	SettingsTrusted = "trusted" // use it and trust it wherever it is
)

// ParseSettings parses a --settings= / Settings= value: a boolean or
// "trusted". nspawn's "override" (the file wins over the command line) is
// refused: in sockspawn the command line always wins, and
// /etc/sockspawn/NAME.conf is the place to override a .nspawn file.
func ParseSettings(s string) (string, error) {
	if b, err := ParseBool(s); err == nil {
		if b {
			return SettingsYes, nil
		}
		return SettingsNo, nil
	}
	switch strings.ToLower(s) {
	case SettingsTrusted:
		return SettingsTrusted, nil
	case "override":
		return "", invalid("--settings", s, "override is not supported: the command line always wins; override a .nspawn file in /etc/sockspawn/NAME.conf")
	}
	return "", invalid("--settings", s, "want yes, no or trusted")
}

// SourceNspawnDefault marks a value that is a default of
// systemd-nspawn@.service's command line, applied because the machine has
// a .nspawn file (LoadMachine).
const SourceNspawnDefault = "default, as under systemd-nspawn@.service"

// SourceMachineDefault marks a default that every machine run by
// `sockspawn boot` (container@.service) gets, as systemd-nspawn@.service
// gives it on its command line, .nspawn file or not: PrivateUsers=pick
// (nspawn@'s -U). A machine with a private user range has the kernel's
// per-user budgets to itself (its user namespace is owned by its base
// UID); PrivateUsers=no turns it off.
const SourceMachineDefault = "default of sockspawn boot, as -U under systemd-nspawn@.service"

// Lookup says where LoadMachine looks and what the command line asked.
type Lookup struct {
	SearchPath []string // for NAME.conf (SearchPath)
	NspawnPath []string // for trusted NAME.nspawn (NspawnSearchPath)
	Flags      Config   // the command line's values
	Set        map[string]bool
}

// Loaded is a machine's configuration with where it came from.
type Loaded struct {
	Config  Config
	Sources Sources
	// File is the configuration file used (NAME.conf), or "".
	File string
	// Nspawn is the .nspawn file used, or "".
	Nspawn string
	// Notices name the settings of an untrusted .nspawn file that were
	// ignored, one line each.
	Notices []string
}

// LoadMachine returns the effective configuration of machine name. The
// sources, from the weakest:
//
//  1. the defaults;
//  2. NAME.nspawn, found as systemd-nspawn finds it (FindNspawn);
//  3. NAME.conf (FindConfig): each key it sets replaces the .nspawn
//     file's value whole, lists too;
//  4. the command line, which replaces in the same way (Merge).
//
// With a .nspawn file, two defaults of systemd-nspawn@.service's command
// line apply (SourceNspawnDefault), so that the machine runs as it did
// there: it boots (--boot) unless Boot= or ProcessTwo= is set anywhere,
// and it gets a veth (--network-veth) unless some network setting is
// (Private=, VirtualEthernet=, Bridge=, Zone=, NetworkNamespacePath=; those
// of an untrusted file, which nspawn@ drops, do not count).
// And every machine gets nspawn@'s -U, .nspawn file or not
// (SourceMachineDefault): PrivateUsers=pick unless PrivateUsers= is set
// anywhere (an untrusted file's does not count). Settings= (from the
// command line or NAME.conf) says whether the .nspawn file is read and
// trusted.
func LoadMachine(name string, l Lookup) (Loaded, error) {
	file, err := FindConfig(name, l.SearchPath)
	if err != nil {
		return Loaded{}, err
	}
	conf, confSrc, err := loadFile(name, file)
	if err != nil {
		return Loaded{}, err
	}
	mode := conf.Settings
	if l.Set["Settings"] {
		mode = l.Flags.Settings
	}
	dir := conf.Directory
	if l.Set["Directory"] {
		dir = l.Flags.Directory
	}
	out := Loaded{File: file}
	c, src := Config{}, Sources{}
	if mode != SettingsNo {
		path, trusted, err := FindNspawn(name, dir, l.NspawnPath)
		if err != nil {
			return Loaded{}, err
		}
		if path != "" {
			f, err := os.Open(path)
			if err != nil {
				return Loaded{}, fmt.Errorf("settings of machine %s: %w", name, err)
			}
			c, src, out.Notices, err = ParseNspawnFile(path, f, trusted || mode == SettingsTrusted)
			f.Close()
			if err != nil {
				return Loaded{}, err
			}
			out.Nspawn = path
		}
	}
	set := map[string]bool{}
	for field := range confSrc {
		set[field] = true
	}
	c = Merge(c, conf, set)
	for field := range confSrc {
		src[field] = confSrc[field]
	}
	unset := func(fields ...string) bool {
		for _, f := range fields {
			if len(src[f]) > 0 || l.Set[f] {
				return false
			}
		}
		return true
	}
	if out.Nspawn != "" && unset("Boot", "AsPid2") {
		c.Boot = true
		src["Boot"] = []string{SourceNspawnDefault}
	}
	if out.Nspawn != "" && unset("PrivateNetwork", "NetworkVeth", "NetworkBridge", "NetworkZone", "NetworkNamespacePath") {
		c.NetworkVeth = true
		src["NetworkVeth"] = []string{SourceNspawnDefault}
	}
	if unset("PrivateUsers") {
		c.PrivateUsers = "pick"
		src["PrivateUsers"] = []string{SourceMachineDefault}
	}
	out.Config = Merge(c, l.Flags, l.Set)
	out.Sources = MergeSources(src, l.Flags, l.Set)
	return out, nil
}

// FindNspawn returns the settings file of machine name as systemd-nspawn
// finds it: NAME.nspawn in the first directory of nspawnPath that has one
// (trusted), else next to the image, in the directory that holds image
// (untrusted; none for an image of "/").
//
//	(path, trusted, nil) - found
//	("", false, nil)     - none: nothing to read
//	("", false, err)     - one exists but cannot be examined, or is a
//	                       directory: it is not skipped, lest a broken file
//	                       in /etc give way to an untrusted one
func FindNspawn(name, image string, nspawnPath []string) (string, bool, error) {
	if err := ValidMachineName(name); err != nil {
		return "", false, err
	}
	candidates := make([]string, 0, len(nspawnPath)+1)
	for _, d := range nspawnPath {
		candidates = append(candidates, filepath.Join(d, name+NspawnSuffix))
	}
	if image != "" && filepath.Clean(image) != "/" {
		candidates = append(candidates, filepath.Join(filepath.Dir(filepath.Clean(image)), name+NspawnSuffix))
	}
	for i, p := range candidates {
		fi, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return "", false, fmt.Errorf("look for the settings of machine %s: %w", name, err)
		case fi.IsDir():
			return "", false, fmt.Errorf("settings of machine %s: %s is a directory", name, p)
		}
		return p, i < len(nspawnPath), nil
	}
	return "", false, nil
}
