package seccomp

import (
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Install puts Filter on every thread of the calling process
// (SECCOMP_FILTER_FLAG_TSYNC), so whichever thread later calls execve
// carries it into the container. It does not set no_new_privs: the caller
// needs CAP_SYS_ADMIN, or must have set no_new_privs itself. The filter
// cannot be removed; call Install only in the init stage, last before
// execve.
func Install() error {
	prog, err := Filter()
	if err != nil {
		return err
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP,
		unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC,
		uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	switch {
	case errno == unix.EACCES:
		return fmt.Errorf("%w (needs CAP_SYS_ADMIN or no_new_privs)",
			os.NewSyscallError("seccomp(SECCOMP_SET_MODE_FILTER)", errno))
	case errno != 0:
		return os.NewSyscallError("seccomp(SECCOMP_SET_MODE_FILTER, TSYNC)", errno)
	case r != 0:
		// TSYNC names the thread it could not synchronize; then no
		// thread got the filter.
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, TSYNC): thread %d has a diverging filter, nothing installed", r)
	}
	return nil
}
