package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// kind is what a measured container runs.
type kind int

const (
	trivial   kind = iota // the bench binary's trivial-init as PID 1
	boot                  // the image's systemd, -b
	activated             // the image's systemd, -b, behind systemd-socket-activate
	idleKind              // the image's systemd, -b, with --listen and an idle action (idle.go)
)

// machine is the name every measured container gets.
const machine = "bench"

// payloadDir is where the bench binary appears in a trivial container.
const payloadDir = "/opt/bench"

// tool is one container manager under test.
type tool struct {
	name string // as printed
	path string // the executable
	// args are its arguments for a container of kind k with dir bound
	// in: the bench binary's directory (trivial), or the socket units
	// for the container's /etc/systemd/system (activated).
	args func(k kind, dir string) []string
	env  []string // added to its environment
}

// isSockspawn: t is a build of sockspawn (sockspawn, or sockspawn-b of
// an A/B run), which takes sockspawn's command line.
func (t tool) isSockspawn() bool { return strings.HasPrefix(t.name, "sockspawn") }

// sockspawnTool runs `sockspawn run`.
func sockspawnTool(path string) tool {
	return tool{name: "sockspawn", path: path, args: func(k kind, dir string) []string {
		a := []string{"run", "-q", "-D", "/", "--volatile=yes", "-M", machine, "--notify-ready=yes"}
		switch k {
		case boot:
			return append(a, "-b", "--console=passive", "--", "systemd.firstboot=off")
		case activated:
			return append(a, "-b", "--console=passive", "--bind-ro="+dir+":"+unitsTarget, "--", "systemd.firstboot=off")
		}
		return append(a, "--console=pipe", "--bind-ro="+dir+":"+payloadDir,
			"--", payloadDir+"/bench", "trivial-init")
	}}
}

// nspawnTool runs systemd-nspawn with what a host without systemd as PID 1
// and without machined needs (--register=no, --keep-unit) and without
// linking the host's journal into the container (sockspawn does not).
// Without -b it is told to stop the payload with SIGTERM, not SIGKILL.
func nspawnTool(path string) tool {
	return tool{name: "systemd-nspawn", path: path, args: func(k kind, dir string) []string {
		a := []string{"-q", "-D", "/", "--volatile=yes", "-M", machine, "--register=no", "--keep-unit",
			"--link-journal=no", "--notify-ready=yes"}
		switch k {
		case boot:
			return append(a, "-b", "--console=passive", "--", "systemd.firstboot=off")
		case activated:
			return append(a, "-b", "--console=passive", "--bind-ro="+dir+":"+unitsTarget, "--", "systemd.firstboot=off")
		}
		return append(a, "--console=pipe", "--kill-signal=SIGTERM", "--bind-ro="+dir+":"+payloadDir,
			"--", payloadDir+"/bench", "trivial-init")
	}}
}

// commandLine is how t is started for kind k, for the report; wrap is
// the command line of what execs it, if anything.
func (t tool) commandLine(k kind, dir string, wrap ...string) string {
	return strings.Join(append(wrap, filepath.Base(t.path)), " ") + " " + strings.Join(t.args(k, dir), " ")
}

// run is one container started by the bench, with its supervisor as the
// bench's child.
type run struct {
	tool    tool
	cmd     *exec.Cmd
	notify  *receiver
	logPath string
	started time.Time
	exited  chan struct{} // closed when the supervisor has been reaped
	leader  atomic.Int64  // the container's init on the host, once known
	notices atomic.Int64  // notify datagrams after READY=1
	// initGone is, once stop has returned, the time from SIGTERM until
	// the container's init exited; 0 when its PID was not known.
	initGone time.Duration
}

// active holds the runs not yet reaped, for the interrupt handler.
var active struct {
	sync.Mutex
	runs   map[*run]bool
	closed bool // interrupted: start no more
}

// closeActive makes startRun refuse to start more containers.
func closeActive() {
	active.Lock()
	active.closed = true
	active.Unlock()
}

// startRun starts a container of kind k with t and dir bound in (see
// tool.args), its $NOTIFY_SOCKET bound in work, its output going to a log
// file in work. With act, t is started by systemd-socket-activate, which
// execs it on the first connection: the process started is the
// supervisor to be.
func startRun(t tool, k kind, work, dir string, seq int, act *activation) (*run, error) {
	return startArgv(t, work, seq, func(notifyPath string) []string {
		argv := append([]string{t.path}, t.args(k, dir)...)
		if act != nil {
			argv = append(act.argv(notifyPath), argv...)
		}
		return argv
	})
}

// startArgv is startRun with the command line made by argv from the
// notify socket's path.
func startArgv(t tool, work string, seq int, argv func(notifyPath string) []string) (*run, error) {
	notify, err := listenNotify(filepath.Join(work, fmt.Sprintf("notify-%d", seq)))
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(work, fmt.Sprintf("run-%d.log", seq))
	logFile, err := os.Create(logPath)
	if err != nil {
		notify.Close()
		return nil, err
	}
	defer logFile.Close()
	a := argv(notify.path)
	cmd := exec.Command(a[0], a[1:]...)
	cmd.Env = append(append(cleanEnv(os.Environ()), t.env...), "NOTIFY_SOCKET="+notify.path)
	cmd.Stdout, cmd.Stderr = logFile, logFile // files, so Wait returns at the exit itself
	// Its own process group: a ^C at the terminal reaches only the bench,
	// which stops the container itself.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	r := &run{tool: t, cmd: cmd, notify: notify, logPath: logPath, exited: make(chan struct{})}
	active.Lock()
	defer active.Unlock()
	if active.closed {
		notify.Close()
		return nil, errors.New("interrupted")
	}
	if active.runs == nil {
		active.runs = make(map[*run]bool)
	}
	r.started = time.Now()
	if err := cmd.Start(); err != nil {
		notify.Close()
		return nil, fmt.Errorf("start %s: %w", t.path, err)
	}
	active.runs[r] = true
	go func() {
		_ = cmd.Wait()
		active.Lock()
		delete(active.runs, r)
		active.Unlock()
		close(r.exited)
	}()
	return r, nil
}

