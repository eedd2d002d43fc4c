package activation

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestInheritHelper is not a test: it is the child process of TestInherit,
// which passes it fds 3.. and the sd_listen_fds variables. It reports what
// Inherit made of them on stdout.
func TestInheritHelper(t *testing.T) {
	if os.Getenv("GO_WANT_HELPER_PROCESS") != "1" {
		t.Skip("helper process")
	}
	lookup := func(k string) (string, bool) {
		if k == EnvListenPID {
			return strconv.Itoa(os.Getpid()), true // the parent cannot know our pid in advance
		}
		return os.LookupEnv(k)
	}
	in, err := Inherit(lookup, os.Getenv("ALLOW_NON_SOCKET") == "1")
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	var parts []string
	for i, f := range in.Files {
		flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0)
		if err != nil {
			fmt.Println("error: fcntl:", err)
			return
		}
		parts = append(parts, fmt.Sprintf("%s=%s/%d/cloexec=%v", in.Names[i], f.Name(), f.Fd(), flags&unix.FD_CLOEXEC != 0))
	}
	fmt.Println("ok:", strings.Join(parts, " "))
}

func TestInherit(t *testing.T) {
	dir := t.TempDir()
	l1, err := net.ListenUnix("unix", &net.UnixAddr{Name: dir + "/a", Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l1.Close()
	sock, err := l1.File()
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()

	tests := []struct {
		name  string
		files []*os.File
		env   []string
		want  string
	}{
		{"two sockets named", []*os.File{sock, sock}, []string{"LISTEN_FDS=2", "LISTEN_FDNAMES=web:admin"},
			"ok: web=web/3/cloexec=true admin=admin/4/cloexec=true"},
		{"unnamed", []*os.File{sock}, []string{"LISTEN_FDS=1"}, "ok: unknown=unknown/3/cloexec=true"},
		{"FIFO refused", []*os.File{sock, pr}, []string{"LISTEN_FDS=2", "LISTEN_FDNAMES=web:fifo"},
			`error: inherit listening fd 4 ("fifo"): is a FIFO, not a socket`},
		{"FIFO allowed", []*os.File{sock, pr}, []string{"LISTEN_FDS=2", "LISTEN_FDNAMES=web:fifo", "ALLOW_NON_SOCKET=1"},
			"ok: web=web/3/cloexec=true fifo=fifo/4/cloexec=true"},
		{"fd missing", []*os.File{sock}, []string{"LISTEN_FDS=2"}, "error: inherit listening fd 4"},
		{"name count", []*os.File{sock}, []string{"LISTEN_FDS=1", "LISTEN_FDNAMES=a:b"}, "error: inherit listening fds: $LISTEN_FDNAMES"},
		{"none", nil, nil, "ok: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestInheritHelper$")
			cmd.Env = append(os.Environ(), "GO_WANT_HELPER_PROCESS=1")
			cmd.Env = append(cmd.Env, tt.env...)
			cmd.ExtraFiles = tt.files
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("helper: %v\n%s", err, out)
			}
			line, _, _ := strings.Cut(string(out), "\n")
			if !strings.HasPrefix(line, tt.want) {
				t.Errorf("helper said %q, want %q...", line, tt.want)
			}
		})
	}
}

func TestUnsetListenEnv(t *testing.T) {
	for _, k := range []string{EnvListenPID, EnvListenFDs, EnvListenFDNames} {
		t.Setenv(k, "1")
	}
	UnsetListenEnv()
	for _, k := range []string{EnvListenPID, EnvListenFDs, EnvListenFDNames} {
		if v, ok := os.LookupEnv(k); ok {
			t.Errorf("$%s=%q still set", k, v)
		}
	}
}
