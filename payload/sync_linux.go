package payload

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// The sync socket is a SOCK_SEQPACKET socketpair between the supervisor and
// the init stage. Every message is one JSON-encoded syncMsg, optionally
// carrying fds:
//
//	supervisor -> stage   {"type":"plan","plan":...}
//	supervisor -> stage   {"type":"cgroups"}        with LateCgroupNS, once the stage is in its v1 cgroups
//	stage -> supervisor   {"type":"fds"}            + [notify socket, console master, console peer]
//	supervisor -> stage   {"type":"go"}             with Hold, when the payload may start
//	stage -> supervisor   {"type":"exec"}           just before execve
//	stage -> supervisor   {"type":"error","step":"...","error":"..."}
//
// The stage's end is close-on-exec: end of file after "exec" means the
// payload was executed; end of file before it means the stage died.

const maxSyncMsg = 32 << 20 // the plan carries credentials; bounded by the supervisor

type syncMsg struct {
	Type  string `json:"type"`
	Plan  *Plan  `json:"plan,omitempty"`
	Step  string `json:"step,omitempty"`
	Error string `json:"error,omitempty"`
}

// StageError is a failure the init stage reported, naming the step.
type StageError struct {
	Step string
	Err  string
}

func (e *StageError) Error() string { return e.Step + ": " + e.Err }

func newSyncPair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	for _, fd := range fds {
		// Plans with credentials can be large; root may raise the limit.
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, maxSyncMsg+4096)
	}
	return os.NewFile(uintptr(fds[0]), "sync"), os.NewFile(uintptr(fds[1]), "sync"), nil
}

func sendMsg(f *os.File, m syncMsg, fds ...int) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if len(b) > maxSyncMsg {
		return fmt.Errorf("sync message of %d bytes is too large (credentials too big?)", len(b))
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if err := unix.Sendmsg(int(f.Fd()), b, oob, nil, 0); err != nil {
		return os.NewSyscallError("sendmsg(sync)", err)
	}
	return nil
}

// recvMsg reads one message; io.EOF-like end is reported as (syncMsg{}, nil, nil)
// with Type "".
func recvMsg(f *os.File) (syncMsg, []*os.File, error) {
	oob := make([]byte, unix.CmsgSpace(8*4))
	reset := false
	// again says whether a failed recvmsg is to be tried again: after
	// EINTR, and after the first ECONNRESET. The peer closing with a
	// message of ours unread (the stage failed and exited) is reported
	// once, by whichever recvmsg comes next, the peek or the read,
	// before the messages the peer sent, which are still queued.
	again := func(err error) bool {
		switch {
		case errors.Is(err, unix.EINTR):
			return true
		case errors.Is(err, unix.ECONNRESET) && !reset:
			reset = true
			return true
		}
		return false
	}
	for {
		// Peek with MSG_TRUNC for the real size, so a small message
		// costs a small buffer.
		size, _, _, _, err := unix.Recvmsg(int(f.Fd()), make([]byte, 1), nil, unix.MSG_PEEK|unix.MSG_TRUNC)
		if again(err) {
			continue
		}
		if err != nil {
			return syncMsg{}, nil, os.NewSyscallError("recvmsg(sync)", err)
		}
		if size > maxSyncMsg {
			size = maxSyncMsg
		}
		buf := make([]byte, size+1)
		n, oobn, flags, _, err := unix.Recvmsg(int(f.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
		if again(err) {
			continue
		}
		if err != nil {
			return syncMsg{}, nil, os.NewSyscallError("recvmsg(sync)", err)
		}
		var files []*os.File
		if oobn > 0 {
			cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn])
			if err != nil {
				return syncMsg{}, nil, err
			}
			for _, c := range cmsgs {
				fds, err := unix.ParseUnixRights(&c)
				if err != nil {
					continue
				}
				for _, fd := range fds {
					files = append(files, os.NewFile(uintptr(fd), "received"))
				}
			}
		}
		if n == 0 {
			return syncMsg{}, files, nil
		}
		if flags&unix.MSG_TRUNC != 0 {
			return syncMsg{}, files, fmt.Errorf("sync message truncated")
		}
		var m syncMsg
		if err := json.Unmarshal(buf[:n], &m); err != nil {
			return syncMsg{}, files, fmt.Errorf("bad sync message: %w", err)
		}
		return m, files, nil
	}
}
