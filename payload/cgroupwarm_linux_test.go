package payload

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"testing"
	"time"
)

func TestFavorsDynmods(t *testing.T) {
	tests := []struct {
		name, mountinfo string
		want            bool
	}{{
		name:      "cgroup2 without it",
		mountinfo: "35 31 0:32 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n",
	}, {
		name:      "cgroup2 with it",
		mountinfo: "35 31 0:32 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,favordynmods\n",
		want:      true,
	}, {
		name: "a v1 hierarchy with it: the lock is one for all",
		mountinfo: "33 31 0:30 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids,favordynmods\n" +
			"35 31 0:32 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n",
		want: true,
	}, {
		name:      "another filesystem's option of that name does not count",
		mountinfo: "40 23 0:50 / /mnt rw - tmpfs favordynmods rw,favordynmods\n",
	}, {
		name:      "in the mount point's own options only (before the separator)",
		mountinfo: "35 31 0:32 / /sys/fs/cgroup rw,favordynmods - cgroup2 cgroup2 rw\n",
	}, {
		name:      "a prefix is not the option",
		mountinfo: "35 31 0:32 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,favordynmodsx\n",
	}, {
		name:      "garbage",
		mountinfo: "no separator here\n - cgroup2\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FavorsDynmods([]byte(tt.mountinfo)); got != tt.want {
				t.Errorf("FavorsDynmods = %v, want %v", got, tt.want)
			}
		})
	}
}

func FuzzFavorsDynmods(f *testing.F) {
	f.Add([]byte("35 31 0:32 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,favordynmods\n"))
	f.Fuzz(func(t *testing.T, mountinfo []byte) {
		if FavorsDynmods(mountinfo) && !strings.Contains(string(mountinfo), "favordynmods") {
			t.Fatalf("FavorsDynmods(%q) = true without the option", mountinfo)
		}
	})
}

func TestWarmLoop(t *testing.T) {
	failAfter := func(n int) func() error {
		return func() error {
			if n == 0 {
				return errors.New("EROFS")
			}
			n--
			return nil
		}
	}
	closed := make(chan struct{})
	close(closed)
	tests := []struct {
		name     string
		move     func() error
		limit    time.Duration
		stop     <-chan struct{}
		min, max int
	}{
		{name: "a failing move ends it at once", move: failAfter(0), limit: time.Hour, max: 0},
		{name: "and a later failure there", move: failAfter(3), limit: time.Hour, min: 3, max: 3},
		{name: "stopped: one move and out", move: failAfter(-1), limit: time.Hour, stop: closed, min: 1, max: 1},
		// 60 ms at 1 ms: the ticker drops ticks the loop misses, so
		// only the bounds are sure.
		{name: "the limit ends it", move: failAfter(-1), limit: 60 * time.Millisecond, min: 2, max: 61},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan int)
			go func() { done <- warmLoop(tt.move, time.Millisecond, tt.limit, tt.stop) }()
			select {
			case n := <-done:
				if n < tt.min || n > tt.max {
					t.Errorf("warmLoop made %d moves, want %d to %d", n, tt.min, tt.max)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("warmLoop did not return")
			}
		})
	}
}

// TestMigrationWarmerTarget checks what the warmer writes to: the
// cgroup.procs of the cgroup this process is in, where a move ("0": the
// writer) leaves it where it was.
func TestMigrationWarmerTarget(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("SOCKSPAWN_E2E") == "1" {
			t.Fatal("needs root (SOCKSPAWN_E2E=1)")
		}
		t.Skip("needs root")
	}
	mi := mustReadFile(t, "/proc/self/mountinfo")
	before := mustReadFile(t, "/proc/self/cgroup")
	f := ownProcsFile(mi)
	if f == nil {
		t.Fatal("ownProcsFile: no cgroup.procs of our own cgroup can be written")
	}
	defer f.Close()
	if path.Base(f.Name()) != "cgroup.procs" {
		t.Fatalf("ownProcsFile opened %s, want a cgroup.procs", f.Name())
	}
	own, err := OwnCgroup(before)
	if err != nil {
		t.Fatal(err)
	}
	if mnt, err := UnifiedMount(); err == nil && f.Name() != path.Join(mnt, own, "cgroup.procs") {
		t.Errorf("ownProcsFile opened %s, want %s", f.Name(), path.Join(mnt, own, "cgroup.procs"))
	}
	if _, err := f.Write([]byte("0")); err != nil {
		t.Fatalf("write 0 to %s: %v", f.Name(), err)
	}
	if after := mustReadFile(t, "/proc/self/cgroup"); string(after) != string(before) {
		t.Errorf("the move changed our cgroups:\n%s\nwas\n%s", after, before)
	}
	if FavorsDynmods(mi) {
		t.Skip("this host mounts a cgroup hierarchy with favordynmods: no warmer")
	}
	w := NewMigrationWarmer(time.Millisecond, time.Second)
	if w == nil {
		t.Fatal("NewMigrationWarmer: nil on a host without favordynmods")
	}
	w.StartStop()
	time.Sleep(20 * time.Millisecond)
	w.Close()
	w.Close() // twice is fine
	if after := mustReadFile(t, "/proc/self/cgroup"); string(after) != string(before) {
		t.Errorf("the warmer changed our cgroups:\n%s\nwas\n%s", after, before)
	}
	var none *MigrationWarmer // nil is fine
	none.StartBoot()
	none.StartStop()
	none.EndBoot()
	none.Close()
}

