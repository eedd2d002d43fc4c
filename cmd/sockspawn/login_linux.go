package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sockspawn/sockspawn/cmd/sockspawn/control"
	"github.com/sockspawn/sockspawn/units"
)

const loginUsage = `usage: sockspawn login NAME [TTY]

Attach this terminal to one of the extra ttys of the running machine NAME
(started with --ttys=N or TTYs=N), where a getty waits: TTY is its number
or name as $container_ttys has it (2 or pts/2); by default the first one
no other login holds. Press Ctrl-] three times within a second to detach;
the container goes on running, and so does what runs on the tty.`

// cmdLogin is `sockspawn login NAME [TTY]`.
func cmdLogin(args []string) int {
	var pos []string
	for _, a := range args {
		switch {
		case a == "-h" || a == "--help":
			fmt.Println(loginUsage)
			return 0
		case strings.HasPrefix(a, "-") && a != "-":
			return errorf("login: unknown option %s\n%s", a, loginUsage)
		}
		pos = append(pos, a)
	}
	if len(pos) < 1 || len(pos) > 2 {
		return errorf("login: want a machine name and at most a tty\n%s", loginUsage)
	}
	name := pos[0]
	if err := units.ValidMachineName(name); err != nil {
		return errorf("login: %v", err)
	}
	tty := ""
	if len(pos) == 2 {
		var err error
		if tty, err = parseTTYArg(pos[1]); err != nil {
			return errorf("login: %v", err)
		}
	}
	conn, r, master, err := control.Call(name, control.Request{Op: control.OpTTY, TTY: tty}, nil)
	if errors.Is(err, control.ErrNotRunning) {
		return errorf("login: no running machine %q", name)
	}
	if err != nil {
		return errorf("login: %v", err)
	}
	defer conn.Close()
	if master == nil {
		return errorf("login: machine %s sent no tty", name)
	}
	defer master.Close()
	fmt.Fprintf(os.Stderr, "Connected to machine %s on %s. Press ^] three times within 1s to detach.\n", name, r.TTY)
	why := relayLogin(master, conn, os.Stdin, os.Stdout)
	fmt.Fprintf(os.Stderr, "\r\n%s\n", why)
	return 0
}

// parseTTYArg takes "2" or "pts/2" and returns "pts/2".
func parseTTYArg(s string) (string, error) {
	n := strings.TrimPrefix(s, "pts/")
	if !isDigits(n) {
		return "", fmt.Errorf("invalid tty %q: want a number or pts/N", s)
	}
	return "pts/" + n, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != "" && len(s) < 8
}

// relayLogin copies between the user's terminal and the tty's master
// until the user detaches, the supervisor goes (the machine stopped) or a
// signal ends it, and says which. The terminal is raw meanwhile.
func relayLogin(master *os.File, conn *control.Conn, in, out *os.File) string {
	ended := make(chan string, 4)
	if restore, err := rawTerminal(in); err == nil {
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
		_ = conn.Wait()
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

// rawTerminal puts f into raw mode if it is a terminal, as a login session
// needs (every key goes to the container's tty, Ctrl-C included).
func rawTerminal(f *os.File) (restore func(), err error) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	raw := *old
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return nil, err
	}
	return func() { _ = unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}
