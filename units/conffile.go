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

// ParseConfigFile reads a machine's configuration file from r; path is used
// in errors and in the returned Sources. The file has unit-file syntax and
// one section, [Container], whose keys are those of Options, each parsed
// as its flag of `sockspawn run` is:
//
//	[Container]
//	Directory=/var/lib/machines/web
//	Boot=yes
//	Bind=/srv/web:/srv
//
// As in systemd, a later assignment of a single-valued key wins; a
// repeatable key appends; an empty value resets the field to its default,
// and for Bind= / BindReadOnly= and SetCredential= / LoadCredential=
// resets the shared list. Environment= takes one KEY=VALUE per line,
// unquoted, or quoted whole ("KEY=VALUE ") to keep white space or a
// backslash at its end. Parameters= values are split like a shell
// command line (SplitParameters) and concatenated. Values are literal: no %-specifiers.
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
	return applyAs(c, src, key, key, raw, loc, configKeys[key].KeyValue)
}

// applyAs is apply for a key that a file spells shown (a .nspawn file's
// MachineID= sets UUID=): errors name shown. unquote, if not nil, turns
// the value, trimmed and checked, into the one the key's parser takes.
func applyAs(c *Config, src Sources, key, shown, raw, loc string, unquote func(string) (string, error)) error {
	o := configKeys[key]
	key = shown
	v := strings.TrimSpace(strings.ReplaceAll(raw, "\\\n", " "))
	if strings.HasSuffix(v, `\`) {
		return fmt.Errorf("%s=: the value ends with a backslash", key)
	}
	if strings.IndexFunc(v, isControlNotTab) >= 0 {
		return fmt.Errorf("%s=: the value contains a control character", key)
	}
	if v == "" {
		resetField(c, o.Field)
		delete(src, o.Field)
		return nil
	}
	if unquote != nil {
		uq, err := unquote(v)
		if err != nil {
			return &ValueError{Option: key + "=", Value: v, Err: err}
		}
		v = uq
	}
	before := fieldLen(c, o.Field)
	if err := o.Parse(c, v); err != nil {
		var ve *ValueError
		if errors.As(err, &ve) {
			named := *ve
			named.Option = key + "="
			return &named
		}
		return fmt.Errorf("%s=: %w", key, err)
	}
	after := fieldLen(c, o.Field)
	if after < 0 { // a single value
		src[o.Field] = []string{loc}
		return nil
	}
	for ; before < after; before++ {
		src[o.Field] = append(src[o.Field], loc)
	}
	return nil
}
