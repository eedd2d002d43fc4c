package payload

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// nsTypeNames names the namespace types NS_GET_NSTYPE reports.
var nsTypeNames = map[int]string{
	unix.CLONE_NEWNET: "network", unix.CLONE_NEWPID: "pid", unix.CLONE_NEWNS: "mount", unix.CLONE_NEWUTS: "UTS",
	unix.CLONE_NEWIPC: "IPC", unix.CLONE_NEWUSER: "user", unix.CLONE_NEWCGROUP: "cgroup", unix.CLONE_NEWTIME: "time",
}

// OpenNetNS opens the network namespace at path (--network-namespace-path):
// a bind mount of one, as /run/netns/NAME, or /proc/PID/ns/net. Anything
// else is refused, naming what it is.
func OpenNetNS(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--network-namespace-path: %w", err)
	}
	typ, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_NSTYPE)
	switch {
	case errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EINVAL):
		f.Close()
		return nil, fmt.Errorf("--network-namespace-path: %s is not a namespace", path)
	case err != nil:
		f.Close()
		return nil, fmt.Errorf("--network-namespace-path: %s: %w", path, os.NewSyscallError("ioctl(NS_GET_NSTYPE)", err))
	case typ != unix.CLONE_NEWNET:
		f.Close()
		name := nsTypeNames[typ]
		if name == "" {
			name = fmt.Sprintf("type %#x", typ)
		}
		return nil, fmt.Errorf("--network-namespace-path: %s is a %s namespace, not a network namespace", path, name)
	}
	return f, nil
}

// inNetNS returns start wrapped so that the thread it runs on is in the
// network namespace ns while it runs: a process forked then starts there
// (namespaces belong to threads, and fork copies the forking thread's).
// The thread's own namespace is restored afterwards; if that fails, the
// thread stays locked, and Go ends it with its goroutine.
func inNetNS(ns *os.File, start func() error) func() error {
	return func() error {
		runtime.LockOSThread()
		own, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			return fmt.Errorf("open this thread's network namespace: %w", err)
		}
		defer own.Close()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			return fmt.Errorf("join network namespace %s: %w", ns.Name(), os.NewSyscallError("setns", err))
		}
		err = start()
		if unix.Setns(int(own.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		return err
	}
}
