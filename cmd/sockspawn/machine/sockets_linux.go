package machine

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/sockspawn/sockspawn/activation"
	"github.com/sockspawn/sockspawn/internal/systemd"
)

// listenSockets are the sockets handed to the container's init: either
// passed to sockspawn by systemd, or bound by sockspawn itself (--listen).
type listenSockets struct {
	files []*os.File
	names []string
	own   bool // bound by sockspawn: boot on the first connection
}

// gatherSockets takes over the sockets systemd passed (LISTEN_FDS), which
// must all be sockets, or binds the --listen addresses. The LISTEN_*
// variables are removed from sockspawn's environment either way.
func gatherSockets(listen []string) (*listenSockets, error) {
	inh, err := activation.Inherit(os.LookupEnv, false)
	activation.UnsetListenEnv()
	if err != nil {
		return nil, err
	}
	s := &listenSockets{files: inh.Files, names: inh.Names}
	if !inh.Named {
		s.names = nil // LISTEN_FDNAMES was unset: it stays unset
	}
	if len(listen) == 0 {
		return s, nil
	}
	if len(s.files) > 0 {
		s.close()
		return nil, fmt.Errorf("--listen cannot be combined with sockets passed by the service manager (LISTEN_FDS=%d)", len(inh.Files))
	}
	s.own = true
	for _, spec := range listen {
		ls, err := systemd.ParseListen(spec)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("--listen=%s: %w", spec, err)
		}
		f, err := activation.OpenListen(ls)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("--listen=%s: %w", spec, err)
		}
		s.files = append(s.files, f)
		s.names = append(s.names, ls.Name)
	}
	return s, nil
}

// close closes sockspawn's copies of the sockets.
func (s *listenSockets) close() {
	if s == nil {
		return
	}
	for _, f := range s.files {
		f.Close()
	}
	s.files = nil
}

// waitFirstConnection sleeps until one of sockspawn's own sockets has a
// pending connection. stopped is true when a termination signal came
// first.
func waitFirstConnection(s *listenSockets, sigs <-chan os.Signal, quiet bool) (stopped bool, err error) {
	if !quiet {
		fmt.Fprintf(os.Stderr, "sockspawn: waiting for the first connection on %d socket(s)\n", len(s.files))
	}
	stop := make(chan struct{})
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		for {
			select {
			case sig := <-sigs:
				if !isStopRequest(sig) {
					continue
				}
				close(stop)
				return
			case <-finished:
				return
			}
		}
	}()
	err = activation.WaitReadable(s.files, stop)
	if errors.Is(err, activation.ErrStopped) {
		return true, nil
	}
	return false, err
}

// isStopRequest says whether sig, one of those a run listens for, asks
// for the machine to stop: any but a console resize or an operator's
// freeze or thaw.
func isStopRequest(sig os.Signal) bool { return !sigWinch(sig) && !operatorSignal(sig) }

// sigWinch is true for the signal that only resizes the console.
func sigWinch(s os.Signal) bool { return s == syscall.SIGWINCH }
