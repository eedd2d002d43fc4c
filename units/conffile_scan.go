package units

import (
	"fmt"
	"strings"
	"unicode"
)

// maxLineLength is the longest physical line accepted. go-systemd's parser
// refuses lines of SYSTEMD_LINE_MAX (2048) bytes or more, without saying
// which; the scanner says so first, with the line number.
const maxLineLength = 2047

// assignment is one KEY=VALUE found by scanConfig.
type assignment struct {
	section string
	key     string
	line    int    // 1-based number of its first physical line
	value   string // filled in by readAssignments, from go-systemd's parser
}

// keyCheck says whether a file kind knows a section (key == "") or a key
// of a section: nil if it does, else an error without file or line, which
// the scanner adds. Asked about section "", it says where keys belong.
type keyCheck func(section, key string) error

// containerKeys is the keyCheck of a machine's configuration file.
func containerKeys(section, key string) error {
	if section == "" {
		return fmt.Errorf("put it under [%s]", ConfigSection)
	}
	if section != ConfigSection {
		return fmt.Errorf("unknown section [%s] (the only section is [%s])", section, ConfigSection)
	}
	if _, ok := configKeys[key]; key != "" && !ok {
		return fmt.Errorf("unknown key %q in [%s]", key, section)
	}
	return nil
}

// scanConfig walks data line by line the way go-systemd's unit lexer
// (unit.DeserializeOptions) does, and returns the assignments in order
// with their line numbers, which go-systemd does not report. It also
// rejects, naming the line, what the lexer would silently drop or
// misread, or report without a line:
//
//   - text before the first section header (the lexer skips it);
//   - a section header without ']' or with text after it;
//   - a line that is neither a header, a comment nor KEY=VALUE;
//   - a comment ending in '\' (the lexer would swallow the next line;
//     systemd never continues comments);
//   - a comment line inside a continued value (the lexer would make it
//     part of the value; systemd skips it);
//   - lines of 2048 bytes or more;
//   - sections and keys that check does not know.
//
// Continuations follow the lexer: a value line ending in '\' (after any
// '\r', which the lexer keeps on lines that end in "\r\n") continues on
// the next line, unless that line is blank, which ends the value.
func scanConfig(path string, data string, check keyCheck) ([]assignment, error) {
	var out []assignment
	lines := strings.Split(data, "\n")
	section := ""
	continued := 0 // line of the value being continued, or 0
	for i, line := range lines {
		n := i + 1
		if len(line) > maxLineLength {
			return nil, fmt.Errorf("%s:%d: line longer than %d bytes", path, n, maxLineLength)
		}
		if i == len(lines)-1 {
			line = strings.TrimSuffix(line, "\r") // the lexer strips '\r' only at the end of the file
		}
		trimmed := strings.TrimLeftFunc(line, unicode.IsSpace)
		if continued != 0 {
			switch {
			case trimmed == "":
				continued = 0
			case trimmed[0] == '#' || trimmed[0] == ';':
				return nil, fmt.Errorf("%s:%d: comment inside the value continued from line %d; move it out", path, n, continued)
			case !strings.HasSuffix(line, `\`):
				continued = 0
			}
			continue
		}
		if trimmed == "" {
			continue
		}
		switch trimmed[0] {
		case '#', ';':
			if strings.HasSuffix(strings.TrimSuffix(line, " "), `\`) {
				return nil, fmt.Errorf("%s:%d: comment ends with a backslash, which would continue it onto the next line; remove the backslash", path, n)
			}
		case '[':
			end := strings.IndexByte(trimmed, ']')
			if end < 0 {
				return nil, fmt.Errorf("%s:%d: section header without ']'", path, n)
			}
			if rest := strings.TrimSpace(trimmed[end+1:]); rest != "" {
				return nil, fmt.Errorf("%s:%d: unexpected %q after the section header", path, n, rest)
			}
			section = trimmed[1:end]
			if err := check(section, ""); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, n, err)
			}
		default:
			if section == "" {
				return nil, fmt.Errorf("%s:%d: %q is outside any section; %v", path, n, strings.TrimSpace(line), check("", ""))
			}
			eq := strings.IndexByte(trimmed, '=')
			if eq < 0 {
				return nil, fmt.Errorf("%s:%d: expected KEY=VALUE, a [Section] header or a comment, found %q", path, n, strings.TrimSpace(line))
			}
			key := strings.TrimSpace(trimmed[:eq])
			if key == "" {
				return nil, fmt.Errorf("%s:%d: assignment without a key, %q", path, n, strings.TrimSpace(line))
			}
			if err := check(section, key); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, n, err)
			}
			out = append(out, assignment{section: section, key: key, line: n})
			if strings.HasSuffix(line, `\`) {
				continued = n
			}
		}
	}
	return out, nil
}
