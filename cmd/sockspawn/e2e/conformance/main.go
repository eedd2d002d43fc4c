//go:build linux

// Command conformance is a container payload that checks, from inside, the
// environment sockspawn promises a container (issue 2, after systemd's
// Container Interface): namespaces, hostname, the API file systems and
// their read-only state, /dev, the environment of PID 1, /run/host,
// credentials and capabilities.
//
// It runs either as the container's own init (no systemd needed):
//
//	sockspawn run -D / --volatile=yes -M NAME --console=pipe \
//	    --bind-ro=DIR:/opt/conf -- /opt/conf/conformance -expect=BASE64JSON
//
// or entered into a booted container with `nsenter -t LEADER -a`. It prints
// one line per check, "ok NAME" or "FAIL NAME: detail", "info ..." lines
// for values the caller compares across runs, then "done N checks, M
// failed", and exits 1 if any check failed.
//
// With "notify" in the expectations it then exercises the notify relay:
// it sends datagrams the supervisor must drop (malformed, oversized,
// carrying an fd, from a child process), then "STATUS=conformance
// finished ..." and "READY=1", and waits for SIGTERM.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// expect is what the test tells the payload about the container it should
// find itself in. The e2e test has its own copy of this type.
type expect struct {
	Machine         string            `json:"machine"`
	UUID            string            `json:"uuid,omitempty"` // empty: any valid UUID
	OSReleaseSHA256 string            `json:"os_release_sha256"`
	Credentials     map[string]string `json:"credentials,omitempty"` // nil: none given
	Console         string            `json:"console"`               // "pty" or "pipe"
	PID             int               `json:"pid"`                   // our own pid; 0: do not check (entered)
	HostNS          map[string]string `json:"host_ns"`               // e.g. "mnt" -> "mnt:[4026531840]"
	Notify          bool              `json:"notify"`
	Entered         bool              `json:"entered"` // entered with nsenter into a booted systemd
}

// report collects the results of the checks.
type report struct {
	checks, failed int
}

func (r *report) ok(name string) {
	r.checks++
	fmt.Printf("ok %s\n", name)
}

func (r *report) fail(name, format string, args ...any) {
	r.checks++
	r.failed++
	fmt.Printf("FAIL %s: %s\n", name, fmt.Sprintf(format, args...))
}

// check records ok when err is nil, else a failure with err as detail.
func (r *report) check(name string, err error) {
	if err != nil {
		r.fail(name, "%v", err)
		return
	}
	r.ok(name)
}

func info(format string, args ...any) { fmt.Printf("info "+format+"\n", args...) }

func main() {
	// First of all, before anything opens a file: which fds we were given.
	fds := openFDs()

	if len(os.Args) == 3 && os.Args[1] == "-notify-child" {
		if err := sendNotify(os.Args[2], -1); err != nil {
			fmt.Fprintf(os.Stderr, "conformance child: %v\n", err)
			os.Exit(1)
		}
		return
	}
	e, err := parseExpect(os.Args[1:])
	if err != nil {
		fmt.Printf("FAIL arguments: %v\n", err)
		os.Exit(2)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)

	r := &report{}
	checkProcess(r, e, fds)
	checkNamespaces(r, e)
	checkHostname(r, e)
	mi, err := readMountinfo("/proc/self/mountinfo")
	if err != nil {
		r.fail("mountinfo", "%v", err)
	} else {
		checkMounts(r, mi)
		checkCgroup(r)
		checkDev(r, e, mi)
	}
	env := checkEnvironment(r, e)
	checkRunHost(r, e, env)
	checkCredentials(r, e, env)
	checkCapabilities(r)
	if e.Notify {
		exerciseRelay(r)
	}
	fmt.Printf("done %d checks, %d failed\n", r.checks, r.failed)
	status := 0
	if r.failed > 0 {
		status = 1
	}
	if e.Notify {
		if err := sendNotify(fmt.Sprintf("STATUS=conformance finished: %d checks, %d failed", r.checks, r.failed), -1); err != nil {
			fmt.Printf("FAIL notify-status: %v\n", err)
			status = 1
		}
		if err := sendNotify("READY=1", -1); err != nil {
			fmt.Printf("FAIL notify-ready: %v\n", err)
			status = 1
		}
		s := <-sigs
		fmt.Printf("info stopped by %v\n", s)
	}
	os.Exit(status)
}

func parseExpect(args []string) (expect, error) {
	var e expect
	const prefix = "-expect="
	if len(args) != 1 || len(args[0]) <= len(prefix) || args[0][:len(prefix)] != prefix {
		return e, fmt.Errorf("usage: conformance -expect=BASE64JSON, got %q", args)
	}
	b, err := base64.StdEncoding.DecodeString(args[0][len(prefix):])
	if err != nil {
		return e, fmt.Errorf("-expect: %w", err)
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("-expect: %w", err)
	}
	return e, nil
}

// openFDs returns the open file descriptors below 1024, found without
// opening anything (reading /proc/self/fd would add one).
func openFDs() []int {
	var fds []int
	for fd := 0; fd < 1024; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
			fds = append(fds, fd)
		}
	}
	return fds
}
