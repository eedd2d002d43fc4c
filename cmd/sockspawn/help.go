package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/sockspawn/sockspawn/units"
)

// The help text and the man page are rendered from the same pieces: the
// option table in flags.go and the sections below.

const synopsis = `sockspawn run [OPTIONS] [COMMAND [ARGS...]]
sockspawn run [OPTIONS] -b [INIT-ARGS...]
sockspawn boot NAME [OPTIONS]
sockspawn new NAME [--image DIR] [--listen ADDRESS]... [--force]
sockspawn cat NAME
sockspawn check NAME
sockspawn freeze|thaw NAME
sockspawn login NAME [TTY]
sockspawn bind NAME SRC [DST] [--read-only] [--mkdir]`

const description = `sockspawn runs an OS container, usually with systemd inside, as an ordinary systemd service. It follows systemd's Container Interface: the container gets private mount, PID, UTS, IPC and cgroup namespaces, read-only /sys and /proc/sys, a private /dev with a pty as /dev/console, /run/host with the host's os-release, a notify socket and credentials, and the environment variables systemd expects of a container manager.

sockspawn stays on the host as the container's supervisor. It hands listening sockets it received from systemd (socket activation) to the container's init as fds 3 and up with LISTEN_FDS, LISTEN_PID=1 and LISTEN_FDNAMES; forwards READY=1, STATUS=, STOPPING=1 and RELOADING=1 from the container's /run/host/notify to its own $NOTIFY_SOCKET, so "systemctl start" returns when the container has booted; and turns SIGTERM into a clean shutdown (SIGRTMIN+3 as soon as the init takes it, as its signal masks or its announcements show; a systemd init never gets SIGTERM as a stop, since for systemd it means re-execute).`

var commands = [][2]string{
	{"run [OPTIONS] [ARGS...]", "Run a container from the options given. With -b, ARGS are passed to the image's init; without, ARGS are the command to run as PID 1 (default: /bin/sh). Options end at the first argument that is not an option, or at \"--\"."},
	{"boot NAME [OPTIONS]", "Run the machine NAME from its configuration file (/etc/sockspawn/NAME.conf, /run/sockspawn/NAME.conf or /usr/lib/sockspawn/NAME.conf, the first found; image /var/lib/machines/NAME by default), laid over its systemd-nspawn settings file, NAME.nspawn, found as systemd-nspawn finds it (see --settings). Options given on the command line override both. This is what container@NAME.service runs."},
	{"new NAME [--image DIR] [--listen ADDRESS]... [--force]", "Write /etc/sockspawn/NAME.conf and, with --listen, a drop-in for container@NAME.socket, and print the systemctl commands that start it. " + newFlagsHelp() + " Existing files are kept unless --force is given."},
	{"cat NAME", "Print the effective configuration of machine NAME, each value with where it came from."},
	{"check NAME", "Check machine NAME's name, configuration file and image as boot would, and exit 0 if it could boot, or 1 with the culprit named. container@.socket runs it before binding any socket."},
	{"freeze NAME", "Freeze the running machine NAME now, as its idle action would (its configuration needs an IdleAction= and cgroup2): its next connection thaws it. A machine with a connection open or queued, or with /run/host/busy held inside, is not frozen; the command then fails and says so."},
	{"thaw NAME", "Thaw the frozen machine NAME now. Its idle period starts again."},
	{"bind NAME SRC [DST] [--read-only] [--mkdir]", "Bind-mount the host path SRC (with what is mounted below it) at DST (default: the same path) inside the running machine NAME, with the new mount API (open_tree, then move_mount in the container's mount namespace): nothing is mounted on the host, nothing passes through /run/host/incoming, and sockspawn never runs inside the container. DST is resolved inside the container, its symbolic links followed there and never on the host; it may not be the root, /proc, /sys, /dev or anything in /run/host. --read-only makes the bind read-only (recursively); --mkdir creates DST if it is missing. A second bind to the same DST replaces the first. Works with -U too (host files then show as nobody, as with --bind)."},
	{"login NAME [TTY]", "Attach this terminal to one of the extra ttys of the running machine NAME (--ttys=N), where systemd inside runs a getty: TTY is its number or name (2 or pts/2), by default the first one no other login holds. Ctrl-] pressed three times within a second detaches; the container goes on running."},
}

