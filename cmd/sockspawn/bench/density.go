package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The density measurement starts N machines that boot this machine's own
// systemd at the same moment, each in a cgroup of its own below the
// bench's (in every hierarchy the bench has one in, so that nspawn's
// supervisor and payload cgroups are per machine too), and measures the
// time until all are READY, how many are within -density-timeout, the sum
// of the supervisors' RSS once they are, and the time from SIGTERM to all
// of them until the last has exited, with a SIGKILL for any still running
// after -timeout. sockspawn runs with -U (each machine has a budget of
// its own), on the sysctls as they are; nspawn runs as
// systemd-nspawn@.service would without -U (-U on -D / would chown the
// host), once on the sysctls as they are and once with
// fs.inotify.max_user_instances raised, for the timing comparison.
// -density-inotify-limit sets the limit for the runs on the sysctls as
// they are (to measure on a distribution's default on a host where it
// was raised), restored after each run.

// inotifyLimitPath is the sysctl every root-owned container shares.
const inotifyLimitPath = "/proc/sys/fs/inotify/max_user_instances"

// densityRaised is the inotify limit of nspawn's timing run.
const densityRaised = 8192

// densityResult is one density run of one tool.
type densityResult struct {
	label    string
	n        int
	limit    int           // fs.inotify.max_user_instances during the run
	ready    int           // machines READY within the timeout
	allReady time.Duration // start to the last READY=1, if all were
	rssKiB   int64         // the supervisors' VmRSS, summed
	stop     time.Duration // SIGTERM to all until the last exited
	killed   int           // machines that needed SIGKILL
	statuses map[int]int
	err      error
}

// densityCleanup, when set, undoes what a density run changed on the
// host (the sysctl, its cgroups), for the interrupt handler.
var densityCleanup struct {
	sync.Mutex
	fn func()
}

func setDensityCleanup(fn func()) {
	densityCleanup.Lock()
	densityCleanup.fn = fn
	densityCleanup.Unlock()
}

func runDensityCleanup() {
	densityCleanup.Lock()
	fn := densityCleanup.fn
	densityCleanup.fn = nil
	densityCleanup.Unlock()
	if fn != nil {
		fn()
	}
}

// densityArgs is the command line of machine name under t.
func densityArgs(t tool, name string) []string {
	if t.isSockspawn() {
		return []string{t.path, "run", "-q", "-D", "/", "--volatile=yes", "-M", name, "--notify-ready=yes", "-U",
			"-b", "--console=passive", "--", "systemd.firstboot=off"}
	}
	return []string{t.path, "-q", "-D", "/", "--volatile=yes", "-M", name, "--register=no", "--keep-unit",
		"--link-journal=no", "--notify-ready=yes", "-b", "--console=passive", "--", "systemd.firstboot=off"}
}

// inCgroups wraps argv in a shell that moves itself into the cgroups
// dirs, then execs argv: the supervisor starts there, with its PID.
func inCgroups(dirs []string, argv []string) []string {
	script := `for d in ` + strings.Join(dirs, " ") + `; do echo $$ > "$d/cgroup.procs" || exit 1; done; exec "$@"`
	return append([]string{"/bin/sh", "-c", script, "sh"}, argv...)
}

