//go:build linux

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

type exeReport struct {
	Pid      int               `json:"pid"`
	Exe      string            `json:"exe"`       // readlink /proc/1/exe
	SHA256   string            `json:"sha256"`    // of what /proc/1/exe opens
	Seals    []string          `json:"seals"`     // F_GET_SEALS of it
	FS       string            `json:"fs"`        // fstatfs of it: "overlay", "other" (with ",ro" if read-only)
	Open     map[string]string `json:"open"`      // opening /proc/1/exe for writing, several ways
	Truncate string            `json:"truncate"`  // truncate("/proc/1/exe", 0)
	Write    string            `json:"write"`     // write(2) through any fd that did open
	MapFiles map[string]string `json:"map_files"` // opening /proc/1/map_files/* of the executable O_RDWR
}

// probeExe is `probe exe`, run as PID 2 under an init that is sockspawn's
// stage binary (the --as-pid2 stub, or an image whose init is
// "#!/proc/self/exe __pid2"): it tries to write through every way
// /proc/1 offers to that binary (CVE-2019-5736). Nothing is ever written
// but zero bytes at the end of a file that opened.
func probeExe() error {
	r := exeReport{Pid: os.Getpid(), Open: map[string]string{}, MapFiles: map[string]string{}}
	r.Exe, _ = os.Readlink("/proc/1/exe")
	if f, err := os.Open("/proc/1/exe"); err != nil {
		r.SHA256 = "open: " + errnoName(err)
	} else {
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			r.SHA256 = "read: " + err.Error()
		} else {
			r.SHA256 = hex.EncodeToString(h.Sum(nil))
		}
		if s, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0); err != nil {
			r.Seals = []string{errnoName(err)}
		} else {
			r.Seals = sealNames(s)
		}
		var sfs unix.Statfs_t
		if err := unix.Fstatfs(int(f.Fd()), &sfs); err != nil {
			r.FS = "fstatfs: " + errnoName(err)
		} else {
			r.FS = "other"
			if sfs.Type == unix.OVERLAYFS_SUPER_MAGIC {
				r.FS = "overlay"
			}
			if sfs.Flags&unix.ST_RDONLY != 0 {
				r.FS += ",ro"
			}
		}
		f.Close()
	}
	tryWrite := func(key, p string, flags int) {
		fd, err := unix.Open(p, flags|unix.O_CLOEXEC, 0)
		if err != nil {
			r.Open[key] = errnoName(err)
			return
		}
		defer unix.Close(fd)
		r.Open[key] = "ok"
		// Opened: a zero-length write at the end changes nothing, but
		// tells whether writes are possible at all.
		if _, err := unix.Seek(fd, 0, io.SeekEnd); err == nil {
			_, err = unix.Write(fd, []byte{})
			r.Write = errnoName(err)
		}
	}
	tryWrite("O_WRONLY", "/proc/1/exe", unix.O_WRONLY)
	tryWrite("O_RDWR", "/proc/1/exe", unix.O_RDWR)
	tryWrite("O_WRONLY|O_APPEND", "/proc/1/exe", unix.O_WRONLY|unix.O_APPEND)
	if fd, err := unix.Open("/proc/1/exe", unix.O_PATH|unix.O_CLOEXEC, 0); err != nil {
		r.Open["O_PATH then reopen"] = "O_PATH: " + errnoName(err)
	} else {
		tryWrite("O_PATH then reopen", "/proc/self/fd/"+strconv.Itoa(fd), unix.O_WRONLY)
		unix.Close(fd)
	}
	// Never shrink the file: truncate to its own size.
	var st unix.Stat_t
	if err := unix.Stat("/proc/1/exe", &st); err != nil {
		r.Truncate = "stat: " + errnoName(err)
	} else {
		r.Truncate = errnoName(unix.Truncate("/proc/1/exe", st.Size))
	}
	ents, _ := os.ReadDir("/proc/1/map_files")
	for _, e := range ents {
		p := filepath.Join("/proc/1/map_files", e.Name())
		if l, err := os.Readlink(p); err != nil || l != r.Exe {
			continue
		}
		fd, err := unix.Open(p, unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err == nil {
			unix.Close(fd)
		}
		r.MapFiles[e.Name()] = errnoName(err)
	}
	return emit(r)
}

func sealNames(s int) []string {
	names := map[int]string{unix.F_SEAL_SEAL: "SEAL", unix.F_SEAL_SHRINK: "SHRINK", unix.F_SEAL_GROW: "GROW", unix.F_SEAL_WRITE: "WRITE", unix.F_SEAL_FUTURE_WRITE: "FUTURE_WRITE"}
	var out []string
	for bit, n := range names {
		if s&bit != 0 {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return []string{"none"}
	}
	return []string{strings.Join(out, "|")}
}
