package units

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// SearchPath lists the directories searched for NAME.conf, first match
// wins: the administrator's, then the runtime's, then the vendor's, as for
// systemd's own .nspawn files. Tests pass their own list.
var SearchPath = []string{"/etc/sockspawn", "/run/sockspawn", "/usr/lib/sockspawn"}

// MachinesDir holds the images of machines with no Directory= setting.
const MachinesDir = "/var/lib/machines"

// ConfigSuffix ends the name of a machine's configuration file.
const ConfigSuffix = ".conf"

// DefaultDirectory is the image directory of a machine whose configuration
// sets none: /var/lib/machines/NAME.
func DefaultDirectory(name string) string {
	return filepath.Join(MachinesDir, name)
}

// FindConfig returns the path of the configuration file of machine name:
// the first NAME.conf found in the directories of searchPath.
//
//	(path, nil) - found
//	("", nil)   - no configuration file: the defaults apply
//	("", err)   - an invalid name (checked before any file is looked at),
//	              or a NAME.conf that exists but cannot be examined or is a
//	              directory: it is not skipped, lest a broken file in /etc
//	              silently give way to one in /usr/lib
func FindConfig(name string, searchPath []string) (string, error) {
	if err := ValidMachineName(name); err != nil {
		return "", err
	}
	for _, dir := range searchPath {
		p := filepath.Join(dir, name+ConfigSuffix)
		fi, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return "", fmt.Errorf("look for the configuration of machine %s: %w", name, err)
		case fi.IsDir():
			return "", fmt.Errorf("configuration of machine %s: %s is a directory", name, p)
		}
		return p, nil
	}
	return "", nil
}

// Load returns the configuration of machine name: its configuration file
// (FindConfig) parsed, or nothing if there is none, with Machine set to
// name and Directory defaulting to DefaultDirectory(name). The name is
// checked before the file system is touched. Sources says where each value
// came from.
func Load(name string, searchPath []string) (Config, Sources, error) {
	path, err := FindConfig(name, searchPath)
	if err != nil {
		return Config{}, nil, err
	}
	return loadFile(name, path)
}

// loadFile is Load of the configuration file at path ("": none).
func loadFile(name, path string) (Config, Sources, error) {
	c, src := Config{}, Sources{}
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return Config{}, nil, fmt.Errorf("configuration of machine %s: %w", name, err)
		}
		c, src, err = ParseConfigFile(path, f)
		f.Close()
		if err != nil {
			return Config{}, nil, err
		}
	}
	c.Machine = name
	src["Machine"] = []string{SourceDefault}
	if c.Directory == "" {
		c.Directory = DefaultDirectory(name)
		src["Directory"] = []string{SourceDefault}
	}
	return c, src, nil
}

// Merge returns file with every field named in set replaced by its value in
// flags: what is given on the command line overrides the configuration
// file. A list given on the command line replaces the file's list whole,
// as in nspawn (a --bind drops every Bind= of the file). set names Config
// fields as in FieldNames; any other name is a programming error and
// panics.
func Merge(file Config, flags Config, set map[string]bool) Config {
	c := file
	for name, ok := range set {
		if ok {
			field(&c, name).Set(field(&flags, name))
		}
	}
	return c
}

// MergeSources returns file's sources with every field named in set marked
// SourceCommandLine (once per element of a list field in flags), to go with
// Merge(fileConfig, flags, set). file is not modified. Like Merge, it
// panics on a name not in FieldNames.
func MergeSources(file Sources, flags Config, set map[string]bool) Sources {
	out := make(Sources, len(file))
	for k, v := range file {
		out[k] = v
	}
	for name, ok := range set {
		if !ok {
			continue
		}
		if !slices.Contains(FieldNames, name) {
			panic(fmt.Sprintf("units.MergeSources: no Config field %q", name))
		}
		n := fieldLen(&flags, name)
		if n < 0 {
			n = 1
		}
		l := make([]string, n)
		for i := range l {
			l[i] = SourceCommandLine
		}
		out[name] = l
	}
	return out
}
