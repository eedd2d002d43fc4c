package payload

import (
	"errors"
	"fmt"
	"os"
	"path"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sockspawn/sockspawn/payload/seccomp"
)

// StageCommand is the hidden subcommand that runs the init stage.
const StageCommand = "__stage"

// StageName is the stage's argv[0] and its name in ps and top, until it
// executes the payload (its executable is an fd, so the name would be a
// number); it fits the kernel's 15 bytes of a task's name.
const StageName = "sockspawn-stage"

// StageMain is the init stage: it runs as PID 1 of the container's fresh
// namespaces, reads the Plan from the sync socket (fd syncFD), builds the
// root, pivots into it and executes the payload. It returns only on
// failure, after reporting the failure over the sync socket.
func StageMain(syncFD int) int {
	// Everything below, the bounding-set drops in particular, must happen
	// on the thread that finally calls execve.
	runtime.LockOSThread()
	_ = os.WriteFile("/proc/self/comm", []byte(StageName), 0) // the process's name: its main thread's
	unix.Umask(0)
	// Not dumpable until execve: nothing in the container may ptrace the
	// stage or open its /proc files (its exe is sealed anyway).
	_ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	sync := os.NewFile(uintptr(syncFD), "sync")
	err := runStage(sync)
	var se *StageError
	if !errors.As(err, &se) {
		se = &StageError{Step: "stage", Err: err.Error()}
	}
	if sendMsg(sync, syncMsg{Type: "error", Step: se.Step, Error: se.Err}) != nil {
		fmt.Fprintf(os.Stderr, "sockspawn stage: %s\n", se.Error())
	}
	return 1
}

func fail(step string, err error) error {
	if err == nil {
		return nil
	}
	return &StageError{Step: step, Err: err.Error()}
}

