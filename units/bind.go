package units

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// ParseBind parses one --bind= (readOnly false) or --bind-ro= (readOnly
// true) value in systemd-nspawn's syntax, SRC[:DST[:OPTS]]:
//
//   - SRC is an absolute, normalized path on the host. nspawn's "+SRC"
//     (relative to the image root) and empty SRC (a temporary directory)
//     are rejected as not supported.
//   - DST is an absolute, normalized path in the container; empty or
//     missing, it is SRC.
//   - OPTS is a comma-separated list of rbind (the default) and norbind.
//     nspawn's idmap, noidmap, rootidmap and owneridmap are rejected as not
//     supported; read-only is chosen by the flag, not by an option.
//   - A ':' or '\' inside SRC or DST is written "\:" or "\\", as in nspawn;
//     a backslash before any other character stands for that character.
//
// Errors read like `invalid --bind "x": source "x" is not an absolute path`.
func ParseBind(spec string, readOnly bool) (Bind, error) {
	option := "--bind"
	if readOnly {
		option = "--bind-ro"
	}
	b, err := parseBind(spec, readOnly)
	if err != nil {
		return Bind{}, &ValueError{Option: option, Value: spec, Err: err}
	}
	return b, nil
}

func parseBind(spec string, readOnly bool) (Bind, error) {
	if spec == "" {
		return Bind{}, errors.New("empty (want SRC[:DST[:OPTS]])")
	}
	src, rest, more, err := nextBindWord(spec)
	if err != nil {
		return Bind{}, err
	}
	var dst, opts string
	if more {
		dst, opts, _, err = nextBindWord(rest)
		if err != nil {
			return Bind{}, err
		}
	}
	switch {
	case src == "":
		return Bind{}, errors.New("empty source (a temporary directory, as in nspawn) is not supported")
	case strings.HasPrefix(src, "+"):
		return Bind{}, fmt.Errorf("source %q: paths relative to the image root (\"+\") are not supported", src)
	}
	if err := checkPath("source", src); err != nil {
		return Bind{}, err
	}
	if dst == "" {
		dst = src
	}
	if err := checkPath("target", dst); err != nil {
		return Bind{}, err
	}
	b := Bind{Source: src, Target: dst, ReadOnly: readOnly, Recursive: true}
	for _, o := range strings.Split(opts, ",") {
		switch o {
		case "":
		case "rbind":
			b.Recursive = true
		case "norbind":
			b.Recursive = false
		case "idmap", "noidmap", "rootidmap", "owneridmap":
			return Bind{}, fmt.Errorf("option %q is not supported (sockspawn does not ID-map bind mounts)", o)
		case "ro", "rw":
			return Bind{}, fmt.Errorf("%q is not a bind option: use --bind-ro (BindReadOnly= in a file) for a read-only mount", o)
		default:
			return Bind{}, fmt.Errorf("unknown option %q (use rbind or norbind)", o)
		}
	}
	return b, nil
}

// nextBindWord reads s up to the first unescaped ':' and returns the
// unescaped word, the raw remainder after the ':', and whether there was a
// ':' at all.
func nextBindWord(s string) (word, rest string, more bool, err error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 == len(s) {
				return "", "", false, errors.New("ends with a lone backslash")
			}
			i++
			b.WriteByte(s[i])
		case ':':
			return b.String(), s[i+1:], true, nil
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), "", false, nil
}

// FormatBind writes b back in the syntax ParseBind reads (the key or flag
// chooses read-only). Default parts are left out: "SRC" when DST is SRC,
// and no OPTS for rbind, unless the result would end in whitespace, which
// a unit file would trim: then OPTS is written ("SRC::rbind").
func FormatBind(b Bind) string {
	src, dst := escapeBindPath(b.Source), escapeBindPath(b.Target)
	var s string
	switch {
	case !b.Recursive:
		return src + ":" + dst + ":norbind"
	case b.Source == b.Target:
		s = src
	default:
		s = src + ":" + dst
	}
	if strings.TrimRightFunc(s, unicode.IsSpace) != s {
		if b.Source == b.Target {
			return src + "::rbind"
		}
		return s + ":rbind"
	}
	return s
}

func escapeBindPath(p string) string {
	return strings.NewReplacer(`\`, `\\`, `:`, `\:`).Replace(p)
}
