package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sockspawn/sockspawn/units"
)

func helpText() string {
	var b bytes.Buffer
	writeHelp(&b)
	return b.String()
}

func manText() string {
	var b bytes.Buffer
	writeMan(&b, "1.2-test")
	return b.String()
}

// unman undoes writeMan's escapes, for searching.
func unman(s string) string {
	s = strings.ReplaceAll(s, `\-`, "-")
	s = strings.ReplaceAll(s, `\&`, "")
	s = strings.ReplaceAll(s, `\e`, `\`)
	return s
}

func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

var helpSections = []string{"NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "ENVIRONMENT", "EXIT STATUS", "EXAMPLES", "SEE ALSO"}

func TestHelpListsEveryOption(t *testing.T) {
	help := helpText()
	flat := squash(help)
	for _, o := range options() {
		sig := optionSignature(o)
		if !strings.Contains(help, "\n    "+sig+"\n") {
			t.Errorf("--help has no line for %s", sig)
		}
		if !strings.Contains(flat, squash(o.Help)) {
			t.Errorf("--help lost words of the help of --%s", o.Flag)
		}
		if !strings.Contains(help, "\nOPTIONS: "+strings.ToUpper(o.Section)+"\n") {
			t.Errorf("--help has no heading for section %s", o.Section)
		}
	}
	for _, s := range helpSections {
		if !strings.Contains(help, "\n"+s+"\n") && !strings.HasPrefix(help, s+"\n") {
			t.Errorf("--help has no %s section", s)
		}
	}
}

func TestOptionSignature(t *testing.T) {
	tests := []struct {
		o    option
		want string
	}{
		{option{Short: 'D', Flag: "directory", Arg: units.RequiredArg, Meta: "PATH"}, "-D, --directory=PATH"},
		{option{Flag: "volatile", Arg: units.OptionalArg, Meta: "MODE"}, "--volatile[=MODE]"},
		{option{Short: 'b', Flag: "boot"}, "-b, --boot"},
		{option{Flag: "version"}, "--version"},
	}
	for _, tt := range tests {
		if got := optionSignature(tt.o); got != tt.want {
			t.Errorf("optionSignature(%+v) = %q, want %q", tt.o, got, tt.want)
		}
	}
}

func TestHelpFitsIn80Columns(t *testing.T) {
	for i, l := range strings.Split(helpText(), "\n") {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("--help line %d has %d columns: %q", i+1, n, l)
		}
		if strings.ContainsAny(l, "\t") || strings.TrimRight(l, " ") != l {
			t.Errorf("--help line %d has a tab or trailing space: %q", i+1, l)
		}
	}
}

func TestWriteParagraphs(t *testing.T) {
	tests := []struct {
		text, indent, want string
	}{
		{"", "  ", ""},
		{"one two", "  ", "  one two\n"},
		{"a\n\nb", "", "a\n\nb\n"},
		{strings.Repeat("word ", 20), "    ",
			"    word word word word word word word word word word word word word word word\n    word word word word word\n"},
		// A word longer than the line is kept whole, on its own line.
		{"x " + strings.Repeat("y", 90) + " z", "", "x\n" + strings.Repeat("y", 90) + "\nz\n"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		writeParagraphs(&b, tt.text, tt.indent)
		if b.String() != tt.want {
			t.Errorf("writeParagraphs(%q, %q) =\n%q, want\n%q", tt.text, tt.indent, b.String(), tt.want)
		}
		for _, l := range strings.Split(b.String(), "\n") {
			if len(l) > 80 && !strings.Contains(l, strings.Repeat("y", 90)) {
				t.Errorf("line over 80 columns: %q", l)
			}
		}
	}
}

func TestManPage(t *testing.T) {
	man := manText()
	lines := strings.Split(strings.TrimSuffix(man, "\n"), "\n")
	if !regexp.MustCompile(`^\.TH SOCKSPAWN 1 "[^"]*" "sockspawn 1\.2\\-test" "sockspawn"$`).MatchString(lines[0]) {
		t.Errorf("first line = %q, want a .TH header with the version", lines[0])
	}
	for _, s := range append(helpSections, "OPTIONS") {
		if !strings.Contains(man, "\n.SH "+s+"\n") {
			t.Errorf("man page has no .SH %s", s)
		}
	}
	flat := squash(unman(man))
	for _, o := range options() {
		if !strings.Contains(man, "\n.SS "+o.Section+"\n") {
			t.Errorf("man page has no .SS %s", o.Section)
		}
		if !strings.Contains(unman(man), "\n.B "+optionSignature(o)+"\n") {
			t.Errorf("man page has no entry for %s", optionSignature(o))
		}
		if !strings.Contains(flat, squash(o.Help)) {
			t.Errorf("man page lost the help of --%s", o.Flag)
		}
	}
	// Every line that starts with a control character is a request we
	// meant; text that starts with '.' or '\'' must have been escaped.
	known := regexp.MustCompile(`^\.(TH|SH|SS|PP|TP|B|BR|nf|fi|ad|nh)( |$)`)
	for i, l := range lines {
		if (strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'")) && !known.MatchString(l) {
			t.Errorf("man line %d is an unintended request: %q", i+1, l)
		}
	}
	// An unescaped "-" renders as a hyphen, not a minus: flags would not
	// copy-paste. Outside requests' names, every '-' must be "\-".
	for i, l := range lines {
		if strings.Contains(strings.ReplaceAll(l, `\-`, ""), "-") {
			t.Errorf("man line %d has an unescaped '-': %q", i+1, l)
		}
	}
}