func runStage(sync *os.File) error {
	m, trees, err := recvMsg(sync)
	if err != nil {
		return fail("read plan", err)
	}
	if m.Type != "plan" || m.Plan == nil {
		return fail("read plan", fmt.Errorf("unexpected message %q", m.Type))
	}
	p := m.Plan
	p.trees = trees
	if err := mount("", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
		return fail("make mounts private", err)
	}
	var lastPID *os.File
	var cgroupMount *Mount
	for _, mt := range p.Mounts {
		if mt.FSType == "cgroup2" && p.LateCgroupNS {
			// Mounted once the stage is in its cgroups (below): all
			// that does not need them is done first.
			cgroupMount = &mt
			continue
		}
		if err := doMount(p, mt); err != nil {
			return fail(mountStep(mt), err)
		}
		if mt.Target == "/proc" && p.AsPid2 {
			// The stub PID 1 starts the command as PID 2 by setting the
			// namespace's last PID; /proc/sys is read-only from the next
			// step on, so the file is opened now and handed down.
			if lastPID, err = openIn(p.Root, "/proc/sys/kernel/ns_last_pid", unix.O_WRONLY); err != nil {
				return fail("open ns_last_pid", err)
			}
		}
	}
	if err := setupBootID(p.Root); err != nil {
		return fail("set up boot ID", err)
	}
	for _, d := range p.Dirs {
		if err := mkdirAllIn(p.Root, d, 0o755); err != nil {
			return fail("create "+d, err)
		}
	}
	if err := makeDev(p.Root, p.Devices, p.Symlinks, p.UserNS); err != nil {
		return fail("populate /dev", err)
	}
	var master, peer *os.File
	if p.Console == ConsolePTY {
		if master, peer, err = openConsole(p.Root); err != nil {
			return fail("allocate /dev/console", err)
		}
	}
	ttys, err := openTTYs(p.Root, p.TTYs)
	if err != nil {
		return fail("allocate ttys "+ttyList(p.TTYs), err)
	}
	notify, err := buildRunHost(p.Root, p.RunHost)
	if err != nil {
		return fail("populate "+RunHostDir, err)
	}
	for i := len(p.Mounts) - 1; i >= 0; i-- {
		if mt := p.Mounts[i]; mt.Seal {
			if err := sealMount(p.Root, mt.Target); err != nil {
				return fail("make "+mt.Target+" read-only", err)
			}
		}
	}
	if cgroupMount != nil {
		if err := lateCgroupNS(sync); err != nil {
			return fail("cgroup namespace", err)
		}
		if err := doMount(p, *cgroupMount); err != nil {
			return fail("mount "+cgroupMount.Target, err)
		}
	}
	if p.Loopback {
		if err := loopbackUp(); err != nil {
			return fail("bring up loopback", err)
		}
	}
	if p.Hostname != "" {
		if err := unix.Sethostname([]byte(p.Hostname)); err != nil {
			return fail("set hostname", os.NewSyscallError("sethostname", err))
		}
	}
	fds := []int{int(notify.Fd())}
	if master != nil {
		fds = append(fds, int(master.Fd()), int(peer.Fd()))
	}
	fds = append(fds, fileFDs(ttys)...)
	if err := sendMsg(sync, syncMsg{Type: "fds"}, fds...); err != nil {
		return fail("hand over notify socket and console", err)
	}
	notify.Close()
	closeAll(ttys)
	if master != nil {
		master.Close()
		if err := attachConsole(peer); err != nil {
			return fail("attach /dev/console", err)
		}
	}
	if err := pivotRoot(p.Root); err != nil {
		return fail("pivot_root", err)
	}
	// Every mount of the container shared within it, as systemd expects
	// of a container manager (it does this itself only when it is the
	// host's init): mounts its PID 1 makes, or moves in from a helper's
	// namespace as it does with services' credentials, then reach the
	// namespaces of its services. The mounts from the host stay slaves of
	// theirs, so nothing propagates back. Only now: pivot_root refuses a
	// shared root.
	if err := mount("", "/", "", unix.MS_REC|unix.MS_SHARED, ""); err != nil {
		return fail("share mounts within the container", err)
	}
	for _, mt := range p.Mounts {
		if mt.Slave {
			if err := mount("", mt.Target, "", unix.MS_SLAVE, ""); err != nil {
				return fail("make "+mt.Target+" a slave", err)
			}
		}
	}
	for _, c := range p.DropCaps {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fail("drop capabilities", os.NewSyscallError(fmt.Sprintf("prctl(PR_CAPBSET_DROP, %d)", c), err))
		}
	}
	// Last of all, while CAP_SYS_ADMIN is still ours: the system call
	// filter, on every thread of the stage (whichever one execs).
	if err := seccomp.Install(); err != nil {
		return fail("install system call filter", err)
	}
	argv := p.Argv
	prog, err := lookPath(argv[0], p.Env)
	if err != nil {
		return fail("find "+argv[0], err)
	}
	if p.AsPid2 {
		argv = append([]string{"sockspawn-stub", StubCommand, fmt.Sprint(lastPID.Fd()), prog}, argv[1:]...)
		prog = "/proc/self/exe"
	}
	// Everything but stdio and the listening fds gets close-on-exec; the
	// sync socket too, so end of file tells the supervisor exec happened.
	if err := unix.CloseRange(uint(3+p.ListenFDs), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fail("close stray fds", os.NewSyscallError("close_range", err))
	}
	for fd := 3; fd < 3+p.ListenFDs; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
			return fail("pass listening fds", os.NewSyscallError(fmt.Sprintf("fcntl(%d, F_SETFD)", fd), err))
		}
	}
	if lastPID != nil {
		if _, err := unix.FcntlInt(lastPID.Fd(), unix.F_SETFD, 0); err != nil {
			return fail("pass ns_last_pid", os.NewSyscallError("fcntl(F_SETFD)", err))
		}
	}
	if p.Hold {
		m, files, err := recvMsg(sync)
		closeAll(files)
		switch {
		case err == nil && m.Type == "":
			err = errors.New("the supervisor is gone")
		case err == nil && m.Type != "go":
			err = fmt.Errorf("unexpected message %q", m.Type)
		}
		if err != nil {
			return fail("wait for the go-ahead", err)
		}
	}
	if err := sendMsg(sync, syncMsg{Type: "exec"}); err != nil {
		return fail("report exec", err)
	}
	err = unix.Exec(prog, argv, p.Env)
	return fail("execute "+prog, err)
}

