package units

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// ArgKind says whether an option's flag takes a value.
type ArgKind int

// The kinds of flag.
const (
	NoArg       ArgKind = iota // --boot: stands for the key's value Implied
	RequiredArg                // --opt=VALUE or --opt VALUE (-oVALUE or -o VALUE)
	OptionalArg                // --opt=VALUE, or --opt alone for Implied
)

// Option is one option of a machine, declared once: its flag of `sockspawn
// run` and `boot`, its key of NAME.conf and of NAME.nspawn, its parser,
// how `sockspawn cat` writes it and how the skeleton of `sockspawn new`
// shows it. The flags, --help, the man page, README's table, the
// configuration file, Merge, Describe and the skeleton all come from
// Options.
type Option struct {
	// Key is the [Container] key of NAME.conf; "" for -M (the name is the
	// file's) and -q (how sockspawn talks, not what the machine is). Two
	// options may share a key: the second is another flag for it (-P).
	Key string
	// Field is the Config field the option sets, by name (Merge, Sources).
	Field string
	// Parse sets Field from a value (appending, for a list). Every option
	// with a key of its own has one; a second flag of a key uses the key's.
	Parse func(c *Config, v string) error
	// Format writes element i of Field (0 if it is no list) as Key's value
	// for Describe; ok is false if that element is another key's (a
	// read-only bind is BindReadOnly='s, not Bind='s). nil: the field's
	// value as ParseBool, ParseTimespan or a string reads it.
	Format func(c *Config, i int) (v string, ok bool)

	Flag    string  // the long flag, without "--"; "" for Parameters= (the arguments)
	Short   byte    // the short flag, or 0
	Arg     ArgKind // whether the flag takes a value
	Meta    string  // the value's name in the help, e.g. PATH
	Implied string  // the value a flag without one stands for (NoArg, OptionalArg)
	// FlagValue, if set, turns a flag's value into the key's: -D takes a
	// relative path from the current directory, which NAME.conf has not.
	FlagValue func(v string) (string, error)
	// KeyValue, if set, turns a value of the key in NAME.conf into the
	// flag's: a quoted Environment="A=x " keeps what unit-file syntax
	// would trim. Format writes what it reads.
	KeyValue func(v string) (string, error)
	// NamesValue: Parse's errors already name the value and what it is,
	// and a flag shows them as they are.
	NamesValue bool
	Section    string // the help's section
	Help       string // one paragraph; wrapped when rendered

	// New: `sockspawn new` takes the flag too, and writes the key set.
	New bool

	// Nspawn is the key of systemd.nspawn(5) with the same meaning, if any.
	Nspawn NspawnKey

	// Example is the value of the commented line "#KEY=EXAMPLE" of the
	// configuration `sockspawn new` writes ("" for none; @MACHINE@ is the
	// machine's name); Note, a comment before it.
	Example, Note string
}

// NspawnKey is how a key of a .nspawn file maps onto an Option's key, so
// that both files parse each value the same way.
type NspawnKey struct {
	Name       string // SECTION.KEY, as Exec.Boot; "" for none
	Privileged bool   // ignored in an untrusted file, as nspawn does
	// Words: the value is a white-space separated list (nspawn's
	// config_parse_strv); each word is applied alone.
	Words bool
	// Commas: a white-space separated list that the Option's key takes
	// comma-separated (capabilities).
	Commas bool
}

// Options returns the table of options, in the order of --help.
func Options() []Option {
	return append([]Option(nil), options...)
}

// FieldNames lists the Config fields by name, in the order of the
// struct: the keys of Merge's set and of Sources.
var FieldNames []string

// configKeys maps each key of the [Container] section to its option.
var configKeys = map[string]*Option{}

// nspawnKeys maps the keys of systemd.nspawn(5) that sockspawn supports,
// as SECTION.KEY, to their options.
var nspawnKeys = map[string]*Option{}

// fieldKeys lists, for each Config field, the options with a key of
// their own that set it, in the table's order: what Describe writes it as.
var fieldKeys = map[string][]*Option{}

// configType is Config's type, whose fields Merge and Sources name.
var configType = reflect.TypeFor[Config]()

