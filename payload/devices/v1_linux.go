package devices

import (
	"fmt"
	"os"
	"path/filepath"
)

// AttachV1 applies rules with the cgroup v1 devices controller, for a host
// without the unified hierarchy: it writes "a" to devices.deny in
// devicesCgroupDir (deny everything, forget earlier exceptions), then each
// rule to devices.allow, one write per rule as the controller wants.
//
// The kernel refuses to change a cgroup's default to deny once it has
// children, and to allow a device its parent does not allow: call it on a new
// cgroup, before anything runs in it.
//
// The controller reads a line starting with 'a' as "all devices", whatever
// follows; a rule of type 'a' is therefore written as one 'c' and one 'b'
// line.
func AttachV1(devicesCgroupDir string, rules []Rule) error {
	var lines []string
	for i, r := range rules {
		if err := r.validate(); err != nil {
			return fmt.Errorf("devices cgroup %s: device rule %d (%s): %w", devicesCgroupDir, i, r, err)
		}
		lines = append(lines, v1Lines(r)...)
	}
	if err := writeEach(filepath.Join(devicesCgroupDir, "devices.deny"), []string{"a"}); err != nil {
		return fmt.Errorf("devices cgroup %s: %w", devicesCgroupDir, err)
	}
	if err := writeEach(filepath.Join(devicesCgroupDir, "devices.allow"), lines); err != nil {
		return fmt.Errorf("devices cgroup %s: %w", devicesCgroupDir, err)
	}
	return nil
}

// v1Lines returns the devices.allow lines of a valid rule.
func v1Lines(r Rule) []string {
	if r.Type != 'a' {
		return []string{r.String()}
	}
	c, b := r, r
	c.Type, b.Type = 'c', 'b'
	return []string{c.String(), b.String()}
}

// writeEach writes each line to the control file with a write of its own.
func writeEach(path string, lines []string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	for _, line := range lines {
		if _, err := f.WriteString(line + "\n"); err != nil {
			f.Close()
			return fmt.Errorf("rule %q: %w", line, err)
		}
	}
	return f.Close()
}