// doMount carries out one mount step inside root.
func doMount(p *Plan, m Mount) error {
	if m.Detach {
		if err := detachMounts(p.Root, m.Target); err != nil {
			return err
		}
	}
	src := m.Source
	var srcFile *os.File
	if m.SourceIn == SourceIDMap || m.SourceIn == SourceTree || m.SourceIn == SourceUserHome {
		return attachTree(p, m)
	}
	if m.IsBind() {
		var err error
		switch m.SourceIn {
		case SourceImage:
			srcFile, err = openIn(p.ImageDir, m.Source, unix.O_PATH)
		case SourceRoot:
			srcFile, err = openIn(p.Root, m.Source, unix.O_PATH)
		default:
			var fd int
			fd, err = unix.Open(m.Source, unix.O_PATH|unix.O_CLOEXEC, 0)
			if err == nil {
				srcFile = os.NewFile(uintptr(fd), m.Source)
			} else {
				err = &os.PathError{Op: "open", Path: m.Source, Err: err}
			}
		}
		if err != nil {
			if m.Optional && errors.Is(err, unix.ENOENT) {
				return nil
			}
			return fmt.Errorf("source: %w", err)
		}
		defer srcFile.Close()
		src = procPath(srcFile)
		var st unix.Stat_t
		if err := unix.Fstat(int(srcFile.Fd()), &st); err != nil {
			return err
		}
		m.File = st.Mode&unix.S_IFMT != unix.S_IFDIR
	}
	target, err := prepareTarget(p, m)
	if err != nil || target == nil {
		return err
	}
	defer target.Close()
	flags := m.Flags
	if m.IsBind() {
		flags |= unix.MS_BIND
		if m.Recursive {
			flags |= unix.MS_REC
		}
	}
	if err := mount(src, procPath(target), m.FSType, flags, m.Data); err != nil {
		return err
	}
	if m.ReadOnly && !m.Seal {
		return sealMountRec(p.Root, m.Target, m.Recursive)
	}
	if m.Writable {
		return makeWritable(p.Root, m.Target)
	}
	return nil
}

// makeWritable makes the mount now on target writable (a bind below a
// read-only mount, or of a source read-only elsewhere).
func makeWritable(root, target string) error {
	f, err := openIn(root, target, unix.O_PATH)
	if err != nil {
		return err
	}
	defer f.Close()
	attr := unix.MountAttr{Attr_clr: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(int(f.Fd()), "", unix.AT_EMPTY_PATH, &attr); err != nil {
		return &os.PathError{Op: "mount_setattr(clear MOUNT_ATTR_RDONLY)", Path: target, Err: err}
	}
	return nil
}

// mountStep names a mount step in errors: a user's bind as the flag that
// asked for it, so that the error points at the culprit.
func mountStep(m Mount) string {
	if !m.Follow {
		return "mount " + m.Target
	}
	flag := "--bind"
	if m.ReadOnly {
		flag = "--bind-ro"
	}
	return flag + "=" + m.Source + ":" + m.Target
}

// detachMounts detaches every mount at or below target inside root,
// deepest first, each until umount says EINVAL (no more stacked there, or
// one the stage may not unmount, which the mount step then runs into).
// The image's own mounts are found in mountinfo; each is reached again
// inside root, so a symlink cannot point the umount outside.
func detachMounts(root, target string) error {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	dir := path.Join(root, target)
	for _, p := range mountPointsUnder(mi, dir) {
		rel := "/" + strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
		// A bound on the loop: mounts stacked deeper than this are no image.
		for range 64 {
			f, err := openIn(root, rel, unix.O_PATH|unix.O_NOFOLLOW)
			if err != nil {
				break
			}
			err = unix.Unmount(procPath(f), unix.MNT_DETACH)
			f.Close()
			if errors.Is(err, unix.EINVAL) {
				break
			}
			if err != nil {
				return &os.PathError{Op: "umount (the image's own mount)", Path: rel, Err: err}
			}
		}
	}
	return nil
}

// lateCgroupNS waits until the supervisor has moved the stage into the
// container's cgroups, then makes the cgroup namespace, rooted there. The
// stage runs on one locked thread, the one that mounts cgroup2 and execs.
func lateCgroupNS(sync *os.File) error {
	m, _, err := recvMsg(sync)
	if err != nil {
		return err
	}
	if m.Type != "cgroups" {
		return fmt.Errorf("unexpected message %q while waiting for the cgroups", m.Type)
	}
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return os.NewSyscallError("unshare(CLONE_NEWCGROUP)", err)
	}
	return nil
}