// newFlagsHelp says which flags of run `new` takes too, as "--idle-action
// ACTION and --idle-action-sec TIMESPAN write IdleAction= and
// IdleActionSec= (see --idle-action below)."
func newFlagsHelp() string {
	var flags, keys []string
	for _, o := range units.Options() {
		if o.New {
			flags = append(flags, "--"+o.Flag+" "+o.Meta)
			keys = append(keys, o.Key+"=")
		}
	}
	if len(flags) == 0 {
		return ""
	}
	and := func(l []string) string {
		if len(l) == 1 {
			return l[0]
		}
		return strings.Join(l[:len(l)-1], ", ") + " and " + l[len(l)-1]
	}
	return and(flags) + " write " + and(keys) + " (see " + strings.Fields(flags[0])[0] + " below)."
}

// commandNames lists the commands of the table above, for the error
// about an unknown one.
func commandNames() []string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i], _, _ = strings.Cut(c[0], " ")
	}
	return names
}

var environment = [][2]string{
	{"LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES", "Sockets passed by systemd (socket activation). When LISTEN_PID is sockspawn's own PID, fds 3 and up are checked to be sockets and handed to the container's init in the same order, with LISTEN_PID=1 and the names kept."},
	{"NOTIFY_SOCKET", "Where sockspawn reports readiness and status (sd_notify). Set by systemd for Type=notify services."},
	{"CREDENTIALS_DIRECTORY", "Credentials of sockspawn's own service; all of them are passed on to the container."},
	{"SOCKSPAWN_CLONE_INTO_CGROUP", "0: do not start the container straight in its cgroup with clone3(CLONE_INTO_CGROUP), but move it there after the clone, as sockspawn does by itself on kernels before 5.7."},
	{"SYSTEMD_LOG_LEVEL, SOCKSPAWN_LOG_LEVEL", "debug: report how long after start each step of starting the container was reached, every notify datagram the relay drops (from a process other than the container's init, oversized, carrying fds, malformed), and the counts at exit."},
}

// exitStatuses are the EXIT STATUS section: a status, what it means.
var exitStatuses = [][2]string{
	{"0", "The container powered off or halted, or its payload exited with 0."},
	{"133", "The container asked for a reboot (so that a unit can restart it with RestartForceExitStatus=133)."},
	{"128+N", "The container's init was killed by signal N."},
	{"1", "sockspawn itself failed, with a one-line error naming the culprit on standard error; or the payload exited with 1."},
	{"2", "sockspawn was called without arguments, and printed a short usage on standard error; or the payload exited with 2."},
	{"other", "The payload's own exit code."},
}

const examples = `Boot this machine's own OS, stateless:
    sockspawn run -D / --volatile=yes -M demo -b
Boot an image:
    sockspawn run -D /var/lib/machines/web -b
Run one command with a read-only bind:
    sockspawn run -D /srv/img --bind-ro=/srv/site -- ls /srv/site
Boot on the first connection to port 8080:
    sockspawn run -D / --volatile=yes -M web -b --listen=8080`

// seeAlso are the SEE ALSO section's man pages: name, section.
var seeAlso = [][2]string{
	{"systemd-nspawn", "1"}, {"machinectl", "1"}, {"systemd.service", "5"}, {"systemd.socket", "5"},
	{"systemd.exec", "5"}, {"sd_listen_fds", "3"}, {"sd_notify", "3"}, {"systemd-machined.service", "8"},
}