// TestMigrationWarmerRuns checks which runs go on: a start-up run ends at
// EndBoot, a stop run does not, and nothing runs after Close. The moves go
// to a file here, one byte each.
// fileWarmer is a warmer with the token name token that moves by
// writing a byte to a file of its own, and how many it has written.
func fileWarmer(t *testing.T, token string) (*MigrationWarmer, func() int64) {
	f, err := os.CreateTemp(t.TempDir(), "moves")
	if err != nil {
		t.Fatal(err)
	}
	w := &MigrationWarmer{f: f, interval: time.Millisecond, limit: time.Hour, tokenName: token, token: -1}
	return w, func() int64 {
		st, err := os.Stat(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
}

// movesGoOn reports whether moves go on over 30 ms, once one that was
// under way when asked has had time to end.
func movesGoOn(size func() int64) bool {
	time.Sleep(10 * time.Millisecond)
	n := size()
	time.Sleep(30 * time.Millisecond)
	return size() > n
}

func TestMigrationWarmerRuns(t *testing.T) {
	w, size := fileWarmer(t, testToken(t))
	moving := func() bool { return movesGoOn(size) }
	if moving() {
		t.Fatal("moves before any start")
	}
	w.StartBoot()
	if !moving() {
		t.Fatal("no moves after StartBoot")
	}
	w.EndBoot()
	if moving() {
		t.Fatal("moves after EndBoot")
	}
	w.StartStop()
	w.EndBoot() // not the stop's
	w.StartBoot()
	if !moving() {
		t.Fatal("no moves after StartStop, EndBoot, StartBoot")
	}
	w.Close()
	// No move once Close has returned: the supervisor may leave its
	// cgroup right after.
	n := size()
	time.Sleep(30 * time.Millisecond)
	if size() != n {
		t.Fatal("moves after Close returned")
	}
	w.StartStop()
	if moving() {
		t.Fatal("moves after a start after Close")
	}
}

// testToken is a token name of the test's own: supervisors running on the
// host (the e2e tests, in parallel) hold the real one now and then.
func testToken(t *testing.T) string {
	return fmt.Sprintf("@sockspawn-test/%s/%d/%d", t.Name(), os.Getpid(), time.Now().UnixNano())
}

// TestMigrationWarmerToken checks that one warmer moves at a time: a
// second waits while the first runs and takes over when it stops.
func TestMigrationWarmerToken(t *testing.T) {
	token := testToken(t)
	newWarmer := func() (*MigrationWarmer, func() int64) { return fileWarmer(t, token) }
	moving := movesGoOn
	w1, size1 := newWarmer()
	w2, size2 := newWarmer()
	defer w1.Close()
	defer w2.Close()
	w1.StartStop()
	if !moving(size1) {
		t.Fatal("the first warmer does not move")
	}
	w2.StartStop()
	if moving(size2) {
		t.Fatal("the second warmer moves while the first holds the token")
	}
	w1.Close()
	if !moving(size2) {
		t.Fatal("the second warmer does not take over once the first has closed")
	}
	w2.StartBoot() // a stop run goes on
	w3, size3 := newWarmer()
	defer w3.Close()
	w3.StartBoot()
	w2.Close()
	if !moving(size3) {
		t.Fatal("a third warmer does not take over")
	}
	w3.EndBoot()
	w4, size4 := newWarmer()
	defer w4.Close()
	w4.StartBoot()
	if !moving(size4) {
		t.Fatal("the token was kept after EndBoot ended the run")
	}
}