// setupBootID gives the container a boot ID of its own, as systemd-nspawn
// does: a fresh random UUID bound read-only over
// /proc/sys/kernel/random/boot_id, so that journalctl --list-boots inside
// tells the container's boots apart instead of showing the host's.
func setupBootID(root string) error {
	src, err := openIn(root, "/proc/sys/kernel/random/uuid", unix.O_RDONLY)
	if err != nil {
		return err
	}
	id := make([]byte, 64)
	n, err := src.Read(id)
	src.Close()
	if err != nil {
		return err
	}
	id = id[:n]
	const tmp = "/run/.sockspawn-boot-id"
	if err := createFileIn(root, tmp, 0o444); err != nil {
		return err
	}
	f, err := openIn(root, tmp, unix.O_WRONLY|unix.O_NOFOLLOW)
	if err != nil {
		return err
	}
	_, err = f.Write(id)
	f.Close()
	if err != nil {
		return err
	}
	m := Mount{Target: "/proc/sys/kernel/random/boot_id", Source: tmp, SourceIn: SourceRoot, ReadOnly: true, File: true}
	if err := doMount(&Plan{Root: root}, m); err != nil {
		return err
	}
	run, err := openIn(root, "/run", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer run.Close()
	return unix.Unlinkat(int(run.Fd()), path.Base(tmp), 0)
}

// checkBindTarget refuses a user bind whose target, once the image's
// symlinks are followed (inside the image), lands on the container's root
// or on, or above, a mount sockspawn makes itself (/proc, /dev, /run,
// /run/host, ...): such a bind would hide what the Container Interface
// promises, or make sockspawn write into the bound host directory.
func checkBindTarget(p *Plan, m Mount, target *os.File) error {
	resolved, err := os.Readlink(procPath(target))
	if err != nil {
		return err
	}
	rel := "/" + strings.TrimPrefix(strings.TrimPrefix(resolved, p.Root), "/")
	if !strings.HasPrefix(resolved, p.Root) {
		return fmt.Errorf("bind target %s resolves outside the container (%s)", m.Target, resolved)
	}
	if rel == path.Clean(m.Target) {
		return nil
	}
	if rel == "/" {
		return fmt.Errorf("bind target %s is a symbolic link to the container's root; refusing to bind over it", m.Target)
	}
	for _, other := range p.Mounts {
		if other.Follow || other.Target == "/" {
			continue
		}
		if other.Target == rel || strings.HasPrefix(other.Target, rel+"/") {
			return fmt.Errorf("bind target %s is a symbolic link to %s, where sockspawn mounts %s; refusing to bind over it", m.Target, rel, other.Target)
		}
	}
	return nil
}

// refuseSymlink fails if target exists inside root as a symlink: an image
// must not redirect where sockspawn mounts its API file systems (a link
// would be followed inside the image, but could still point one mount on
// top of another, or of the root).
func refuseSymlink(root, target string) error {
	f, err := openIn(root, target, unix.O_PATH|unix.O_NOFOLLOW)
	if err != nil {
		return nil // missing: it is created as a directory or file
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return &os.PathError{Op: "fstat", Path: target, Err: err}
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return fmt.Errorf("the image's %s is a symbolic link; refusing to mount over it", target)
	}
	return nil
}

// prepareTarget makes the mount point of m inside the root (a directory,
// or a file when m.File) and opens it. An API mount point the image made
// a symlink is refused; a user bind's target is followed inside the root
// but may not land on the root or on a mount sockspawn makes. It returns
// nil and no error for an optional file target that does not exist.
func prepareTarget(p *Plan, m Mount) (*os.File, error) {
	if m.Target != "/" {
		if !m.Follow {
			if err := refuseSymlink(p.Root, m.Target); err != nil {
				return nil, err
			}
		}
		var err error
		if m.File {
			if m.Optional {
				f, err := openIn(p.Root, m.Target, unix.O_PATH)
				if err != nil {
					return nil, nil
				}
				f.Close()
			}
			err = createFileIn(p.Root, m.Target, 0o644)
		} else {
			err = mkdirAllIn(p.Root, m.Target, 0o755)
			if m.Optional && errors.Is(err, unix.EROFS) {
				// Its place is on a read-only file system that lacks it:
				// a fresh sysfs without /sys/fs/selinux, below a host
				// whose /sys has one (the nspawn host of the tests).
				return nil, nil
			}
		}
		if err != nil {
			return nil, fmt.Errorf("target: %w", err)
		}
	}
	target, err := openIn(p.Root, m.Target, unix.O_PATH)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	if m.Follow {
		if err := checkBindTarget(p, m, target); err != nil {
			target.Close()
			return nil, err
		}
	}
	return target, nil
}

// attachTree mounts the next tree (idmapped or not) the supervisor sent on
// the mount's target.
func attachTree(p *Plan, m Mount) error {
	if len(p.trees) == 0 {
		return fmt.Errorf("no idmapped tree for %s from the supervisor", m.Source)
	}
	tree := p.trees[0]
	p.trees = p.trees[1:]
	defer tree.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(tree.Fd()), &st); err != nil {
		return &os.PathError{Op: "fstat", Path: m.Source, Err: err}
	}
	m.File = st.Mode&unix.S_IFMT != unix.S_IFDIR
	target, err := prepareTarget(p, m)
	if err != nil || target == nil {
		return err
	}
	defer target.Close()
	if err := unix.MoveMount(int(tree.Fd()), "", int(target.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return &os.PathError{Op: "move_mount", Path: m.Target, Err: err}
	}
	if m.Writable {
		return makeWritable(p.Root, m.Target)
	}
	if m.ReadOnly {
		return sealMountRec(p.Root, m.Target, m.Recursive)
	}
	return nil
}

func sealMount(root, target string) error { return sealMountRec(root, target, false) }

// sealMountRec makes the mount now on target read-only. The target is
// opened again: the fd used to mount points below the new mount.
func sealMountRec(root, target string, recursive bool) error {
	f, err := openIn(root, target, unix.O_PATH)
	if err != nil {
		return err
	}
	defer f.Close()
	return makeReadOnly(f, recursive)
}

// pivotRoot makes root the root of the mount namespace and detaches the old
// root, the way bubblewrap does: pivot_root(".", ".") then umount ".".
func pivotRoot(root string) error {
	if err := unix.Chdir(root); err != nil {
		return &os.PathError{Op: "chdir", Path: root, Err: err}
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return &os.PathError{Op: "pivot_root", Path: root, Err: err}
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return &os.PathError{Op: "umount", Path: "old root", Err: err}
	}
	return unix.Chdir("/")
}

// lookPath finds prog inside the new root using $PATH from env.
func lookPath(prog string, env []string) (string, error) {
	if strings.Contains(prog, "/") {
		return prog, checkExecutable(prog)
	}
	pathVar := DefaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathVar = v
		}
	}
	for _, dir := range strings.Split(pathVar, ":") {
		if dir == "" {
			continue
		}
		p := path.Join(dir, prog)
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%q not found in $PATH inside the container", prog)
}

func checkExecutable(p string) error {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return &os.PathError{Op: "stat", Path: p, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Mode&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}
