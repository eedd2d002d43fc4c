package units

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// NspawnSuffix ends the name of a systemd-nspawn settings file.
const NspawnSuffix = ".nspawn"

// nspawnUnsupported lists the other keys of systemd.nspawn(5) (systemd
// 252 and later), each with why sockspawn has no such setting and what to
// use instead. The README's table is written from this one.
var nspawnUnsupported = map[string]string{
	"Exec.Ephemeral":               "sockspawn runs the image in place and makes no snapshots; Volatile=yes or Volatile=state keeps the image unchanged",
	"Exec.User":                    "the payload runs as root; start it with setpriv or runuser in Parameters=",
	"Exec.WorkingDirectory":        "the payload starts in /; cd in Parameters=",
	"Exec.PivotRoot":               "sockspawn always uses the image's root directory",
	"Exec.AmbientCapability":       "sockspawn passes no ambient capabilities",
	"Exec.NoNewPrivileges":         "not supported yet",
	"Exec.KillSignal":              "sockspawn stops a booted init with SIGRTMIN+3, as the Container Interface says, and anything else with SIGTERM",
	"Exec.Personality":             "sockspawn runs native payloads only",
	"Exec.SystemCallFilter":        "sockspawn's system call filter is fixed",
	"Exec.OOMScoreAdjust":          "set OOMScoreAdjust= in a drop-in of container@NAME.service: the container inherits it",
	"Exec.CPUAffinity":             "set CPUAffinity= in a drop-in of container@NAME.service: the container inherits it",
	"Exec.ResolvConf":              "sockspawn leaves the image's /etc/resolv.conf alone; bind one in with BindReadOnly=",
	"Exec.SuppressSync":            "not supported",
	"Files.ReadOnly":               "not supported yet; Volatile=state keeps the image read-only",
	"Files.TemporaryFileSystem":    "not supported yet",
	"Files.Inaccessible":           "not supported yet",
	"Files.Overlay":                "sockspawn makes no overlay mounts",
	"Files.OverlayReadOnly":        "sockspawn makes no overlay mounts",
	"Files.PrivateUsersChown":      "sockspawn never changes the image's ownership: PrivateUsers= uses an idmapped mount",
	"Files.PrivateUsersOwnership":  "sockspawn never changes the image's ownership: PrivateUsers= uses an idmapped mount",
	"Network.Interface":            "sockspawn moves no host interface into a container",
	"Network.MACVLAN":              "not supported; use Bridge= or Zone=",
	"Network.IPVLAN":               "not supported; use Bridge= or Zone=",
	"Network.VirtualEthernetExtra": "sockspawn makes one veth per machine",
}

func init() {
	for _, r := range []string{"CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NOFILE", "AS", "NPROC", "MEMLOCK", "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME"} {
		nspawnUnsupported["Exec.Limit"+r] = "set Limit" + r + "= in a drop-in of container@NAME.service: the container inherits the unit's limits"
	}
}

// nspawnKeyCheck is the keyCheck of a .nspawn file.
func nspawnKeyCheck(section, key string) error {
	switch section {
	case "":
		return fmt.Errorf("put it under [Exec], [Files] or [Network]")
	case "Exec", "Files", "Network":
	default:
		return fmt.Errorf("unknown section [%s] (a .nspawn file has [Exec], [Files] and [Network])", section)
	}
	if key == "" {
		return nil
	}
	if _, ok := nspawnKeys[section+"."+key]; ok {
		return nil
	}
	if why, ok := nspawnUnsupported[section+"."+key]; ok {
		return fmt.Errorf("%s= in [%s] is not supported by sockspawn: %s", key, section, why)
	}
	return fmt.Errorf("unknown key %q in [%s]", key, section)
}

// ParseNspawnFile reads a systemd-nspawn settings file (systemd.nspawn(5))
// from r; path is used in errors, notices and the returned Sources. Each
// supported key means what it means to nspawn, and is parsed by the same
// code as the machine configuration's key of the same meaning
// (Capability= takes a white-space separated list here, as in nspawn; a
// line of Environment= may hold several assignments, quoted as in
// Parameters=). A key nspawn knows but sockspawn does not support, an
// unknown key or section, and a value nspawn would refuse are errors that
// name the file, the line and the key.
//
// When trusted is false, as for a file found next to the image, the
// privileged settings (nspawnKeys) are checked but not applied, and each
// is named in notices, as nspawn logs "Ignoring ... file is not trusted".
func ParseNspawnFile(path string, r io.Reader, trusted bool) (c Config, src Sources, notices []string, err error) {
	assigns, err := readAssignments(path, r, nspawnKeyCheck)
	if err != nil {
		return Config{}, nil, nil, err
	}
	src = Sources{}
	var ignored Config // where untrusted privileged values are checked
	for _, a := range assigns {
		o := nspawnKeys[a.section+"."+a.key]
		loc := fmt.Sprintf("%s:%d", path, a.line)
		into, intoSrc := &c, src
		if o.Nspawn.Privileged && !trusted {
			into, intoSrc = &ignored, Sources{}
		}
		if err := applyNspawn(into, intoSrc, o, a.key, a.value, loc); err != nil {
			return Config{}, nil, nil, fmt.Errorf("%s: %w", loc, err)
		}
		if into == &ignored {
			notices = append(notices, fmt.Sprintf("%s: ignoring %s=: %s is not trusted (it is not in %s); copy it there, or set Settings=trusted",
				loc, a.key, path, strings.Join(NspawnSearchPath, " or ")))
		}
	}
	return c, src, notices, nil
}

// applyNspawn applies one .nspawn assignment through o's key.
func applyNspawn(c *Config, src Sources, o *Option, shown, raw, loc string) error {
	v := strings.TrimSpace(raw)
	switch {
	case v == "":
		return applyAs(c, src, o.Key, shown, "", loc, nil)
	case o.Nspawn.Commas:
		return applyAs(c, src, o.Key, shown, strings.Join(strings.Fields(v), ","), loc, nil)
	case o.Nspawn.Words:
		words, err := SplitParameters(v)
		if err != nil {
			return fmt.Errorf("%s=: %w", shown, err)
		}
		for _, w := range words {
			if strings.TrimSpace(w) == "" {
				return fmt.Errorf("%s=: an empty word (%q) is not an assignment", shown, w)
			}
			// The word is unquoted already: its own blanks are kept
			// ("A=x " stays so, as nspawn keeps it).
			word := func(string) (string, error) {
				if strings.IndexFunc(w, isControlNotTab) >= 0 {
					return "", errors.New("the value contains a control character")
				}
				return w, nil
			}
			if err := applyAs(c, src, o.Key, shown, w, loc, word); err != nil {
				return err
			}
		}
		return nil
	}
	return applyAs(c, src, o.Key, shown, raw, loc, nil)
}
