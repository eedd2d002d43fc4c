package main

import (
	"fmt"
	"io"
	"strings"
)

// The help text and the man page are rendered from the same pieces: the
// option table in flags.go and the sections below.

const synopsis = `sockspawn run [OPTIONS] [COMMAND [ARGS...]]
sockspawn run [OPTIONS] -b [INIT-ARGS...]
sockspawn boot NAME [OPTIONS]
sockspawn new NAME [--image DIR] [--listen ADDRESS]... [--force]
sockspawn cat NAME
sockspawn check NAME`

const description = `sockspawn runs an OS container, usually with systemd inside, as an ordinary systemd service. It follows systemd's Container Interface: the container gets private mount, PID, UTS, IPC and cgroup namespaces, read-only /sys and /proc/sys, a private /dev with a pty as /dev/console, /run/host with the host's os-release, a notify socket and credentials, and the environment variables systemd expects of a container manager.

sockspawn stays on the host as the container's supervisor. It hands listening sockets it received from systemd (socket activation) to the container's init as fds 3 and up with LISTEN_FDS, LISTEN_PID=1 and LISTEN_FDNAMES; forwards READY=1, STATUS=, STOPPING=1 and RELOADING=1 from the container's /run/host/notify to its own $NOTIFY_SOCKET, so "systemctl start" returns when the container has booted; and turns SIGTERM into a clean shutdown (SIGRTMIN+3 once systemd inside has announced it handles it).`

var commands = [][2]string{
	{"run [OPTIONS] [ARGS...]", "Run a container from the options given. With -b, ARGS are passed to the image's init; without, ARGS are the command to run as PID 1 (default: /bin/sh). Options end at the first argument that is not an option, or at \"--\"."},
	{"boot NAME [OPTIONS]", "Run the machine NAME from its configuration file (/etc/sockspawn/NAME.conf, /run/sockspawn/NAME.conf or /usr/lib/sockspawn/NAME.conf, the first found; image /var/lib/machines/NAME by default), laid over its systemd-nspawn settings file, NAME.nspawn, found as systemd-nspawn finds it (see --settings). Options given on the command line override both. This is what container@NAME.service runs."},
	{"new NAME [--image DIR] [--listen ADDRESS]... [--force]", "Write /etc/sockspawn/NAME.conf and, with --listen, a drop-in for container@NAME.socket, and print the systemctl commands that start it. Existing files are kept unless --force is given."},
	{"cat NAME", "Print the effective configuration of machine NAME, each value with where it came from."},
	{"check NAME", "Check machine NAME's name, configuration file and image as boot would, and exit 0 if it could boot, or 1 with the culprit named. container@.socket runs it before binding any socket."},
}

var environment = [][2]string{
	{"LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES", "Sockets passed by systemd (socket activation). When LISTEN_PID is sockspawn's own PID, fds 3 and up are checked to be sockets and handed to the container's init in the same order, with LISTEN_PID=1 and the names kept."},
	{"NOTIFY_SOCKET", "Where sockspawn reports readiness and status (sd_notify). Set by systemd for Type=notify services."},
	{"CREDENTIALS_DIRECTORY", "Credentials of sockspawn's own service; all of them are passed on to the container."},
	{"SOCKSPAWN_CLONE_INTO_CGROUP", "0: do not start the container straight in its cgroup with clone3(CLONE_INTO_CGROUP), but move it there after the clone, as sockspawn does by itself on kernels before 5.7."},
	{"SOCKSPAWN_CGROUP_WARMER", "0: do not keep the kernel's cgroup moves on their fast path while the container boots and stops. By default, where no cgroup hierarchy is mounted with favordynmods, sockspawn moves itself into its own cgroup every 3 ms during those phases (at most 5 s each, one sockspawn on the host at a time), so that the moves of the container's systemd do not each wait for an RCU grace period."},
	{"SYSTEMD_LOG_LEVEL, SOCKSPAWN_LOG_LEVEL", "debug: report how long after start each step of starting the container was reached, every notify datagram the relay drops (from a process other than the container's init, oversized, carrying fds, malformed), and the counts at exit."},
}

const exitStatus = `The container's own exit status: the payload's exit code, 0 after the container powered off or halted, 133 after it asked for a reboot (so a unit can restart it with RestartForceExitStatus=133), 128+N if its init was killed by signal N. 1 when sockspawn itself fails, with a one-line error naming the culprit on standard error.`

const examples = `Boot this machine's own OS, stateless:
    sockspawn run -D / --volatile=yes -M demo -b
Boot an image:
    sockspawn run -D /var/lib/machines/web -b
Run one command with a read-only bind:
    sockspawn run -D /srv/img --bind-ro=/srv/site -- ls /srv/site
Boot on the first connection to port 8080:
    sockspawn run -D / --volatile=yes -M web -b --listen=8080`

const seeAlso = `systemd-nspawn(1), systemd.service(5), systemd.socket(5), sd_listen_fds(3), sd_notify(3), machinectl(1)`