func readLimit() (int, error) {
	b, err := os.ReadFile(inotifyLimitPath)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

func writeLimit(n int) error {
	return os.WriteFile(inotifyLimitPath, []byte(strconv.Itoa(n)+"\n"), 0o644)
}

// density runs the measurement for every tool, nspawn both ways.
// With -density-rounds, the tools take turns going first, and nspawn
// runs on the sysctls as they are only in the first round (it is there
// to show what they allow, not for the timing).
func (b *bench) density() {
	first := " (sysctls as they are)"
	if b.o.densityLimit > 0 {
		first = " (limit set)"
	}
	for round := 0; round < b.o.densityRounds; round++ {
		tools := slices.Clone(b.tools)
		if round%2 == 1 {
			slices.Reverse(tools)
		}
		for _, t := range tools {
			if t.isSockspawn() || round == 0 {
				b.dense = append(b.dense, b.densityRun(t, t.name+first, b.o.densityLimit, false))
			}
			if !t.isSockspawn() {
				b.dense = append(b.dense, b.densityRun(t, t.name+" (limit raised)", densityRaised, true))
			}
		}
	}
}

// limitFor is the inotify limit to set for a run, 0 for none: set, when
// asked for (-density-inotify-limit); with raise, only to go up.
func limitFor(current, want int, raise bool) int {
	if want <= 0 || want == current || (raise && want < current) {
		return 0
	}
	return want
}

// densityRun starts b.o.density machines with t at once; with want, the
// inotify limit is set to want for the run (with raise, only if that is
// higher), and restored.
func (b *bench) densityRun(t tool, label string, want int, raise bool) (res densityResult) {
	res = densityResult{label: label, n: b.o.density, statuses: map[int]int{}}
	limit, err := readLimit()
	if err != nil {
		res.err = err
		return res
	}
	res.limit = limit
	var restore []func()
	defer func() {
		runDensityCleanup()
		if res.err != nil {
			b.failures++
			progress("density %s: %v", label, res.err)
		}
	}()
	setDensityCleanup(func() {
		for i := len(restore) - 1; i >= 0; i-- {
			restore[i]()
		}
	})
	if set := limitFor(limit, want, raise); set > 0 {
		if err := writeLimit(set); err != nil {
			res.err = fmt.Errorf("set %s to %d: %w", inotifyLimitPath, set, err)
			return res
		}
		progress("density %s: %s set to %d for the run (was %d)", label, inotifyLimitPath, set, limit)
		res.limit = set
		restore = append(restore, func() {
			if err := writeLimit(limit); err != nil {
				progress("bench: restore %s to %d: %v", inotifyLimitPath, limit, err)
			}
		})
	}
	// One cgroup per machine in each of the bench's hierarchies.
	var cgroups []string
	restore = append(restore, func() {
		w := &cgroupWatch{roots: cgroups, before: map[string]bool{}}
		if _, left := w.cleanup(); len(left) > 0 {
			progress("bench: density cgroups NOT removable: %s", strings.Join(left, "; "))
		}
	})
	runs := make([]*run, 0, b.o.density)
	readyAt := make([]time.Duration, b.o.density)
	progress("density %s: starting %d machines", label, b.o.density)
	t0 := time.Now()
	for i := 0; i < b.o.density; i++ {
		name := fmt.Sprintf("bench-d%d", i+1)
		var dirs []string
		for _, own := range ownCgroupDirs() {
			d := filepath.Join(own, "density-"+name)
			if err := os.Mkdir(d, 0o755); err != nil {
				res.err = err
				break
			}
			cgroups = append(cgroups, d)
			dirs = append(dirs, d)
		}
		if res.err != nil {
			break
		}
		b.seq++
		r, err := startArgv(t, b.work, b.seq, func(string) []string { return inCgroups(dirs, densityArgs(t, name)) })
		if err != nil {
			res.err = err
			break
		}
		runs = append(runs, r)
	}
	var wg sync.WaitGroup
	for i, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if d, err := r.waitReady(b.o.densityTimeout); err == nil {
				readyAt[i] = r.started.Sub(t0) + d
			}
		}()
	}
	wg.Wait()
	var last time.Duration
	for _, d := range readyAt[:len(runs)] {
		if d > 0 {
			res.ready++
			last = max(last, d)
		}
	}
	if res.ready == res.n {
		res.allReady = last
	}
	for _, r := range runs {
		if kib, err := rssKiB(r.pid()); err == nil {
			res.rssKiB += kib
		}
	}
	progress("density %s: %d of %d READY (last at %s), supervisors' RSS %s; stopping all", label, res.ready, res.n, fmtDuration(last), fmtKiB(res.rssKiB))
	var mu sync.Mutex
	s0 := time.Now()
	for _, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, status, err := r.stop(b.o.timeout)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.killed++
				return
			}
			res.statuses[status]++
		}()
	}
	wg.Wait()
	res.stop = time.Since(s0)
	for _, r := range runs {
		r.close()
	}
	progress("density %s: all stopped in %s, %d needed SIGKILL, exit statuses %s", label, fmtDuration(res.stop), res.killed, statusText(res.statuses))
	return res
}

