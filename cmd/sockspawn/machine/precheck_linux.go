package machine

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/sockspawn/sockspawn/internal/systemd"
	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

// Before anything is created (runtime directory, cgroup, namespaces,
// mounts), the values that name paths are checked where they point: the
// image directory and bind sources on the host, the command in the image.
// Each error names the option, or the configuration file's key and line,
// and says where the path was looked up.

// optionName is how an error names the option that set field (its
// element i for a list): the command-line flag, or the configuration
// file's key with the file and line it came from.
func optionName(src units.Sources, field string, i int, flag, key string) string {
	origins := src[field]
	if i >= len(origins) {
		return flag
	}
	switch o := origins[i]; o {
	case "", units.SourceCommandLine, units.SourceDefault:
		return flag
	default:
		return key + "= (" + o + ")"
	}
}

// checkImageDir checks that the image directory is a directory on the
// host.
func checkImageDir(c units.Config, src units.Sources) error {
	if c.Directory == "" {
		return nil // decide says what to do
	}
	st, err := os.Stat(c.Directory)
	if err == nil && !st.IsDir() {
		err = errors.New("not a directory")
	}
	if err != nil {
		return fmt.Errorf("%s: image directory %s on the host: %v", optionName(src, "Directory", 0, "-D", "Directory"), c.Directory, pathErr(err))
	}
	// "/" by another name (a symlink, /proc/1/root, a bind of /): the
	// same rule as for -D / (see hostRootNeeds).
	if root, err := os.Stat("/"); err == nil && os.SameFile(st, root) && path.Clean(c.Directory) != "/" &&
		c.Volatile != systemd.VolatileYes && c.Volatile != systemd.VolatileState {
		return fmt.Errorf("%s: image directory %s on the host is this machine's own root, which a container never uses read-write: add --volatile=yes or --volatile=state",
			optionName(src, "Directory", 0, "-D", "Directory"), c.Directory)
	}
	return nil
}

// checkBinds checks each bind's source on the host and its target in the
// container, as far as that needs no mount.
func checkBinds(binds []units.Bind, src units.Sources) error {
	for i, b := range binds {
		flag, key := "--bind", "Bind"
		if b.ReadOnly {
			flag, key = "--bind-ro", "BindReadOnly"
		}
		name := optionName(src, "Binds", i, flag, key)
		if _, err := os.Stat(b.Source); err != nil {
			return fmt.Errorf("%s: source %s on the host: %v", name, b.Source, pathErr(err))
		}
		if t := path.Clean(b.Target); t == payload.RunHostDir || strings.HasPrefix(t, payload.RunHostDir+"/") {
			return fmt.Errorf("%s: target %s in the container: %s belongs to the container manager", name, b.Target, payload.RunHostDir)
		}
	}
	return nil
}

// checkCommand checks, without -b, that the command is where the
// container will look for it (see payload.CheckCommand).
func checkCommand(c units.Config, d decision) error {
	if c.Boot {
		return nil // decide found the init
	}
	return payload.CheckCommand(payload.Options{
		Image:    d.Image,
		Volatile: c.Volatile,
		Binds:    payloadBinds(c.Binds),
		Argv:     d.Argv,
		Env:      c.Environment,
	})
}

// checkInput runs the checks above, the image first.
func checkInput(c units.Config, src units.Sources, stdinTTY bool) (decision, error) {
	if err := checkImageDir(c, src); err != nil {
		return decision{}, err
	}
	if origins := src["Directory"]; len(origins) > 0 && path.Clean(c.Directory) == "/" {
		if o := origins[0]; o != units.SourceCommandLine && o != units.SourceDefault {
			if err := hostRootNeeds(c, o); err != nil {
				return decision{}, err
			}
		}
	}
	d, err := decide(c, stdinTTY, payload.FindInit)
	if err != nil {
		return d, err
	}
	if err := checkBinds(c.Binds, src); err != nil {
		return d, err
	}
	if err := checkUserRange(c, src, d); err != nil {
		return d, err
	}
	return d, checkCommand(c, d)
}

// pathErr is the reason of a failed path operation without the
// operation and path, which the caller names.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