// writeHelp renders the --help text.
func writeHelp(w io.Writer) {
	fmt.Fprintf(w, "NAME\n    sockspawn - run OS containers as systemd services, socket-activated\n\nSYNOPSIS\n")
	for _, l := range strings.Split(synopsis, "\n") {
		fmt.Fprintf(w, "    %s\n", l)
	}
	fmt.Fprintf(w, "\nDESCRIPTION\n")
	writeParagraphs(w, description, "    ")
	fmt.Fprintf(w, "\nCOMMANDS\n")
	for _, c := range commands {
		fmt.Fprintf(w, "    %s\n", c[0])
		writeParagraphs(w, c[1], "        ")
	}
	section := ""
	for _, o := range options() {
		if o.section != section {
			section = o.section
			fmt.Fprintf(w, "\nOPTIONS: %s\n", strings.ToUpper(section))
		}
		fmt.Fprintf(w, "    %s\n", optionSignature(o))
		writeParagraphs(w, o.help, "        ")
	}
	fmt.Fprintf(w, "\nENVIRONMENT\n")
	for _, e := range environment {
		fmt.Fprintf(w, "    %s\n", e[0])
		writeParagraphs(w, e[1], "        ")
	}
	for _, s := range [][2]string{{"EXIT STATUS", exitStatus}, {"EXAMPLES", examples}, {"SEE ALSO", seeAlso}} {
		fmt.Fprintf(w, "\n%s\n", s[0])
		if s[0] == "EXIT STATUS" || s[0] == "SEE ALSO" {
			writeParagraphs(w, s[1], "    ")
			continue
		}
		for _, l := range strings.Split(s[1], "\n") {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
}

// optionSignature renders "-D, --directory=PATH".
func optionSignature(o option) string {
	var b strings.Builder
	if o.short != 0 {
		fmt.Fprintf(&b, "-%c, ", o.short)
	}
	b.WriteString("--" + o.long)
	switch o.arg {
	case requiredArg:
		b.WriteString("=" + o.meta)
	case optionalArg:
		b.WriteString("[=" + o.meta + "]")
	}
	return b.String()
}

// writeParagraphs wraps text at 80 columns with the given indent; blank
// lines separate paragraphs.
func writeParagraphs(w io.Writer, text, indent string) {
	for i, para := range strings.Split(text, "\n\n") {
		if i > 0 {
			fmt.Fprintln(w)
		}
		line := indent
		for _, word := range strings.Fields(para) {
			if len(line) > len(indent) && len(line)+1+len(word) > 80 {
				fmt.Fprintln(w, line)
				line = indent
			}
			if len(line) > len(indent) {
				line += " "
			}
			line += word
		}
		if len(line) > len(indent) {
			fmt.Fprintln(w, line)
		}
	}
}

// writeMan renders the same content as a sockspawn(1) man page in troff.
func writeMan(w io.Writer, version string) {
	esc := func(s string) string {
		s = strings.ReplaceAll(s, `\`, `\e`)
		s = strings.ReplaceAll(s, "-", `\-`)
		if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
			s = `\&` + s
		}
		return s
	}
	fmt.Fprintf(w, ".TH SOCKSPAWN 1 \"\" \"sockspawn %s\" \"sockspawn\"\n", esc(version))
	fmt.Fprintf(w, ".SH NAME\nsockspawn \\- run OS containers as systemd services, socket\\-activated\n.SH SYNOPSIS\n.nf\n")
	for _, l := range strings.Split(synopsis, "\n") {
		fmt.Fprintln(w, esc(l))
	}
	fmt.Fprintf(w, ".fi\n.SH DESCRIPTION\n")
	for _, p := range strings.Split(description, "\n\n") {
		fmt.Fprintf(w, ".PP\n%s\n", esc(p))
	}
	fmt.Fprintf(w, ".SH COMMANDS\n")
	for _, c := range commands {
		fmt.Fprintf(w, ".TP\n.B %s\n%s\n", esc(c[0]), esc(c[1]))
	}
	fmt.Fprintf(w, ".SH OPTIONS\n")
	section := ""
	for _, o := range options() {
		if o.section != section {
			section = o.section
			fmt.Fprintf(w, ".SS %s\n", esc(section))
		}
		fmt.Fprintf(w, ".TP\n.B %s\n%s\n", esc(optionSignature(o)), esc(o.help))
	}
	fmt.Fprintf(w, ".SH ENVIRONMENT\n")
	for _, e := range environment {
		fmt.Fprintf(w, ".TP\n.B %s\n%s\n", esc(e[0]), esc(e[1]))
	}
	for _, s := range [][2]string{{"EXIT STATUS", exitStatus}, {"EXAMPLES", examples}, {"SEE ALSO", seeAlso}} {
		fmt.Fprintf(w, ".SH %s\n.nf\n", s[0])
		for _, l := range strings.Split(s[1], "\n") {
			fmt.Fprintln(w, esc(l))
		}
		fmt.Fprintf(w, ".fi\n")
	}
}

// writeFlagTable renders the options as the Markdown table of README.md
// (between its "flags:begin" and "flags:end" markers; `make readme`
// rewrites it, and a test keeps the two the same).
func writeFlagTable(w io.Writer) {
	fmt.Fprintln(w, "| Flag | Meaning |")
	fmt.Fprintln(w, "| --- | --- |")
	for _, o := range options() {
		help := strings.ReplaceAll(o.help, "|", `\|`)
		fmt.Fprintf(w, "| `%s` | %s |\n", optionSignature(o), help)
	}
}
