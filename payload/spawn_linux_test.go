package payload

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// pipes returns n distinct *os.File values, closed when the test ends.
func pipes(t *testing.T, n int) []*os.File {
	t.Helper()
	var fs []*os.File
	for len(fs) < n {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close(); w.Close() })
		fs = append(fs, r, w)
	}
	return fs[:n]
}

func TestStageCmd(t *testing.T) {
	tests := []struct {
		name      string
		listen    int
		cgroupFD  int
		extraFlag uintptr
	}{
		{"no sockets, no cgroup", 0, -1, 0},
		{"one socket, cgroup", 1, 7, 0},
		{"three sockets, private network", 3, -1, unix.CLONE_NEWNET},
		{"cgroup fd 0", 2, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := pipes(t, tt.listen+4)
			listen, sync, stdio := fs[:tt.listen], fs[tt.listen], fs[tt.listen+1:]
			pidfd := -1
			spec := StageSpec{
				Exe:       "/proc/1234/fd/9",
				Listen:    listen,
				Sync:      sync,
				CgroupFD:  tt.cgroupFD,
				Stdio:     [3]*os.File{stdio[0], stdio[1], stdio[2]},
				ExtraFlag: tt.extraFlag,
			}
			cmd := StageCmd(spec, &pidfd)

			if cmd.Path != spec.Exe {
				t.Errorf("Path = %q, want %q", cmd.Path, spec.Exe)
			}
			syncFD := 3 + tt.listen
			if len(cmd.Args) != 3 || cmd.Args[1] != StageCommand || cmd.Args[2] != strconv.Itoa(syncFD) {
				t.Errorf("Args = %q, want [_ %s %d]", cmd.Args, StageCommand, syncFD)
			}
			// ExtraFiles[i] becomes fd 3+i: listening sockets first, in
			// order, then the sync socket at the number on the command line.
			if len(cmd.ExtraFiles) != tt.listen+1 {
				t.Fatalf("ExtraFiles has %d files, want %d", len(cmd.ExtraFiles), tt.listen+1)
			}
			for i, f := range listen {
				if cmd.ExtraFiles[i] != f {
					t.Errorf("ExtraFiles[%d] (fd %d) is not listening socket %d", i, 3+i, i)
				}
			}
			if cmd.ExtraFiles[syncFD-3] != sync {
				t.Errorf("fd %d is not the sync socket", syncFD)
			}
			if cmd.Stdin != stdio[0] || cmd.Stdout != stdio[1] || cmd.Stderr != stdio[2] {
				t.Errorf("stdio not passed through")
			}
			// Nothing leaks through the environment.
			if cmd.Env == nil || len(cmd.Env) != 0 {
				t.Errorf("Env = %q, want empty and non-nil", cmd.Env)
			}
			if env := cmd.Environ(); len(env) != 0 {
				t.Errorf("Environ() = %q, want empty", env)
			}
			a := cmd.SysProcAttr
			if a == nil {
				t.Fatal("no SysProcAttr")
			}
			const want = unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWCGROUP
			if a.Cloneflags&want != want {
				t.Errorf("Cloneflags = %#x, missing %#x", a.Cloneflags, want&^a.Cloneflags)
			}
			if a.Cloneflags != want|tt.extraFlag {
				t.Errorf("Cloneflags = %#x, want %#x", a.Cloneflags, want|tt.extraFlag)
			}
			if a.Pdeathsig != syscall.SIGKILL {
				t.Errorf("Pdeathsig = %v, want SIGKILL", a.Pdeathsig)
			}
			if a.PidFD != &pidfd {
				t.Errorf("PidFD does not point at the caller's variable")
			}
			if tt.cgroupFD >= 0 {
				if !a.UseCgroupFD || a.CgroupFD != tt.cgroupFD {
					t.Errorf("UseCgroupFD=%v CgroupFD=%d, want true %d", a.UseCgroupFD, a.CgroupFD, tt.cgroupFD)
				}
			} else if a.UseCgroupFD || a.CgroupFD != 0 {
				t.Errorf("UseCgroupFD=%v CgroupFD=%d with no cgroup", a.UseCgroupFD, a.CgroupFD)
			}
		})
	}
}

// StageCmd must not alias the caller's Listen slice: appending the sync
// socket to it would overwrite the caller's next element.
func TestStageCmdDoesNotAliasListen(t *testing.T) {
	fs := pipes(t, 4)
	listen := make([]*os.File, 2, 8)
	copy(listen, fs[:2])
	backing := listen[:3]
	backing[2] = fs[3]
	cmd := StageCmd(StageSpec{Listen: listen, Sync: fs[2], CgroupFD: -1}, nil)
	if backing[2] != fs[3] {
		t.Error("StageCmd wrote into the caller's Listen backing array")
	}
	cmd.ExtraFiles[0] = nil
	if listen[0] == nil {
		t.Error("ExtraFiles shares the caller's Listen slice")
	}
}

func TestNamespacesConstant(t *testing.T) {
	const want = unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWCGROUP
	if Namespaces != want {
		t.Errorf("Namespaces = %#x, want %#x", Namespaces, want)
	}
	if Namespaces&unix.CLONE_NEWNET != 0 || Namespaces&unix.CLONE_NEWUSER != 0 {
		t.Errorf("Namespaces includes NEWNET or NEWUSER; those are per container (ExtraFlag)")
	}
}

// With LateCgroupNS the stage is cloned into every namespace but the
// cgroup one, which it makes itself once moved into its v1 cgroups.
func TestCloneFlagsLateCgroupNS(t *testing.T) {
	early := cloneFlags(StageSpec{})
	late := cloneFlags(StageSpec{LateCgroupNS: true, ExtraFlag: unix.CLONE_NEWNET})
	if early&unix.CLONE_NEWCGROUP == 0 {
		t.Errorf("clone flags %#x lack CLONE_NEWCGROUP", early)
	}
	if late&unix.CLONE_NEWCGROUP != 0 {
		t.Errorf("with LateCgroupNS, clone flags %#x still have CLONE_NEWCGROUP", late)
	}
	want := uintptr(Namespaces&^unix.CLONE_NEWCGROUP) | unix.CLONE_NEWNET
	if late != want {
		t.Errorf("with LateCgroupNS, clone flags %#x, want %#x", late, want)
	}
}

// The stage is forked where ForkOn says (sockspawn: the main thread, which
// lives as long as the process, as Pdeathsig needs), and a failure to
// start comes back from there.
func TestStartStageForkOn(t *testing.T) {
	for _, tt := range []struct {
		name, path string
		wantErr    bool
	}{
		{"starts", "/bin/true", false},
		{"missing", "/nonexistent/sockspawn", true},
	} {
		called := 0
		spec := StageSpec{ForkOn: func(start func()) { called++; start() }}
		cmd := exec.Command(tt.path)
		err := startStage(spec, cmd)
		if called != 1 {
			t.Errorf("%s: ForkOn called %d times, want 1", tt.name, called)
		}
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: startStage: %v, want error %v", tt.name, err, tt.wantErr)
		}
		if err == nil {
			_ = cmd.Wait()
		}
	}
}