// cleanEnv drops what belongs to the bench's own service manager.
func cleanEnv(env []string) []string {
	var out []string
	for _, e := range env {
		k, _, _ := strings.Cut(e, "=")
		switch k {
		case "NOTIFY_SOCKET", "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "WATCHDOG_PID", "WATCHDOG_USEC":
			continue
		}
		out = append(out, e)
	}
	return out
}

// waitReady waits for READY=1 and returns the time from the start. It
// learns the container's init from X_SOCKSPAWN_LEADER_PID or
// X_NSPAWN_LEADER_PID on the way. From then on, later datagrams are
// counted, not kept.
func (r *run) waitReady(timeout time.Duration) (time.Duration, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case n, ok := <-r.notify.C:
			if !ok {
				return 0, errors.New("notify socket closed")
			}
			r.learnLeader(n)
			if n.has("READY=1") {
				go func() {
					for n := range r.notify.C {
						r.learnLeader(n)
						r.notices.Add(1)
					}
				}()
				return n.at.Sub(r.started), nil
			}
		case <-r.exited:
			return 0, fmt.Errorf("%s exited with status %d before READY=1", r.tool.name, r.status())
		case <-deadline.C:
			return 0, fmt.Errorf("no READY=1 from %s within %v", r.tool.name, timeout)
		}
	}
}

func (r *run) learnLeader(n notice) {
	for _, k := range []string{"X_SOCKSPAWN_LEADER_PID", "X_NSPAWN_LEADER_PID"} {
		if p, err := strconv.Atoi(n.value(k)); err == nil && p > 0 {
			r.leader.Store(int64(p))
		}
	}
}

// pid is the supervisor's process ID.
func (r *run) pid() int { return r.cmd.Process.Pid }

// status is the supervisor's exit status once reaped: its exit code, or
// 128+N if signal N killed it.
func (r *run) status() int {
	ps := r.cmd.ProcessState
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// stop sends SIGTERM to the supervisor and returns the time until it
// exited, and its exit status. If it has not exited within timeout, the
// container is killed and an error returned.
func (r *run) stop(timeout time.Duration) (time.Duration, int, error) {
	var gone <-chan time.Time
	if leader := int(r.leader.Load()); leader > 0 {
		gone = watchExit(leader)
	}
	t0 := time.Now()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, 0, fmt.Errorf("SIGTERM to %s: %w", r.tool.name, err)
	}
	select {
	case <-r.exited:
		took := time.Since(t0)
		if gone != nil {
			select {
			case t := <-gone:
				r.initGone = t.Sub(t0)
			case <-time.After(time.Second): // the init outlived its manager
			}
		}
		return took, r.status(), nil
	case <-time.After(timeout):
		r.kill()
		return 0, 0, fmt.Errorf("%s did not exit within %v of SIGTERM; killed", r.tool.name, timeout)
	}
}

// kill ends the container at once: SIGKILL to its init (which ends its
// whole PID namespace) while that is still the supervisor's child, then
// to the supervisor, and reaps it. It is a no-op once the supervisor has
// exited.
// fail kills the run and returns err with the last lines of the tool's
// output.
func (r *run) fail(t tool, err error) error {
	r.kill()
	if tail := r.logTail(15); tail != "" {
		err = fmt.Errorf("%w\n    --- %s output ---\n    %s", err, t.name, strings.ReplaceAll(tail, "\n", "\n    "))
	}
	return err
}

func (r *run) kill() {
	select {
	case <-r.exited:
		return
	default:
	}
	leader := int(r.leader.Load())
	if leader == 0 {
		leader = containerChild(r.pid())
	}
	if leader > 0 && parentPID(leader) == r.pid() {
		_ = syscall.Kill(leader, syscall.SIGKILL)
	}
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-r.exited:
	case <-time.After(30 * time.Second):
		fmt.Fprintf(os.Stderr, "bench: %s (pid %d) did not die of SIGKILL\n", r.tool.name, r.pid())
	}
}

// close releases the notify socket; the run must have exited.
func (r *run) close() {
	r.notify.Close()
	_ = os.Remove(r.logPath)
}

// waitLog waits until the supervisor's output (or, for an activated run,
// systemd-socket-activate's) holds substr.
func (r *run) waitLog(substr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if b, err := os.ReadFile(r.logPath); err == nil && bytes.Contains(b, []byte(substr)) {
			return nil
		}
		select {
		case <-r.exited:
			return fmt.Errorf("%s exited with status %d before its output said %q", filepath.Base(r.cmd.Path), r.status(), substr)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not say %q within %v", filepath.Base(r.cmd.Path), substr, timeout)
		}
	}
}

// logTail is the end of the supervisor's output.
func (r *run) logTail(lines int) string {
	b, err := os.ReadFile(r.logPath)
	if err != nil {
		return ""
	}
	ls := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return string(bytes.Join(ls, []byte("\n")))
}

// killActive ends every container still running, all at once, for an
// interrupted bench.
func killActive() {
	active.Lock()
	runs := make([]*run, 0, len(active.runs))
	for r := range active.runs {
		runs = append(runs, r)
	}
	active.Unlock()
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := r.stop(20 * time.Second); err != nil {
				fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			}
		}()
	}
	wg.Wait()
}
