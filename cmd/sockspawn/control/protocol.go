package control

import (
	"encoding/json"
	"fmt"
	"path/filepath"
)

// Dir holds the control sockets of running machines.
var Dir = "/run/sockspawn/control"

// Path is machine's control socket.
func Path(machine string) string { return filepath.Join(Dir, machine) }

// The operations of a Request.
const (
	OpTTY  = "tty"  // hand over the master of one of the extra ttys
	OpBind = "bind" // attach the tree (the fd sent along) in the container
)

// Request is what a client asks, once per connection.
type Request struct {
	Op string `json:"op"`
	// OpTTY: the tty ("pts/N"), or empty for the first one no client
	// holds.
	TTY string `json:"tty,omitempty"`
	// OpBind: the source as the user named it (for messages), the
	// target inside the container, and the options.
	Source   string `json:"source,omitempty"`
	Target   string `json:"target,omitempty"`
	ReadOnly bool   `json:"read_only,omitempty"`
	MkDir    bool   `json:"mkdir,omitempty"`
}

// Reply answers a Request: Error says why it failed; TTY names the tty
// whose master comes with it.
type Reply struct {
	Error string `json:"error,omitempty"`
	TTY   string `json:"tty,omitempty"`
}

// maxMessage bounds a request or reply (paths are at most 4096 bytes).
const maxMessage = 16 << 10

// decodeRequest parses a request and checks what can be checked without
// the machine.
func decodeRequest(b []byte) (Request, error) {
	var r Request
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("malformed request: %w", err)
	}
	switch r.Op {
	case OpTTY, OpBind:
	default:
		return r, fmt.Errorf("unknown operation %q", r.Op)
	}
	return r, nil
}