// writeUsage is what sockspawn without arguments prints: the synopsis and
// where the manual is.
func writeUsage(w io.Writer) {
	for i, l := range strings.Split(synopsis, "\n") {
		if i == 0 {
			fmt.Fprintf(w, "Usage: %s\n", l)
		} else {
			fmt.Fprintf(w, "       %s\n", l)
		}
	}
	fmt.Fprintln(w, "See sockspawn --help or man sockspawn.")
}

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
		if o.Section != section {
			section = o.Section
			fmt.Fprintf(w, "\nOPTIONS: %s\n", strings.ToUpper(section))
		}
		fmt.Fprintf(w, "    %s\n", optionSignature(o))
		writeParagraphs(w, o.Help, "        ")
	}
	fmt.Fprintf(w, "\nENVIRONMENT\n")
	for _, e := range environment {
		fmt.Fprintf(w, "    %s\n", e[0])
		writeParagraphs(w, e[1], "        ")
	}
	fmt.Fprintf(w, "\nEXIT STATUS\n")
	for _, e := range exitStatuses {
		fmt.Fprintf(w, "    %s\n", e[0])
		writeParagraphs(w, e[1], "        ")
	}
	fmt.Fprintf(w, "\nEXAMPLES\n")
	for _, l := range strings.Split(examples, "\n") {
		fmt.Fprintf(w, "    %s\n", l)
	}
	fmt.Fprintf(w, "\nSEE ALSO\n")
	refs := make([]string, len(seeAlso))
	for i, r := range seeAlso {
		refs[i] = r[0] + "(" + r[1] + ")"
	}
	writeParagraphs(w, strings.Join(refs, ", "), "    ")
}

// optionSignature renders "-D, --directory=PATH".
func optionSignature(o option) string {
	var b strings.Builder
	if o.Short != 0 {
		fmt.Fprintf(&b, "-%c, ", o.Short)
	}
	b.WriteString("--" + o.Flag)
	switch o.Arg {
	case units.RequiredArg:
		b.WriteString("=" + o.Meta)
	case units.OptionalArg:
		b.WriteString("[=" + o.Meta + "]")
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
	// Left-aligned and never hyphenated, as systemd's own pages: flags
	// and unit names must come out whole, to copy.
	fmt.Fprintf(w, ".ad l\n.nh\n")
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
		if o.Section != section {
			section = o.Section
			fmt.Fprintf(w, ".SS %s\n", esc(section))
		}
		fmt.Fprintf(w, ".TP\n.B %s\n%s\n", esc(optionSignature(o)), esc(o.Help))
	}
	fmt.Fprintf(w, ".SH ENVIRONMENT\n")
	for _, e := range environment {
		fmt.Fprintf(w, ".TP\n.B %s\n%s\n", esc(e[0]), esc(e[1]))
	}
	fmt.Fprintf(w, ".SH EXIT STATUS\n")
	for _, e := range exitStatuses {
		fmt.Fprintf(w, ".TP\n.B %s\n%s\n", esc(e[0]), esc(e[1]))
	}
	fmt.Fprintf(w, ".SH EXAMPLES\n.nf\n")
	for _, l := range strings.Split(examples, "\n") {
		fmt.Fprintln(w, esc(l))
	}
	fmt.Fprintf(w, ".fi\n.SH SEE ALSO\n")
	for i, r := range seeAlso {
		sep := ","
		if i == len(seeAlso)-1 {
			sep = ""
		}
		fmt.Fprintf(w, ".BR %s (%s)%s\n", esc(r[0]), r[1], sep)
	}
}

// writeFlagTable renders the options as the Markdown table of README.md
// (between its "flags:begin" and "flags:end" markers; `make readme`
// rewrites it, and a test keeps the two the same).
func writeFlagTable(w io.Writer) {
	fmt.Fprintln(w, "| Flag | Meaning |")
	fmt.Fprintln(w, "| --- | --- |")
	for _, o := range options() {
		help := strings.ReplaceAll(o.Help, "|", `\|`)
		fmt.Fprintf(w, "| `%s` | %s |\n", optionSignature(o), help)
	}
}