func TestManPageGroffClean(t *testing.T) {
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("groff not installed")
	}
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z")
	cmd.Stdin = strings.NewReader(manText())
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Errorf("groff -ww: %v\n%s", err, out)
	}
}

// TestManPageRendersIn80Columns renders the man page as man(1) shows it
// in an 80-column terminal: no line may be wider, and EXIT STATUS and
// SEE ALSO must read as sections, not as one overlong line each.
func TestManPageRendersIn80Columns(t *testing.T) {
	manBin, err := exec.LookPath("man")
	if err != nil {
		if os.Getenv("SOCKSPAWN_E2E") == "1" {
			t.Fatal("man not installed (man-db; .ci/run installs it)")
		}
		t.Skip("man not installed")
	}
	page := filepath.Join(t.TempDir(), "sockspawn.1")
	if err := os.WriteFile(page, []byte(manText()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(manBin, "-l", page)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat", "LANG=C.UTF-8", "MAN_KEEP_FORMATTING="}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("man -l: %v\n%s", err, stderr.String())
	}
	// Without a terminal man leaves no overstrikes; drop any anyway.
	text := regexp.MustCompile(".\b").ReplaceAllString(string(out), "")
	sections := map[string][]string{}
	section := ""
	for i, l := range strings.Split(text, "\n") {
		if w := utf8.RuneCountInString(l); w > 80 {
			t.Errorf("rendered line %d is %d columns wide: %q", i+1, w, l)
		}
		switch {
		case l != "" && l[0] != ' ':
			section = l
		case strings.TrimSpace(l) != "":
			sections[section] = append(sections[section], strings.TrimSpace(l))
		}
	}
	for _, s := range []string{"EXIT STATUS", "SEE ALSO"} {
		if len(sections[s]) < 2 {
			t.Errorf("section %s renders as %d lines, want a list: %q", s, len(sections[s]), sections[s])
		}
	}
	if see := strings.Join(sections["SEE ALSO"], " "); !strings.Contains(see, "systemd-nspawn(1)") || !strings.Contains(see, "systemd.socket(5)") {
		t.Errorf("SEE ALSO lost its references (or hyphenated them): %q", see)
	}
	if ex := strings.Join(sections["EXIT STATUS"], " "); !strings.Contains(ex, "133") || !strings.Contains(ex, "128+N") {
		t.Errorf("EXIT STATUS lost its statuses: %q", ex)
	}
}

// TestNoArguments: sockspawn alone prints a short usage, not the manual,
// and exits 2, as a usage error.
func TestNoArguments(t *testing.T) {
	if status := dispatch(nil); status != 2 {
		t.Errorf("sockspawn without arguments: exit status %d, want 2", status)
	}
	var b bytes.Buffer
	writeUsage(&b)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) > 10 || !strings.HasPrefix(lines[0], "Usage: sockspawn run ") || !strings.Contains(b.String(), "--help") {
		t.Errorf("usage is not short, or does not say where the manual is:\n%s", b.String())
	}
	for _, l := range lines {
		if len(l) > 80 {
			t.Errorf("usage line over 80 columns: %q", l)
		}
	}
}

// TestUnknownCommand: the error about an unknown command lists every
// command --help documents.
func TestUnknownCommand(t *testing.T) {
	if os.Getenv("SOCKSPAWN_TEST_UNKNOWN_COMMAND") == "1" {
		os.Exit(dispatch([]string{"no-such-command"}))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestUnknownCommand$")
	cmd.Env = append(os.Environ(), "SOCKSPAWN_TEST_UNKNOWN_COMMAND=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("sockspawn no-such-command: %v, want exit status 1", err)
	}
	want := `sockspawn: unknown command "no-such-command" (commands: run, boot, new, cat, check, freeze, thaw, bind, login; see sockspawn --help)` + "\n"
	if stderr.String() != want {
		t.Errorf("stderr:\n%q\nwant\n%q", stderr.String(), want)
	}
}
