package payload

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// Namespaces are the namespaces every container gets, created at clone
// time so that every thread of the stage is born inside them.
const Namespaces = unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWCGROUP

// StageSpec is how the init stage is started: everything StageCmd needs.
type StageSpec struct {
	Exe       string     // the executable to run: the sealed copy of sockspawn
	Listen    []*os.File // listening sockets, fds 3.. in the stage, in order
	Sync      *os.File   // the stage's end of the sync socket, after Listen
	CgroupFD  int        // cgroup to start in, or -1
	Stdio     [3]*os.File
	ExtraFlag uintptr // additional clone flags (CLONE_NEWNET, …)
	UserNS    *IDMap  // a user namespace with this mapping, or nil
	Veth      string  // machine name: give it a veth pair (needs CLONE_NEWNET in ExtraFlag)
	// VethBridge, with Veth, attaches the host's side to this bridge
	// (which names it vb-NAME, not ve-NAME).
	VethBridge string
	// NetNS, if set, is the network namespace the stage starts in
	// (--network-namespace-path); ExtraFlag must not hold CLONE_NEWNET.
	NetNS *os.File
	// Forward, with Veth, forwards host ports to the container before
	// its payload runs (Pid is filled in); Stage.Forwarder keeps it.
	Forward *ForwardSpec
	// AfterClone, with LateCgroupNS, is called with the stage's pid once
	// it runs: it moves the stage into the container's cgroup v1 cgroups.
	//
	// The cgroup namespace is the one namespace not made at clone time in
	// that case. Moving a process between v1 cgroups waits for an RCU
	// grace period (~12 ms here); moving the stage while it builds the
	// root, instead of the supervisor before the clone, takes that wait
	// off the path to READY=1. The stage makes its cgroup namespace with
	// unshare on the one thread that goes on to execve, before it mounts
	// cgroup2, so the namespace and the mount are rooted in the
	// container's cgroups in every hierarchy.
	LateCgroupNS bool
	// MoveInto moves the stage (pid) into the container's cgroups: its v1
	// cgroups, and with unified also its cgroup2 cgroup (when the stage
	// could not be cloned straight into it). Called after the clone when
	// LateCgroupNS is set.
	MoveInto func(pid int, unified bool) error
	// Copy is a sealed copy of sockspawn made beforehand (SealedSelf),
	// or nil: Start makes one. Start does not close it.
	Copy *os.File
	// ForkOn, if set, runs the fork of the stage (start) on a thread that
	// lives as long as the container, and returns when it has: the stage
	// gets SIGKILL (Pdeathsig) when the thread that forked it ends, not
	// only the process. nil forks on the caller's thread.
	ForkOn func(start func())
}

// startStage starts cmd, on spec.ForkOn's thread if set; with a user
// namespace, as its owner (asOwner).
func startStage(spec StageSpec, cmd *exec.Cmd) error {
	start := cmd.Start
	if u := spec.UserNS; u != nil {
		start = func() error { return asOwner(*u, cmd.Start) }
	}
	if spec.NetNS != nil {
		start = inNetNS(spec.NetNS, start)
	}
	if spec.ForkOn == nil {
		return start()
	}
	var err error
	spec.ForkOn(func() { err = start() })
	return err
}

