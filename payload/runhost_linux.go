package payload

import (
	"errors"
	"os"
	"path"
	"strconv"

	"golang.org/x/sys/unix"
)

// buildRunHost fills the container's /run/host (a fresh tmpfs) and binds
// the notify socket there. It returns the bound socket; the supervisor
// reads it. /run/host is made read-only afterwards by the caller.
func buildRunHost(root string, rh RunHost) (*os.File, error) {
	dir, err := openIn(root, RunHostDir, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	for _, f := range rh.Files {
		if err := writeFileAt(dir, f.Name, f.Data, 0o444); err != nil {
			return nil, err
		}
	}
	if err := makeInaccessible(dir, rh.Inaccessible); err != nil {
		return nil, err
	}
	if err := writeUserDB(dir, rh.UserDB, rh.UserDBLinks); err != nil {
		return nil, err
	}
	if err := writeCredentials(root, rh.Credentials); err != nil {
		return nil, err
	}
	return bindNotify(dir)
}

// makeInaccessible creates inaccessible/{reg,dir,fifo,sock,chr,blk}: one
// node of each type, mode 0000, devices 0:0.
func makeInaccessible(dir *os.File, kinds []string) error {
	if err := unix.Mkdirat(int(dir.Fd()), "inaccessible", 0o755); err != nil {
		return &os.PathError{Op: "mkdir", Path: path.Join(RunHostDir, "inaccessible"), Err: err}
	}
	d, err := unix.Openat(int(dir.Fd()), "inaccessible", unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: path.Join(RunHostDir, "inaccessible"), Err: err}
	}
	defer unix.Close(d)
	for _, k := range kinds {
		var err error
		switch k {
		case "reg":
			var fd int
			fd, err = unix.Openat(d, k, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0)
			if err == nil {
				unix.Close(fd)
			}
		case "dir":
			err = unix.Mkdirat(d, k, 0)
		case "fifo":
			err = unix.Mknodat(d, k, unix.S_IFIFO, 0)
		case "sock":
			err = unix.Mknodat(d, k, unix.S_IFSOCK, 0)
		case "chr":
			err = unix.Mknodat(d, k, unix.S_IFCHR, 0)
		case "blk":
			err = unix.Mknodat(d, k, unix.S_IFBLK, 0)
		}
		if err != nil && (k == "chr" || k == "blk") && errors.Is(err, unix.EPERM) {
			// In a user namespace device nodes cannot be made; systemd
			// inside has fallbacks for these two (the Container Interface
			// says so).
			continue
		}
		if err != nil {
			return &os.PathError{Op: "mknod", Path: path.Join(RunHostDir, "inaccessible", k), Err: err}
		}
	}
	return nil
}

// writeCredentials writes each credential into /run/host/credentials (a
// ramfs: never swapped) readable by root only.
func writeCredentials(root string, creds []File) error {
	dir, err := openIn(root, CredentialsDir, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer dir.Close()
	for _, c := range creds {
		if err := writeFileAt(dir, c.Name, c.Data, 0o400); err != nil {
			return err
		}
	}
	return nil
}

// bindNotify binds the container's notify socket at /run/host/notify. The
// path is reached through the directory's fd, which keeps it well below
// the 108-byte limit of socket addresses whatever the staging path.
func bindNotify(dir *os.File) (*os.File, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	sock := os.NewFile(uintptr(fd), NotifySocket)
	addr := &unix.SockaddrUnix{Name: "/proc/self/fd/" + strconv.Itoa(int(dir.Fd())) + "/notify"}
	if err := unix.Bind(fd, addr); err != nil {
		sock.Close()
		return nil, &os.PathError{Op: "bind", Path: NotifySocket, Err: err}
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err != nil {
		sock.Close()
		return nil, os.NewSyscallError("setsockopt(SO_PASSCRED)", err)
	}
	return sock, nil
}
