package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/sockspawn/sockspawn/cmd/sockspawn/console"
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
	why := console.RelayLogin(master, conn.Wait, os.Stdin, os.Stdout)
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