// StageCmd builds the command that starts the init stage. It is a pure
// function: ExtraFiles holds the listening fds first (so they become fds
// 3, 4, … in the stage, as the payload will see them) and the sync socket
// last; the sync fd number travels on the command line.
func StageCmd(s StageSpec, pidfd *int) *exec.Cmd {
	syncFD := 3 + len(s.Listen)
	cmd := &exec.Cmd{
		Path:       s.Exe,
		Args:       []string{StageName, StageCommand, strconv.Itoa(syncFD)},
		Env:        []string{},
		Stdin:      s.Stdio[0],
		Stdout:     s.Stdio[1],
		Stderr:     s.Stdio[2],
		ExtraFiles: append(append([]*os.File(nil), s.Listen...), s.Sync),
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: cloneFlags(s),
			Setsid:     true,
			Pdeathsig:  syscall.SIGKILL,
			PidFD:      pidfd,
		},
	}
	if s.CgroupFD >= 0 {
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = s.CgroupFD
	}
	if u := s.UserNS; u != nil {
		cmd.SysProcAttr.Cloneflags |= unix.CLONE_NEWUSER
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(u.Base), Size: int(u.Size)}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(u.Base), Size: int(u.Size)}}
		cmd.SysProcAttr.GidMappingsEnableSetgroups = true
		// The child keeps the host's root IDs, which the namespace does
		// not map; becoming its own root switches to the mapped range.
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 0, Gid: 0}
	}
	return cmd
}

// cloneIntoRefused reports whether starting a process failed because the
// kernel does not know clone3 or CLONE_INTO_CGROUP.
func cloneIntoRefused(err error) bool {
	return errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.E2BIG) || errors.Is(err, unix.EINVAL)
}

// cloneFlags are the namespaces the stage is cloned into.
func cloneFlags(s StageSpec) uintptr {
	f := uintptr(Namespaces) | s.ExtraFlag
	if s.LateCgroupNS {
		f &^= unix.CLONE_NEWCGROUP
	}
	return f
}

// Stage is a running init stage, later the container's init.
type Stage struct {
	Cmd     *exec.Cmd
	PidFD   int        // pidfd of the stage (then init), for signalling
	Notify  *os.File   // the container's /run/host/notify socket
	Console *os.File   // master of /dev/console, nil with ConsolePipe
	Peer    *os.File   // an open peer of the console, so reads never see a hangup
	TTYs    []*os.File // masters of the extra ttys (--ttys), in the order of Plan.TTYs
	sync    *os.File
	execed  bool
	// announced: the stage said it executes the payload now (set by
	// WaitExec, read by others).
	announced atomic.Bool
	// Forwarder follows the container's addresses for its forwarded
	// ports (StageSpec.Forward); the supervisor stops it.
	Forwarder *Forwarder
}

// Execed reports whether the payload was executed (WaitExec returned nil).
func (s *Stage) Execed() bool { return s.execed }

// Executing reports whether the stage has said it executes the payload:
// from then on the payload may be running. Safe to call while WaitExec
// runs on another goroutine.
func (s *Stage) Executing() bool { return s.announced.Load() }

