package console

import (
	"errors"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// RelayLogin copies between the user's terminal (in, out) and the master
// of a container's tty until the user detaches, hangup returns (the
// supervisor hung up: the machine stopped) or a signal ends it, and says
// which. The terminal is raw meanwhile.
func RelayLogin(master *os.File, hangup func() error, in, out *os.File) string {
	ended := make(chan string, 4)
	if restore, err := RawTerminal(in); err == nil {
		defer restore()
	}
	resize := func() {
		if ws, err := unix.IoctlGetWinsize(int(in.Fd()), unix.TIOCGWINSZ); err == nil {
			_ = unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws)
		}
	}
	resize()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGWINCH, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)

	go func() { // the tty's output
		buf := make([]byte, 32<<10)
		for {
			n, err := master.Read(buf)
			if n > 0 {
				if _, werr := out.Write(buf[:n]); werr != nil {
					ended <- "Output closed."
					return
				}
			}
			if errors.Is(err, syscall.EIO) {
				// Nothing has the tty open: its getty is restarting
				// after a logout, or the container is going.
				time.Sleep(100 * time.Millisecond)
				continue
			}
			if err != nil {
				ended <- "The tty is gone."
				return
			}
		}
	}()
	go func() { // the user's keys
		var d detacher
		buf := make([]byte, 4096)
		for {
			n, err := in.Read(buf)
			if n > 0 {
				if _, werr := master.Write(buf[:n]); werr != nil && !errors.Is(werr, syscall.EIO) {
					ended <- "The tty is gone."
					return
				}
				if d.feed(buf[:n], time.Now()) {
					ended <- "Detached."
					return
				}
			}
			if err == io.EOF {
				return // no more input; the output still comes
			}
			if err != nil {
				ended <- "Input closed."
				return
			}
		}
	}()
	go func() { // the supervisor says nothing; it hangs up when the machine stops
		_ = hangup()
		ended <- "The machine stopped."
	}()
	for {
		select {
		case why := <-ended:
			return why
		case s := <-sigs:
			if s == syscall.SIGWINCH {
				resize()
				continue
			}
			return "Terminated by " + unix.SignalName(s.(syscall.Signal)) + "."
		}
	}
}