func init() {
	for i := range configType.NumField() {
		FieldNames = append(FieldNames, configType.Field(i).Name)
	}
	fields := map[string]bool{}
	for i := range options {
		o := &options[i]
		if first, ok := configKeys[o.Key]; ok && o.Parse == nil {
			// A second flag of a key (-P): the key's field and parser.
			o.Field, o.Parse = first.Field, first.Parse
		}
		if _, ok := configType.FieldByName(o.Field); !ok || o.Parse == nil {
			panic(fmt.Sprintf("units: option %s/--%s: no Config field %q or no parser", o.Key, o.Flag, o.Field))
		}
		fields[o.Field] = true
		if o.Key != "" {
			if _, ok := configKeys[o.Key]; !ok {
				configKeys[o.Key] = o
				fieldKeys[o.Field] = append(fieldKeys[o.Field], o)
			}
		}
		if o.Nspawn.Name != "" {
			nspawnKeys[o.Nspawn.Name] = o
		}
	}
	if len(fields) != len(FieldNames) {
		panic(fmt.Sprintf("units: %d Config fields, of which options set %d", len(FieldNames), len(fields)))
	}
}

// field returns the field of c named name, panicking on a name that is not
// one of FieldNames: a programming error.
func field(c *Config, name string) reflect.Value {
	v := reflect.ValueOf(c).Elem().FieldByName(name)
	if !v.IsValid() {
		panic(fmt.Sprintf("units: no Config field %q", name))
	}
	return v
}

// fieldLen returns the length of a list field, or -1 for a single-valued one.
func fieldLen(c *Config, name string) int {
	if v := field(c, name); v.Kind() == reflect.Slice {
		return v.Len()
	}
	return -1
}

// resetField sets a field back to its default, its zero value: what an
// empty value of its key does.
func resetField(c *Config, name string) {
	field(c, name).SetZero()
}

// SetFlag sets o's field from the value of its flag, shown as the user
// wrote the flag (--bind, -U): the value Implied for a flag given without
// one, FlagValue applied, then Parse. Errors name the flag.
func (o *Option) SetFlag(c *Config, shown, v string) error {
	if o.Arg == NoArg || (o.Arg == OptionalArg && v == "") {
		v = o.Implied
	}
	given := v
	var err error
	if o.FlagValue != nil {
		v, err = o.FlagValue(v)
	}
	if err == nil {
		err = o.Parse(c, v)
	}
	var ve *ValueError
	switch {
	case err == nil:
		return nil
	case o.NamesValue:
		return err
	case errors.As(err, &ve):
		ve.Option = shown
		return ve
	}
	return &ValueError{Option: shown, Value: given, Err: err}
}

// format returns element i of o's field as o's key writes it.
func (o *Option) format(c *Config, i int) (string, bool) {
	if o.Format != nil {
		return o.Format(c, i)
	}
	v := field(c, o.Field)
	if v.Kind() == reflect.Slice {
		v = v.Index(i)
	}
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	switch {
	case v.Type() == reflect.TypeFor[time.Duration]():
		return FormatTimespan(time.Duration(v.Int())), true
	case v.Kind() == reflect.Bool:
		return FormatBool(v.Bool()), true
	case v.Kind() == reflect.Int:
		return fmt.Sprint(v.Int()), true
	case v.Kind() == reflect.String:
		return v.String(), true
	}
	panic(fmt.Sprintf("units: option %s: no Format for a %s", o.Key, v.Type()))
}

func appendBind(readOnly bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := ParseBind(v, readOnly)
		c.Binds = append(c.Binds, b)
		return err
	}
}

func formatBind(readOnly bool) func(*Config, int) (string, bool) {
	return func(c *Config, i int) (string, bool) {
		return FormatBind(c.Binds[i]), c.Binds[i].ReadOnly == readOnly
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

func formatCredential(load bool) func(*Config, int) (string, bool) {
	return func(c *Config, i int) (string, bool) {
		return FormatCredential(c.Credentials[i]), (c.Credentials[i].Path != "") == load
	}
}

// ConfigExamples returns the commented examples of the configuration
// `sockspawn new` writes for machine name: "#KEY=EXAMPLE" for each option
// with an Example, after its Note.
func ConfigExamples(name string) string {
	var b strings.Builder
	for _, o := range options {
		if o.Example == "" {
			continue
		}
		for _, l := range strings.Split(o.Note, "\n") {
			if l != "" {
				b.WriteString("# " + l + "\n")
			}
		}
		b.WriteString("#" + o.Key + "=" + strings.ReplaceAll(o.Example, "@MACHINE@", name) + "\n")
	}
	return b.String()
}
