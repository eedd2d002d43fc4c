//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hostResult is what one command run in a namespace printed and returned.
type hostResult struct {
	Stdout, Stderr string
	Status         int   // exit status; -1 if it did not run to its end
	Err            error // why it did not run, or its exit error
}

func (r hostResult) String() string {
	return fmt.Sprintf("exit status %d; stdout:\n%s\nstderr:\n%s", r.Status, tail(r.Stdout, 30), tail(r.Stderr, 15))
}

// hostExec runs args in every namespace of process pid (nsenter -a) and
// returns what it printed.
func hostExec(pid int, timeout time.Duration, args ...string) hostResult {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"-t", strconv.Itoa(pid), "-a"}, args...)...)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0", "SYSTEMD_LOG_COLOR=0"}
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := hostResult{Stdout: stdout.String(), Stderr: stderr.String(), Status: -1, Err: err}
	if cmd.ProcessState != nil {
		r.Status = cmd.ProcessState.ExitCode()
	}
	if ctx.Err() != nil {
		r.Status = -1
		r.Err = fmt.Errorf("nsenter %s: timed out after %v", strings.Join(args, " "), timeout)
	}
	return r
}

// Run runs a command in the nspawn host.
func (h *nspawnHost) Run(t *testing.T, timeout time.Duration, args ...string) hostResult {
	t.Helper()
	return hostExec(h.Leader, timeout, args...)
}

// Must runs a command in the nspawn host and fails t unless it succeeds.
func (h *nspawnHost) Must(t *testing.T, args ...string) string {
	t.Helper()
	r := h.Run(t, 60*time.Second, args...)
	if r.Status != 0 {
		t.Fatalf("in the nspawn host: %s: %s", strings.Join(args, " "), r)
	}
	return r.Stdout
}

// Path is where the test sees path of the nspawn host's file system.
func (h *nspawnHost) Path(path string) string {
	return filepath.Join(fmt.Sprintf("/proc/%d/root", h.Leader), path)
}

// WriteFile writes a file in the nspawn host, creating its directory.
func (h *nspawnHost) WriteFile(t *testing.T, path, text string) {
	t.Helper()
	p := h.Path(path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Show returns properties of a unit of the nspawn host (systemctl show).
func (h *nspawnHost) Show(t *testing.T, unit string, props ...string) map[string]string {
	t.Helper()
	args := []string{"systemctl", "show", unit}
	for _, p := range props {
		args = append(args, "-p", p)
	}
	out := h.Must(t, args...)
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

// JournalCursor returns the cursor of the nspawn host's journal now, for
// reading what comes after it.
func (h *nspawnHost) JournalCursor(t *testing.T) string {
	t.Helper()
	out := h.Must(t, "journalctl", "-n", "0", "--show-cursor", "--no-pager")
	for _, l := range strings.Split(out, "\n") {
		if c, ok := strings.CutPrefix(l, "-- cursor: "); ok {
			return strings.TrimSpace(c)
		}
	}
	return ""
}

// Journal returns the messages of unit after cursor ("" for all), without
// the colours the container's console adds: those logged by the unit's
// processes (_SYSTEMD_UNIT=) and by systemd about it (UNIT=).
//
// The entries are picked here, not with `journalctl -u`: systemd 252's
// journal reader, given a match and a starting point (--after-cursor, or
// the tail as `systemctl status -n` uses), now and then skips the first
// entry of a field value, which is often sockspawn's only line.
func (h *nspawnHost) Journal(t *testing.T, unit, cursor string) string {
	t.Helper()
	args := []string{"journalctl", "--no-pager", "-o", "json", "--output-fields=MESSAGE,_SYSTEMD_UNIT,UNIT"}
	if cursor != "" {
		args = append(args, "--after-cursor="+cursor)
	}
	r := h.Run(t, 30*time.Second, args...)
	if r.Status != 0 {
		t.Errorf("in the nspawn host: %s: %s", strings.Join(args, " "), r)
	}
	var b strings.Builder
	for _, l := range strings.Split(r.Stdout, "\n") {
		var e map[string]json.RawMessage
		if json.Unmarshal([]byte(l), &e) != nil {
			continue
		}
		if hostJournalField(e["_SYSTEMD_UNIT"]) != unit && hostJournalField(e["UNIT"]) != unit {
			continue
		}
		b.WriteString(hostStripANSI(hostJournalField(e["MESSAGE"])))
		b.WriteByte('\n')
	}
	return b.String()
}

// hostJournalField decodes a field of `journalctl -o json`: a string, or
// an array of bytes when the value is not printable UTF-8 (a console line
// with colours).
func hostJournalField(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var bs []byte
	var ints []int
	if json.Unmarshal(raw, &ints) == nil {
		for _, i := range ints {
			bs = append(bs, byte(i))
		}
	}
	return string(bs)
}

// hostStripANSI removes terminal escape sequences (CSI ... final byte).
func hostStripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
