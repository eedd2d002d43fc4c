//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hostBusMonitor records, with `busctl monitor` on the nspawn host's
// system bus, what is said to and by systemd-machined: the calls of its
// Manager interface, its signals and its error replies. It shows that
// sockspawn itself called RegisterMachine and UnregisterMachine, which
// machinectl cannot: machined also forgets a machine whose unit stopped.
type hostBusMonitor struct {
	cmd    *exec.Cmd
	out    lockedBuffer // one JSON message a line (--json=short)
	errOut lockedBuffer
	exited chan struct{}
}

// hostBusMessage is one message as `busctl monitor --json=short` prints it.
type hostBusMessage struct {
	Type        string `json:"type"` // method_call, signal, error, ...
	Sender      string `json:"sender"`
	Destination string `json:"destination"`
	Cookie      uint64 `json:"cookie"`
	ReplyCookie uint64 `json:"reply_cookie"`
	Member      string `json:"member"`
	ErrorName   string `json:"error_name"`
	Payload     struct {
		Type string            `json:"type"`
		Data []json.RawMessage `json:"data"`
	} `json:"payload"`
}

func (m hostBusMessage) String() string {
	data := make([]string, len(m.Payload.Data))
	for i, d := range m.Payload.Data {
		data[i] = string(d)
	}
	name := m.Member
	if m.Type == "error" {
		name = m.ErrorName
	}
	return fmt.Sprintf("%s %s from %s (%s)", m.Type, name, m.Sender, strings.Join(data, ", "))
}

// MonitorMachined starts recording machined's bus traffic and returns once
// busctl listens. The recording stops at the end of t.
func (h *nspawnHost) MonitorMachined(t *testing.T) *hostBusMonitor {
	t.Helper()
	mon := &hostBusMonitor{exited: make(chan struct{})}
	mon.cmd = exec.Command("nsenter", "-t", strconv.Itoa(h.Leader), "-a",
		"busctl", "monitor", "--json=short",
		"--match=interface=org.freedesktop.machine1.Manager",
		"--match=type=error,sender=org.freedesktop.machine1")
	mon.cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0"}
	mon.cmd.Stdout, mon.cmd.Stderr = &mon.out, &mon.errOut
	if err := mon.cmd.Start(); err != nil {
		t.Fatalf("busctl monitor in the nspawn host: %v", err)
	}
	go func() {
		_ = mon.cmd.Wait()
		close(mon.exited)
	}()
	t.Cleanup(mon.stop)
	hostWaitUntil(t, 10*time.Second, "busctl monitor listening on the nspawn host's system bus", func() (bool, string) {
		select {
		case <-mon.exited:
			return false, "busctl monitor exited: " + mon.errOut.String()
		default:
		}
		return strings.Contains(mon.errOut.String(), "Monitoring bus message stream."), mon.errOut.String()
	})
	return mon
}

// stop ends busctl, which runs as nsenter's child in the nspawn host:
// killing nsenter alone would leave it behind.
func (mon *hostBusMonitor) stop() {
	for _, pid := range hostChildren(mon.cmd.Process.Pid) {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	select {
	case <-mon.exited:
	case <-time.After(5 * time.Second):
		_ = mon.cmd.Process.Kill()
		<-mon.exited
	}
}

// Messages returns what was recorded so far.
func (mon *hostBusMonitor) Messages() []hostBusMessage {
	var msgs []hostBusMessage
	for _, l := range strings.Split(mon.out.String(), "\n") {
		var m hostBusMessage
		if json.Unmarshal([]byte(l), &m) == nil && m.Type != "" {
			msgs = append(msgs, m)
		}
	}
	return msgs
}

// Find returns the recorded messages of type typ and member (or error
// name) member whose first argument is arg0.
func (mon *hostBusMonitor) Find(typ, member, arg0 string) []hostBusMessage {
	var found []hostBusMessage
	for _, m := range mon.Messages() {
		if m.Type != typ || (m.Member != member && m.ErrorName != member) {
			continue
		}
		var a string
		if len(m.Payload.Data) > 0 && json.Unmarshal(m.Payload.Data[0], &a) == nil && a == arg0 {
			found = append(found, m)
		}
	}
	return found
}

// Refused returns machined's error replies to the calls of member with
// first argument arg0 (sockspawn's RegisterMachine or UnregisterMachine;
// machinectl's own queries may fail, as GetMachineAddresses does for a
// machine without a network of its own).
func (mon *hostBusMonitor) Refused(member, arg0 string) []hostBusMessage {
	var found []hostBusMessage
	for _, call := range mon.Find("method_call", member, arg0) {
		for _, m := range mon.Messages() {
			if m.Type == "error" && m.Destination == call.Sender && m.ReplyCookie == call.Cookie {
				found = append(found, m)
			}
		}
	}
	return found
}

// Dump formats every recorded message, for failure messages.
func (mon *hostBusMonitor) Dump() string {
	var b strings.Builder
	for _, m := range mon.Messages() {
		b.WriteString(m.String())
		b.WriteByte('\n')
	}
	if b.Len() == 0 {
		return "(nothing)\n"
	}
	return b.String()
}