// densityReport prints the density table, and the ratios of sockspawn's
// run to nspawn's with the raised limit.
func (b *bench) densityReport(w io.Writer) {
	if len(b.dense) == 0 {
		return
	}
	fmt.Fprintf(w, "\ndensity: %d machines booting this machine's own OS at once (-D / --volatile=yes -b; sockspawn with -U)\n", b.o.density)
	fmt.Fprintf(w, "  %-38s %8s %10s %16s %12s %14s %8s  %s\n", "", "inotify", "READY", "all READY after", "sum of RSS", "stopping all", "SIGKILL", "exit statuses")
	var ours, theirs []*densityResult
	for i := range b.dense {
		d := &b.dense[i]
		all := "-"
		if d.allReady > 0 {
			all = fmtDuration(d.allReady)
		}
		fmt.Fprintf(w, "  %-38s %8d %10s %16s %12s %14s %8d  %s\n", d.label, d.limit, fmt.Sprintf("%d of %d", d.ready, d.n), all,
			fmtKiB(d.rssKiB), fmtDuration(d.stop), d.killed, statusText(d.statuses))
		switch {
		case strings.HasPrefix(d.label, "sockspawn "):
			ours = append(ours, d)
		case strings.HasSuffix(d.label, "(limit raised)"):
			theirs = append(theirs, d)
		}
	}
	if ours == nil || theirs == nil {
		return
	}
	o, th := densityMedians(ours), densityMedians(theirs)
	ratio := func(a, b float64) string {
		if a <= 0 || b <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", a/b)
	}
	of := ""
	if len(ours) > 1 || len(theirs) > 1 {
		of = fmt.Sprintf(" (medians of %d and %d runs: all READY %s and %s, RSS %s and %s, stopping all %s and %s)",
			len(ours), len(theirs), fmtSecondsOr(o.allReady), fmtSecondsOr(th.allReady), fmtKiB(int64(o.rss)), fmtKiB(int64(th.rss)), fmtSecondsOr(o.stop), fmtSecondsOr(th.stop))
	}
	fmt.Fprintf(w, "  sockspawn / nspawn with the raised limit%s: all READY %s (target at most 0.9), RSS %s (at most 0.6), stopping all %s (at most 1.0, no SIGKILL)\n",
		of, ratio(o.allReady, th.allReady), ratio(o.rss, th.rss), ratio(o.stop, th.stop))
}

// densityFigures are the medians of a tool's density runs; allReady and
// stop in seconds, 0 when a run had machines not READY or killed (the
// figure is then missing, not better).
type densityFigures struct{ allReady, rss, stop float64 }

func densityMedians(runs []*densityResult) densityFigures {
	var ready, rss, stop []float64
	incomplete := false
	for _, d := range runs {
		if d.ready != d.n || d.killed > 0 || d.err != nil {
			incomplete = true
			continue
		}
		ready = append(ready, d.allReady.Seconds())
		rss = append(rss, float64(d.rssKiB))
		stop = append(stop, d.stop.Seconds())
	}
	var f densityFigures
	if incomplete {
		return f
	}
	f.allReady, _ = median(ready)
	f.rss, _ = median(rss)
	f.stop, _ = median(stop)
	return f
}

// fmtSecondsOr is fmtSeconds, or "-" for a missing figure.
func fmtSecondsOr(s float64) string {
	if s <= 0 {
		return "-"
	}
	return fmtSeconds(s)
}
