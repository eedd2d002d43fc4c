package control

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// newMaster opens a pty master in the host's devpts (no root needed).
func newMaster(t *testing.T) (*os.File, string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no ptys here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	return m, "pts/" + itoa(n)
}

func itoa(n int) string { return strconv.Itoa(n) }

func ptyNumber(t *testing.T, f *os.File) string {
	t.Helper()
	n, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("the fd handed over is no pty master: %v", err)
	}
	return "pts/" + itoa(n)
}

func TestTTYHandover(t *testing.T) {
	Dir = t.TempDir()
	m1, n1 := newMaster(t)
	m2, n2 := newMaster(t)
	s, err := Listen("web", []*os.File{m1, m2}, []string{n1, n2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st, err := os.Stat(Path("web")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("control socket: %v, mode %v; want 0600", err, st.Mode().Perm())
	}

	c1, r, f, err := Call("web", Request{Op: OpTTY}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.TTY != n1 || f == nil || ptyNumber(t, f) != n1 {
		t.Fatalf("first login got %q (fd %v), want %s", r.TTY, f, n1)
	}
	f.Close()
	if _, _, _, err := Call("web", Request{Op: OpTTY, TTY: n1}, nil); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("a second login on %s: %v, want in use", n1, err)
	}
	c2, r, f, err := Call("web", Request{Op: OpTTY}, nil)
	if err != nil || r.TTY != n2 {
		t.Fatalf("second login: %q, %v; want %s", r.TTY, err, n2)
	}
	f.Close()
	if _, _, _, err := Call("web", Request{Op: OpTTY}, nil); err == nil || !strings.Contains(err.Error(), "all ttys") {
		t.Errorf("a third login: %v, want all ttys in use", err)
	}
	if _, _, _, err := Call("web", Request{Op: OpTTY, TTY: "pts/999"}, nil); err == nil || !strings.Contains(err.Error(), "no tty pts/999") {
		t.Errorf("login on pts/999: %v, want no such tty", err)
	}
	c2.Close()
	// Detaching gives the tty back (once the server saw the hang-up).
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, r, f, err := Call("web", Request{Op: OpTTY, TTY: n2}, nil)
		if err == nil {
			if r.TTY != n2 {
				t.Errorf("got %s, want %s", r.TTY, n2)
			}
			f.Close()
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still in use after its login hung up: %v", n2, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, _, _, err := Call("web", Request{Op: OpBind, Target: "/x"}, nil); err == nil || !strings.Contains(err.Error(), "no mount sent") {
		t.Errorf("bind without a tree: %v", err)
	}
	c1.Close()
	s.Close()
	if _, err := os.Lstat(Path("web")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("control socket left after Close: %v", err)
	}
	if _, _, _, err := Call("web", Request{Op: OpTTY}, nil); !errors.Is(err, ErrNotRunning) {
		t.Errorf("call after Close: %v, want ErrNotRunning", err)
	}
}

func TestNoTTYs(t *testing.T) {
	Dir = t.TempDir()
	// A leftover socket file of a killed supervisor is replaced.
	if err := os.WriteFile(Path("db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Listen("db", nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, _, err := Call("db", Request{Op: OpTTY}, nil); err == nil || !strings.Contains(err.Error(), "--ttys") {
		t.Errorf("login on a machine without ttys: %v", err)
	}
	if _, _, _, err := Call("db", Request{Op: "reboot"}, nil); err == nil || !strings.Contains(err.Error(), "unknown operation") {
		t.Errorf("unknown operation: %v", err)
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{`{"op":"tty"}`, `{"op":"bind","target":"/x","read_only":true}`, `{}`, `[`, `{"op":"x"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRequest(b)
		if err == nil && r.Op != OpTTY && r.Op != OpBind {
			t.Fatalf("accepted operation %q", r.Op)
		}
	})
}