// Start seals sockspawn (SealedSelf) if spec.Copy is nil, starts the init
// stage from it in new namespaces and hands it the plan. It returns once the stage has
// built the container and handed back its notify socket and console; the
// payload is not executed yet: call WaitExec.
func Start(p Plan, spec StageSpec) (*Stage, error) {
	exe := spec.Copy
	if exe == nil {
		var err error
		if exe, err = SealedSelf(); err != nil {
			return nil, err
		}
		defer exe.Close()
	}
	parent, child, err := newSyncPair()
	if err != nil {
		return nil, err
	}
	defer child.Close()
	// The child rearranges fds 0..3+len(Listen) (and a few above, while
	// shuffling) before execve: the sealed binary's fd is moved well above them.
	high, err := unix.FcntlInt(exe.Fd(), unix.F_DUPFD_CLOEXEC, 2*(len(spec.Listen)+4)+16)
	if err != nil {
		return nil, os.NewSyscallError("fcntl(F_DUPFD_CLOEXEC)", err)
	}
	defer unix.Close(high)
	spec.Exe = fmt.Sprintf("/proc/self/fd/%d", high)
	spec.Sync = child
	pidfd := -1
	cmd := StageCmd(spec, &pidfd)
	err = startStage(spec, cmd)
	cloneInto := spec.CgroupFD >= 0
	if err != nil && cloneInto && spec.MoveInto != nil && cloneIntoRefused(err) {
		// A kernel without clone3 or CLONE_INTO_CGROUP (before 5.7): clone
		// as usual, then move the stage, and let it make its cgroup
		// namespace once it is there.
		spec.CgroupFD, spec.LateCgroupNS, cloneInto = -1, true, false
		pidfd = -1
		cmd = StageCmd(spec, &pidfd)
		err = startStage(spec, cmd)
	}
	if err != nil {
		if spec.CgroupFD >= 0 && errors.Is(err, unix.EBUSY) {
			err = fmt.Errorf("%w (is the cgroup's subtree_control non-empty?)", err)
		}
		parent.Close()
		return nil, fmt.Errorf("start init stage: %w", err)
	}
	child.Close()
	st := &Stage{Cmd: cmd, PidFD: pidfd, sync: parent}
	// The move into the v1 cgroups waits for the kernel (an RCU grace
	// period): it starts now and runs while the stage starts up and
	// builds the root.
	moved := make(chan error, 1)
	if spec.LateCgroupNS && spec.MoveInto != nil {
		go func() { moved <- spec.MoveInto(cmd.Process.Pid, !cloneInto) }()
	} else {
		moved <- nil
	}
	if spec.Veth != "" {
		// The stage waits for its plan, so host0 is there before the
		// payload starts.
		if _, err := SetupVeth(spec.Veth, spec.VethBridge, cmd.Process.Pid); err != nil {
			<-moved
			st.Abort()
			return nil, err
		}
	}
	if spec.Veth != "" && spec.Forward != nil {
		fs := *spec.Forward
		fs.Pid = cmd.Process.Pid
		if st.Forwarder, err = StartForwarding(fs); err != nil {
			<-moved
			st.Abort()
			return nil, err
		}
	}
	trees, err := idmappedTrees(p, cmd.Process.Pid)
	if err != nil {
		<-moved
		st.Abort()
		return nil, err
	}
	p.LateCgroupNS = spec.LateCgroupNS
	err = sendMsg(parent, syncMsg{Type: "plan", Plan: &p}, fileFDs(trees)...)
	for _, t := range trees {
		t.Close()
	}
	if err != nil {
		<-moved
		st.Abort()
		return nil, err
	}
	if err := <-moved; err != nil {
		st.Abort()
		return nil, err
	}
	if spec.LateCgroupNS {
		if err := sendMsg(parent, syncMsg{Type: "cgroups"}); err != nil {
			// The stage failed first (and is gone): its report names the
			// real culprit.
			if m, _, rerr := recvMsg(parent); rerr == nil && m.Type == "error" {
				err = &StageError{Step: m.Step, Err: m.Error}
			}
			st.Abort()
			return nil, err
		}
	}
	m, files, err := recvMsg(parent)
	if err != nil {
		st.Abort()
		return nil, err
	}
	switch {
	case m.Type == "error":
		st.Abort()
		return nil, &StageError{Step: m.Step, Err: m.Error}
	case m.Type == "fds" && len(files) >= 1:
		st.Notify = files[0]
		rest := files[1:]
		if p.Console == ConsolePTY && len(rest) >= 2 {
			st.Console, st.Peer = rest[0], rest[1]
			rest = rest[2:]
		}
		if len(rest) != len(p.TTYs) {
			closeAll(files)
			st.Abort()
			return nil, fmt.Errorf("init stage handed over %d ttys, want %d", len(rest), len(p.TTYs))
		}
		st.TTYs = rest
		return st, nil
	default:
		for _, f := range files {
			f.Close()
		}
		st.Abort()
		return nil, fmt.Errorf("init stage died while building the container")
	}
}

// WaitExec waits until the stage executed the payload (nil) or reports
// why it could not.
func (s *Stage) WaitExec() error {
	defer s.sync.Close()
	for {
		m, files, err := recvMsg(s.sync)
		for _, f := range files {
			f.Close()
		}
		if err != nil {
			return err
		}
		switch m.Type {
		case "exec":
			s.announced.Store(true)
		case "":
			// End of file: the sync socket was closed on execve, or the
			// stage died.
			if !s.Executing() {
				return fmt.Errorf("init stage died before executing the payload")
			}
			s.execed = true
			return nil
		case "error":
			return &StageError{Step: m.Step, Err: m.Error}
		default:
			return fmt.Errorf("unexpected message %q from the init stage", m.Type)
		}
	}
}

