package units

import (
	"fmt"
	"reflect"
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
	// Field by field in the order of Config, each element with the first
	// key of its field that claims it.
	for _, name := range FieldNames {
		keys := fieldKeys[name]
		if len(keys) == 0 || name == "Args" {
			continue
		}
		v := field(&c, name)
		n := 1
		switch {
		case v.Kind() == reflect.Slice:
			n = v.Len()
		case v.Kind() == reflect.Pointer && v.IsNil():
			n = 0
		case v.IsZero() && len(s[name]) == 0:
			n = 0
		}
		for i := range n {
			for _, o := range keys {
				if value, ok := o.format(&c, i); ok {
					put(o.Key, name, i, value)
					break
				}
			}
		}
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
