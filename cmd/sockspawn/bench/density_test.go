package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDensityOptions(t *testing.T) {
	cases := []struct {
		args    []string
		density int
		kinds   int
		err     string
	}{
		{args: nil, density: 0, kinds: 4},
		{args: []string{"-measure", "density"}, density: 50, kinds: 0},
		{args: []string{"-measure", "density", "-density", "10"}, density: 10, kinds: 0},
		{args: []string{"-measure", "boot,density", "-density", "3"}, density: 3, kinds: 1},
		{args: []string{"-measure", "density", "-density", "0"}, err: "-density 0"},
		{args: []string{"-density", "10"}, density: 0, kinds: 4}, // not asked for
		{args: []string{"-measure", "density", "-density-inotify-limit", "128"}, density: 50, kinds: 0},
		{args: []string{"-measure", "density", "-density-inotify-limit", "-1"}, err: "-density-inotify-limit -1"},
		{args: []string{"-measure", "density", "-density-rounds", "3"}, density: 50, kinds: 0},
		{args: []string{"-measure", "density", "-density-rounds", "0"}, err: "-density-rounds 0"},
	}
	for _, c := range cases {
		o, err := parseOptions(c.args)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("parseOptions(%q): %v, want an error with %q", c.args, err, c.err)
			}
		case err != nil:
			t.Errorf("parseOptions(%q): %v", c.args, err)
		case o.density != c.density || len(o.kinds) != c.kinds:
			t.Errorf("parseOptions(%q): density %d, %d kinds; want %d, %d", c.args, o.density, len(o.kinds), c.density, c.kinds)
		}
	}
}

func TestDensityArgs(t *testing.T) {
	s := densityArgs(sockspawnTool("/bin/sockspawn"), "bench-d7")
	for _, want := range []string{"-U", "-b", "bench-d7", "--volatile=yes"} {
		if !slices.Contains(s, want) {
			t.Errorf("sockspawn's density command %q lacks %s", s, want)
		}
	}
	b := sockspawnTool("/tmp/other/sockspawn")
	b.name = "sockspawn-b" // an A/B run's second build
	if sb := densityArgs(b, "bench-d7"); !slices.Equal(sb[1:], s[1:]) || sb[0] != "/tmp/other/sockspawn" {
		t.Errorf("sockspawn-b's density command %q, want sockspawn's %q with its own binary", sb, s)
	}
	n := densityArgs(nspawnTool("/usr/bin/systemd-nspawn"), "bench-d7")
	if slices.Contains(n, "-U") || !slices.Contains(n, "bench-d7") || n[0] != "/usr/bin/systemd-nspawn" {
		t.Errorf("nspawn's density command %q: want bench-d7, no -U (it would chown the host's root)", n)
	}
	w := inCgroups([]string{"/sys/fs/cgroup/unified/x", "/sys/fs/cgroup/systemd/x"}, n)
	if w[0] != "/bin/sh" || !slices.Equal(w[4:], n) || !strings.Contains(w[2], "/sys/fs/cgroup/systemd/x") {
		t.Errorf("inCgroups = %q", w)
	}
}

func TestLimitFor(t *testing.T) {
	cases := []struct {
		current, want int
		raise         bool
		set           int
	}{
		{current: 1024, want: 0, set: 0},                   // as it is
		{current: 1024, want: 128, set: 128},               // -density-inotify-limit 128 lowers it
		{current: 128, want: 128, set: 0},                  // already so
		{current: 128, want: 8192, raise: true, set: 8192}, // nspawn's raised run
		{current: 16384, want: 8192, raise: true, set: 0},  // never lowered to "raise" it
	}
	for _, c := range cases {
		if got := limitFor(c.current, c.want, c.raise); got != c.set {
			t.Errorf("limitFor(%d, %d, %v) = %d, want %d", c.current, c.want, c.raise, got, c.set)
		}
	}
}

func TestDensityMedians(t *testing.T) {
	run := func(ready, killed int, all, stop time.Duration, rss int64) *densityResult {
		return &densityResult{n: 3, ready: ready, killed: killed, allReady: all, stop: stop, rssKiB: rss}
	}
	cases := []struct {
		name string
		runs []*densityResult
		want densityFigures
	}{
		{"one", []*densityResult{run(3, 0, 2*time.Second, time.Second, 100)}, densityFigures{2, 100, 1}},
		{"odd", []*densityResult{
			run(3, 0, 9*time.Second, 3*time.Second, 300),
			run(3, 0, 2*time.Second, 1*time.Second, 100),
			run(3, 0, 4*time.Second, 2*time.Second, 200)}, densityFigures{4, 200, 2}},
		{"even", []*densityResult{
			run(3, 0, 2*time.Second, 1*time.Second, 100),
			run(3, 0, 4*time.Second, 3*time.Second, 300)}, densityFigures{3, 200, 2}},
		// A run with machines not READY or killed has no figure, and the
		// medians of the rest would flatter the tool: none at all.
		{"not all ready", []*densityResult{run(3, 0, time.Second, time.Second, 1), run(2, 0, 0, time.Second, 1)}, densityFigures{}},
		{"killed", []*densityResult{run(3, 0, time.Second, time.Second, 1), run(3, 1, time.Second, time.Second, 1)}, densityFigures{}},
	}
	for _, c := range cases {
		if got := densityMedians(c.runs); got != c.want {
			t.Errorf("%s: densityMedians = %+v, want %+v", c.name, got, c.want)
		}
	}
}