// Release tells a stage started with Plan.Hold to execute the payload.
func (s *Stage) Release() error {
	if err := sendMsg(s.sync, syncMsg{Type: "go"}); err != nil {
		return fmt.Errorf("init stage: %w", err)
	}
	return nil
}

// Signal sends sig to the stage (the container's init) through its pidfd.
func (s *Stage) Signal(sig syscall.Signal) error {
	if s.PidFD >= 0 {
		return unix.PidfdSendSignal(s.PidFD, sig, nil, 0)
	}
	return s.Cmd.Process.Signal(sig)
}

// Close lets go of the stage's pidfd, once its process is reaped.
func (s *Stage) Close() {
	if s.PidFD >= 0 {
		unix.Close(s.PidFD)
		s.PidFD = -1
	}
}

// Abort kills a stage that failed, or has not executed the payload (one
// held for its go-ahead), and reaps it.
func (s *Stage) Abort() {
	if s.Forwarder != nil {
		_ = s.Forwarder.Stop()
	}
	_ = s.Signal(syscall.SIGKILL)
	_ = s.Cmd.Wait()
	s.sync.Close()
	s.Close()
}

// idmappedTrees makes, for every SourceIDMap mount of p in order, a
// detached idmapped copy of that part of the image, mapped through the
// stage's user namespace, and for every SourceTree mount a detached copy
// of the host path.
func idmappedTrees(p Plan, pid int) ([]*os.File, error) {
	var trees []*os.File
	var userns *os.File
	defer func() {
		if userns != nil {
			userns.Close()
		}
	}()
	for _, m := range p.Mounts {
		if m.SourceIn == SourceTree {
			t, err := hostTree(m.Source, m.Recursive)
			if err != nil {
				for _, t := range trees {
					t.Close()
				}
				return nil, err
			}
			trees = append(trees, t)
			continue
		}
		if m.SourceIn == SourceUserHome && m.HomeMap != nil {
			t, err := userHomeTree(m.Source, *m.HomeMap)
			if err != nil {
				for _, t := range trees {
					t.Close()
				}
				return nil, fmt.Errorf("--bind-user: %w", err)
			}
			trees = append(trees, t)
			continue
		}
		if m.SourceIn != SourceIDMap {
			continue
		}
		if userns == nil {
			var err error
			if userns, err = os.Open(fmt.Sprintf("/proc/%d/ns/user", pid)); err != nil {
				return nil, fmt.Errorf("open the container's user namespace: %w", err)
			}
		}
		t, err := idmappedTree(p.ImageDir, m.Source, m.Recursive, int(userns.Fd()))
		if err != nil {
			for _, t := range trees {
				t.Close()
			}
			return nil, fmt.Errorf("idmap %s: %w", m.Source, err)
		}
		trees = append(trees, t)
	}
	return trees, nil
}

func fileFDs(fs []*os.File) []int {
	fds := make([]int, len(fs))
	for i, f := range fs {
		fds[i] = int(f.Fd())
	}
	return fds
}

// copyInKernel copies src to dst with sendfile(2), without passing the
// bytes through user space (copy_file_range refuses to cross from the
// binary's file system to the memfd's).
func copyInKernel(dst, src *os.File) error {
	st, err := src.Stat()
	if err != nil {
		return err
	}
	left := st.Size()
	for left > 0 {
		n, err := unix.Sendfile(int(dst.Fd()), int(src.Fd()), nil, int(min(left, 1<<30)))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return os.NewSyscallError("sendfile", err)
		}
		if n == 0 {
			return io.ErrUnexpectedEOF
		}
		left -= int64(n)
	}
	return nil
}
