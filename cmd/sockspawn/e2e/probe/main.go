//go:build linux

// Command probe is the payload of the boundary tests (../boundary_*_test.go):
// it attacks the container's boundary from inside and reports what the
// kernel answered, as one JSON object on a line starting with "PROBE ".
// It judges nothing itself; the tests compare its answers with the host's.
//
// It is a static binary with no dependencies, so it also serves as the
// /sbin/init of the hostile images the tests build. Subcommands:
//
//	probe view [-marker=PATH] [-write=PATH]...   what the container looks like from inside
//	probe seccomp                                the refused system calls, and a few that must work
//	probe mknod DIR SPEC...                      create device nodes (run outside the container's cgroup)
//	probe devices TMPDIR PREMADE SPEC...         mknod and open devices (run inside the container's cgroup)
//	probe cgroup NONCE                           try to reach cgroups outside the container's
//	probe exe                                    try to write through /proc/1/exe (run as PID 2)
//	probe notify                                 wait for SIGUSR1, then send hostile and valid notify datagrams
//	probe fds                                    report the fds it started with, then wait for SIGTERM
//	probe kernel                                 the /proc masks, read-only kernel switches, /sys/firmware
//
// A device SPEC is NAME:TYPE:MAJOR:MINOR, TYPE being c or b.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"
)

func main() {
	// Before anything opens a file: which fds we were given.
	fds := openFDs()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: probe view|seccomp|mknod|devices|cgroup|exe|notify|fds|kernel ...")
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "view":
		err = view(args)
	case "seccomp":
		err = probeSeccomp()
	case "int80-getpid":
		err = int80Getpid()
	case "mknod":
		err = makeNodes(args)
	case "devices":
		err = probeDevices(args)
	case "cgroup":
		err = probeCgroup(args)
	case "exe":
		err = probeExe()
	case "notify":
		err = probeNotify()
	case "notify-unprivileged":
		err = notifyUnprivileged(args)
	case "fds":
		err = probeFDs(fds)
	case "kernel":
		err = probeKernel()
	default:
		err = fmt.Errorf("unknown subcommand %q", cmd)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "probe %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// emit prints v as the probe's one-line JSON report.
func emit(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Printf("PROBE %s\n", b)
	return err
}

// errnoName turns the error of a system call into what the tests compare:
// "ok", an errno name such as "EPERM", or the error text.
func errnoName(err error) string {
	if err == nil {
		return "ok"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if errno == 0 {
			return "ok"
		}
		if n, ok := errnoNames[errno]; ok {
			return n
		}
		return fmt.Sprintf("errno %d", int(errno))
	}
	return err.Error()
}

var errnoNames = map[syscall.Errno]string{
	syscall.EPERM: "EPERM", syscall.ENOENT: "ENOENT", syscall.ESRCH: "ESRCH", syscall.EINTR: "EINTR",
	syscall.EIO: "EIO", syscall.ENXIO: "ENXIO", syscall.E2BIG: "E2BIG", syscall.ENOEXEC: "ENOEXEC",
	syscall.EBADF: "EBADF", syscall.EAGAIN: "EAGAIN", syscall.ENOMEM: "ENOMEM", syscall.EACCES: "EACCES",
	syscall.EFAULT: "EFAULT", syscall.EBUSY: "EBUSY", syscall.EEXIST: "EEXIST", syscall.ENODEV: "ENODEV",
	syscall.ENOTDIR: "ENOTDIR", syscall.EISDIR: "EISDIR", syscall.EINVAL: "EINVAL", syscall.ETXTBSY: "ETXTBSY",
	syscall.ENOSPC: "ENOSPC", syscall.EROFS: "EROFS", syscall.ENOSYS: "ENOSYS", syscall.EOPNOTSUPP: "EOPNOTSUPP",
	syscall.ELOOP: "ELOOP", syscall.EXDEV: "EXDEV", syscall.EMSGSIZE: "EMSGSIZE",
	syscall.ECONNREFUSED: "ECONNREFUSED", syscall.ENOKEY: "ENOKEY", syscall.ENOTTY: "ENOTTY",
}

// openFDs returns the open file descriptors below 1024, found without
// opening anything (reading /proc/self/fd would add one).
func openFDs() []int {
	var fds []int
	for fd := 0; fd < 1024; fd++ {
		if _, _, e := syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0); e == 0 {
			fds = append(fds, fd)
		}
	}
	return fds
}
