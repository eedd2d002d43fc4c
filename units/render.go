package units

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/sockspawn/sockspawn/templates"
)

// placeholder matches @NAME@ in a template.
var placeholder = regexp.MustCompile(`@([A-Z][A-Z0-9_]*)@`)

// RenderUnit returns the template name (one of templates.Names()) with
// every placeholder @NAME@ replaced by vars["NAME"]. A placeholder with no
// value is an error, so a template and its caller cannot drift apart
// silently. A value must be one line, except for a placeholder that stands
// alone on its line: that line is replaced by the value's lines (an empty
// value leaves an empty line). RenderUnit does not check values further:
// callers pass values they have validated (paths, names, addresses), since
// what is safe depends on the key they land in.
func RenderUnit(name string, vars map[string]string) ([]byte, error) {
	text, err := templates.Read(name)
	if err != nil {
		return nil, err
	}
	lines := bytes.SplitAfter(text, []byte("\n"))
	var out bytes.Buffer
	for i, line := range lines {
		body := bytes.TrimSuffix(line, []byte("\n"))
		if m := placeholder.FindSubmatch(body); m != nil && len(m[0]) == len(body) {
			v, ok := vars[string(m[1])]
			if !ok {
				return nil, fmt.Errorf("template %s:%d: no value for %s", name, i+1, m[0])
			}
			out.WriteString(strings.TrimSuffix(v, "\n"))
			out.Write(line[len(body):])
			continue
		}
		var missing error
		rendered := placeholder.ReplaceAllFunc(line, func(p []byte) []byte {
			v, ok := vars[string(p[1:len(p)-1])]
			switch {
			case !ok:
				missing = fmt.Errorf("template %s:%d: no value for %s", name, i+1, p)
			case strings.ContainsAny(v, "\r\n"):
				missing = fmt.Errorf("template %s:%d: the value of %s is more than one line", name, i+1, p)
			}
			return []byte(v)
		})
		if missing != nil {
			return nil, missing
		}
		out.Write(rendered)
	}
	return out.Bytes(), nil
}
