package units

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/sockspawn/sockspawn/templates"
)

// Where `sockspawn new` writes, below its root.
const (
	ConfigDir  = "/etc/sockspawn"      // NAME.conf
	UnitDir    = "/etc/systemd/system" // container@NAME.socket.d/listen.conf
	ListenFile = "listen.conf"         // the socket drop-in's name
)

// NewOptions are the flags of `sockspawn new NAME`.
type NewOptions struct {
	Image  string   // --image DIR: the image directory; empty means DefaultDirectory(NAME)
	Listen []string // --listen ADDR: ListenStream= addresses added to container@NAME.socket
	// Settings are flags of `sockspawn run` that `new` takes too (those
	// of Options with New), in order: each one's key is written set. An
	// empty value leaves the key's example commented.
	Settings []NewSetting
}

// NewSetting is one flag given to `sockspawn new`, as "idle-action" and
// "freeze".
type NewSetting struct{ Flag, Value string }

// NewMachine writes the configuration of a new machine below root ("" for
// the real system, a DESTDIR-like prefix in tests):
//
//   - ROOT/etc/sockspawn/NAME.conf, from templates.MachineConfig;
//   - if opts.Listen is not empty,
//     ROOT/etc/systemd/system/container@NAME.socket.d/listen.conf, a drop-in
//     adding one ListenStream= per address.
//
// The name and options are checked first, then, unless force is set, that
// none of the files exists (the error names it and wraps fs.ErrExist);
// nothing is written until all checks pass. Each file is written whole or
// not at all (a temporary file, then link or rename); without force, a file
// that appears meanwhile is still not overwritten. NewMachine never removes
// files: with force and no listens, an old listen.conf stays.
//
// written lists the files written, also when a later one fails.
func NewMachine(name string, opts NewOptions, root string, force bool) (written []string, err error) {
	if err := ValidMachineName(name); err != nil {
		return nil, err
	}
	dir := opts.Image
	if dir == "" {
		dir = DefaultDirectory(name)
	} else if err := checkPath("image directory", dir); err != nil {
		return nil, &ValueError{Option: "--image", Value: dir, Err: err}
	}
	settings, err := newSettings(opts.Settings)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var streams []string
	for _, l := range opts.Listen {
		if err := parseListenStream(l); err != nil {
			return nil, err
		}
		if seen[l] {
			return nil, &ValueError{Option: "--listen", Value: l, Err: errors.New("given twice")}
		}
		seen[l] = true
		streams = append(streams, "ListenStream="+l)
	}

	type file struct {
		path     string
		template string
		vars     map[string]string
	}
	files := []file{{
		path:     filepath.Join(root, ConfigDir, name+ConfigSuffix),
		template: templates.MachineConfig,
		vars:     map[string]string{"MACHINE": name, "DIRECTORY": dir, "EXAMPLES": ConfigExamples(name)},
	}}
	if len(streams) > 0 {
		files = append(files, file{
			path:     filepath.Join(root, UnitDir, SocketName(name)+".d", ListenFile),
			template: templates.ListenDropIn,
			vars:     map[string]string{"MACHINE": name, "LISTEN_STREAMS": strings.Join(streams, "\n")},
		})
	}
	texts := make([][]byte, len(files))
	for i, f := range files {
		if texts[i], err = RenderUnit(f.template, f.vars); err != nil {
			return nil, err
		}
		if i == 0 {
			texts[i] = withSettings(texts[i], settings)
		}
		if !force {
			if _, err := os.Lstat(f.path); err == nil {
				return nil, fmt.Errorf("refusing to overwrite %s: %w", f.path, fs.ErrExist)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("check %s: %w", f.path, err)
			}
		}
	}
	for i, f := range files {
		if err := writeFile(f.path, texts[i], force); err != nil {
			return written, err
		}
		written = append(written, f.path)
	}
	return written, nil
}

