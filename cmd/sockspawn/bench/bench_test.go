package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
		ok   bool
	}{
		{nil, 0, false},
		{[]float64{3}, 3, true},
		{[]float64{5, 1, 3}, 3, true},
		{[]float64{4, 1, 3, 2}, 2.5, true},
	} {
		got, ok := median(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("median(%v) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseStatus(t *testing.T) {
	m := parseStatus("Name:\tsockspawn\nVmRSS:\t    8120 kB\nvoluntary_ctxt_switches:\t12\n")
	if n, err := statusNumber(m, "VmRSS"); err != nil || n != 8120 {
		t.Errorf("VmRSS = %d, %v; want 8120", n, err)
	}
	if n, err := statusNumber(m, "voluntary_ctxt_switches"); err != nil || n != 12 {
		t.Errorf("voluntary_ctxt_switches = %d, %v; want 12", n, err)
	}
	if _, err := statusNumber(m, "VmHWM"); err == nil {
		t.Error("missing field: no error")
	}
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions([]string{"-rounds", "3", "-tools", "sockspawn"})
	if err != nil || o.rounds != 3 || len(o.tools) != 1 || o.tools[0] != "sockspawn" {
		t.Errorf("got %+v, %v", o, err)
	}
	for _, bad := range [][]string{{"-rounds", "0"}, {"-tools", "docker"}, {"-tools", ","}, {"extra"}} {
		if _, err := parseOptions(bad); err == nil {
			t.Errorf("parseOptions(%q): no error", bad)
		}
	}
}

func TestOrderAlternates(t *testing.T) {
	b := &bench{tools: []tool{{name: "a"}, {name: "b"}}}
	if got := b.order(0); got[0].name != "a" || got[1].name != "b" {
		t.Errorf("round 0: %v", got)
	}
	if got := b.order(1); got[0].name != "b" || got[1].name != "a" {
		t.Errorf("round 1: %v", got)
	}
}

func TestNotifyRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	r, err := listenNotify(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := sendNotify(path, "STATUS=booting\nX_NSPAWN_LEADER_PID=42\nREADY=1\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-r.C:
		if !n.has("READY=1") || n.value("STATUS") != "booting" || n.value("X_NSPAWN_LEADER_PID") != "42" {
			t.Errorf("got %q", n.lines)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no datagram")
	}
}

func TestNotifyClosesPassedFDs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	r, err := listenNotify(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sock, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(sock)
	before := openFDs(t)
	err = syscall.Sendmsg(sock, []byte("FDSTORE=1"), syscall.UnixRights(sock), &syscall.SockaddrUnix{Name: path}, 0)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-r.C:
		if !n.has("FDSTORE=1") {
			t.Errorf("got %q", n.lines)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no datagram")
	}
	if after := openFDs(t); after != before {
		t.Errorf("open fds: %d before, %d after receiving one", before, after)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	return len(ents)
}