// writeFile writes data to path with mode 0644, creating its directory:
// into a temporary file beside it, then renamed over path (replace) or
// hard-linked to path, which fails if path exists.
func writeFile(path string, data []byte, replace bool) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create directory for %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name()) // after the rename or link, or on failure
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if replace {
		err = os.Rename(tmp.Name(), path)
	} else {
		err = os.Link(tmp.Name(), path)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("refusing to overwrite %s: %w", path, fs.ErrExist)
		}
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// NextSteps returns what to run after `sockspawn new NAME`, for the user to
// read. hasListen says whether a socket drop-in was written, which
// systemd only sees after a daemon-reload.
func NextSteps(name string, hasListen bool) string {
	var b strings.Builder
	step := func(cmd, why string) { fmt.Fprintf(&b, "  %-48s # %s\n", cmd, why) }
	fmt.Fprintf(&b, "Machine %s is configured in %s/%s%s.\n", name, ConfigDir, name, ConfigSuffix)
	b.WriteString("Next steps:\n")
	if hasListen {
		step("systemctl daemon-reload", "load the new sockets of "+SocketName(name))
	}
	step("systemctl enable --now "+SocketName(name), "start "+name+" on the first connection")
	b.WriteString("or\n")
	step("systemctl enable --now "+ServiceName(name), "start "+name+" now and at every boot")
	b.WriteString("Then:\n")
	step("systemctl status "+ServiceName(name), "see it running")
	step("journalctl -u "+ServiceName(name), "read its log")
	return b.String()
}

// InstallUnits writes the unit templates (templates.Units()) to
// DESTDIR/UNITDIR, with @BINDIR@ set to binDir, and returns the paths
// written: what `make install` does. binDir is where the sockspawn binary
// is installed (PREFIX/bin) and unitDir a directory in systemd's unit
// search path (PREFIX/lib/systemd/system); destDir is empty or a staging
// root as in `make install DESTDIR=...`. Existing units are replaced, each
// atomically. Both directories must be absolute and normalized, and binDir
// free of whitespace, quotes, backslashes and '%', which ExecStart= would
// read as separators, quoting or specifiers.
func InstallUnits(destDir, binDir, unitDir string) ([]string, error) {
	if err := checkPath("binary directory", binDir); err != nil {
		return nil, fmt.Errorf("install units: %w", err)
	}
	if err := checkPath("unit directory", unitDir); err != nil {
		return nil, fmt.Errorf("install units: %w", err)
	}
	for _, r := range binDir {
		if unicode.IsSpace(r) || strings.ContainsRune(`"'\%`, r) {
			return nil, fmt.Errorf("install units: binary directory %q: character %q is not allowed in ExecStart=", binDir, r)
		}
	}
	vars := map[string]string{"BINDIR": binDir}
	dir := filepath.Join(destDir, unitDir)
	var written []string
	for _, name := range templates.Units() {
		text, err := RenderUnit(name, vars)
		if err != nil {
			return written, err
		}
		p := filepath.Join(dir, name)
		if err := writeFile(p, text, true); err != nil {
			return written, err
		}
		written = append(written, p)
	}
	return written, nil
}

// newSettings checks the settings given to `sockspawn new` as their flags
// parse them and returns them as KEY, VALUE pairs, one per key, the last
// one given winning.
func newSettings(given []NewSetting) ([][2]string, error) {
	var out [][2]string
	index := map[string]int{}
	for _, s := range given {
		o := newFlag(s.Flag)
		if o == nil {
			return nil, fmt.Errorf("sockspawn new has no flag --%s", s.Flag)
		}
		if s.Value == "" {
			continue
		}
		var c Config
		if err := o.SetFlag(&c, "--"+o.Flag, s.Value); err != nil {
			return nil, err
		}
		v, _ := o.format(&c, 0)
		if i, ok := index[o.Key]; ok {
			out[i][1] = v
			continue
		}
		index[o.Key] = len(out)
		out = append(out, [2]string{o.Key, v})
	}
	return out, nil
}

// newFlag returns the option of flag if `sockspawn new` takes it.
func newFlag(flag string) *Option {
	for i := range options {
		if o := &options[i]; o.New && o.Flag == flag {
			return o
		}
	}
	return nil
}

// withSettings sets keys in a machine's configuration text: the
// template's commented example line "#KEY=..." becomes the setting, or the
// setting is added at the end.
func withSettings(text []byte, settings [][2]string) []byte {
	s := string(text)
	for _, kv := range settings {
		key, value := kv[0], kv[1]
		lines := strings.SplitAfter(s, "\n")
		found := false
		for i, l := range lines {
			if strings.HasPrefix(l, "#"+key+"=") {
				lines[i] = key + "=" + value + "\n"
				s = strings.Join(lines, "")
				found = true
				break
			}
		}
		if found {
			continue
		}
		if !strings.HasSuffix(s, "\n") {
			s += "\n"
		}
		s += key + "=" + value + "\n"
	}
	return []byte(s)
}
