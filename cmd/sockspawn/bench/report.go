package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// median of xs; ok is false for no samples.
func median(xs []float64) (m float64, ok bool) {
	if len(xs) == 0 {
		return 0, false
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

func seconds(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = d.Seconds()
	}
	return out
}

func floats(ns []int64) []float64 {
	out := make([]float64, len(ns))
	for i, n := range ns {
		out[i] = float64(n)
	}
	return out
}

func fmtDuration(d time.Duration) string { return fmtSeconds(d.Seconds()) }

func fmtSeconds(s float64) string {
	if s < 1 {
		return fmt.Sprintf("%.1f ms", s*1000)
	}
	return fmt.Sprintf("%.3f s", s)
}

func fmtKiB(k int64) string { return fmtMiB(float64(k)) }

func fmtMiB(kib float64) string { return fmt.Sprintf("%.1f MiB", kib/1024) }

func fmtCount(n float64) string { return fmt.Sprintf("%g", n) }

// row is one line of the summary: a measurement, how to read it from a
// tool's results, and its target as a ratio of ours to nspawn's.
type row struct {
	kind    kind // the run that measures it
	label   string
	samples func(*results) []float64
	format  func(float64) string
	ratio   float64 // target: ours/nspawn at most this; 0 for none
	zero    bool    // target: ours is zero in every round
}

var rows = []row{
	{trivial, "(1) start to READY, trivial init", func(r *results) []float64 { return seconds(r.ready) }, fmtSeconds, 0.5, false},
	{boot, "(2) boot to READY, systemd -b", func(r *results) []float64 { return seconds(r.boot) }, fmtSeconds, 0.9, false},
	{boot, "(3) SIGTERM to exit, booted", func(r *results) []float64 { return seconds(r.stop) }, fmtSeconds, 1.0, false},
	{boot, "    of which: until the init exits", func(r *results) []float64 { return seconds(r.initStop) }, fmtSeconds, 0, false},
	{boot, "    then: until the manager exits", func(r *results) []float64 { return seconds(r.teardown) }, fmtSeconds, 0, false},
	{boot, "(4) supervisor RSS, idle", func(r *results) []float64 { return floats(r.rssKiB) }, fmtMiB, 1.0, false},
	{boot, "    supervisor wake-ups, idle", func(r *results) []float64 { return floats(r.switches) }, fmtCount, 0, true},
	{activated, "(5) connect to first byte, cold", func(r *results) []float64 { return seconds(r.cold) }, fmtSeconds, 0.9, false},
	{activated, "(6) connect to first byte, warm", func(r *results) []float64 { return seconds(r.warm) }, fmtSeconds, 1.0, false},
}

// verdict says whether ours met the row's target.
func (rw row) verdict(ours []float64, ratio float64, haveRatio bool) string {
	if rw.zero {
		if len(ours) == 0 {
			return "-"
		}
		max := 0.0
		for _, x := range ours {
			if x > max {
				max = x
			}
		}
		if max == 0 {
			return "met"
		}
		return fmt.Sprintf("MISSED (max %g)", max)
	}
	if !haveRatio || rw.ratio == 0 {
		return "-"
	}
	if ratio <= rw.ratio {
		return "met"
	}
	return "MISSED"
}

func (rw row) target() string {
	if rw.zero {
		return "0 each round"
	}
	if rw.ratio == 0 {
		return "-"
	}
	return fmt.Sprintf("ratio <= %.2f", rw.ratio)
}

func (b *bench) report(w io.Writer) {
	if len(b.kinds) > 0 {
		b.roundsReport(w)
	}
	b.densityReport(w)
	fmt.Fprint(w, cgroupReport(b.cgRemoved, b.cgLeft, b.cgBefore))
	fmt.Fprintf(w, "load average at the end: %s\n", loadAverage())
}

// roundsReport is the report of the measurements made in rounds.
func (b *bench) roundsReport(w io.Writer) {
	ours := b.results["sockspawn"]
	theirs := b.results["systemd-nspawn"]
	var names []string
	for _, t := range b.tools {
		names = append(names, t.name)
	}
	both := ours != nil && theirs != nil

	fmt.Fprintf(w, "\nmedians of %d rounds (idle window %s, %s after READY=1)\n", b.o.rounds, b.o.idle, b.o.settle)
	head := fmt.Sprintf("%-34s", "measurement")
	for _, n := range names {
		head += fmt.Sprintf(" %15s", n)
	}
	if both {
		head += fmt.Sprintf(" %7s %14s  %s", "ratio", "target", "")
	} else if ours != nil {
		head += fmt.Sprintf(" %14s  %s", "target", "")
	}
	fmt.Fprintln(w, strings.TrimRight(head, " "))
	fmt.Fprintln(w, strings.Repeat("-", len(strings.TrimRight(head, " "))+8))
	for _, rw := range rows {
		if !b.asked(rw.kind) {
			continue // not asked for with -measure
		}
		line := fmt.Sprintf("%-34s", rw.label)
		meds := map[string]float64{}
		for _, n := range names {
			r := b.results[n]
			if r == nil {
				line += fmt.Sprintf(" %15s", "-")
				continue
			}
			m, ok := median(rw.samples(r))
			if !ok {
				line += fmt.Sprintf(" %15s", "failed")
				continue
			}
			meds[n] = m
			line += fmt.Sprintf(" %15s", rw.format(m))
		}
		var oursSamples []float64
		if ours != nil {
			oursSamples = rw.samples(ours)
		}
		o, okO := meds["sockspawn"]
		t, okT := meds["systemd-nspawn"]
		haveRatio := okO && okT && t > 0 && !rw.zero
		ratio := 0.0
		if haveRatio {
			ratio = o / t
		}
		switch {
		case both && haveRatio:
			line += fmt.Sprintf(" %7.2f %14s  %s", ratio, rw.target(), rw.verdict(oursSamples, ratio, true))
		case both:
			line += fmt.Sprintf(" %7s %14s  %s", "-", rw.target(), rw.verdict(oursSamples, 0, false))
		case ours != nil:
			v := "-"
			if rw.zero {
				v = rw.verdict(oursSamples, 0, false)
			}
			line += fmt.Sprintf(" %14s  %s", rw.target(), v)
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	b.abReport(w)
	fmt.Fprintln(w)
	for _, n := range names {
		r := b.results[n]
		if r == nil {
			continue
		}
		var exits []string
		if b.measures(boot) {
			exits = append(exits, "booted "+statusText(r.statuses))
		}
		if b.measures(activated) {
			exits = append(exits, "activated "+statusText(r.activatedStatuses))
		}
		if len(exits) == 0 {
			exits = append(exits, "not measured")
		}
		fmt.Fprintf(w, "%s: exit status after SIGTERM: %s", n, strings.Join(exits, "; "))
		if f := r.failed[trivial] + r.failed[boot] + r.failed[activated]; f > 0 || r.skip[trivial] || r.skip[boot] || r.skip[activated] {
			fmt.Fprintf(w, "; %d failed runs", f)
			for _, k := range []kind{trivial, boot, activated} {
				if r.skip[k] {
					fmt.Fprintf(w, "; %s not measured to the end", kindName(k))
				}
			}
		}
		fmt.Fprintln(w)
		if b.o.verbose {
			fmt.Fprintf(w, "  (1) %s\n  (2) %s\n  (3) %s\n  (4) RSS KiB %v, wake-ups %v, notify datagrams %v\n",
				durations(r.ready), durations(r.boot), durations(r.stop), r.rssKiB, r.switches, r.notices)
			fmt.Fprintf(w, "  (5) %s\n  (6) %s (all: %s)\n", durations(r.cold), durations(r.warm), spread(r.warmAll))
		}
	}
	if b.missingActivate() {
		fmt.Fprintf(w, "(5) and (6) not measured: %s not found\n", b.o.activate)
	}
	if b.measures(boot) {
		fmt.Fprintln(w, "wake-ups: the supervisor's context switches (voluntary and not, all threads) in the idle window")
	}
	if b.measures(activated) {
		fmt.Fprintf(w, "(5), (6): behind systemd-socket-activate, with echo.socket (Accept=yes) inside; from connect() to\n"+
			"  the first byte: (5) of the connection that boots the container, (6) the median of %d sequential\n"+
			"  connections once it has sent READY=1 and %s more have passed (the table: the median of the rounds' medians)\n",
			b.o.warm, b.o.settle)
	}
	b.idleReport(w)
}

// abReport prints, when sockspawn-b ran, each row's median of sockspawn-b
// over sockspawn's: the A/B comparison of -sockspawn-b or -env-b.
func (b *bench) abReport(w io.Writer) {
	a, bb := b.results["sockspawn"], b.results["sockspawn-b"]
	if a == nil || bb == nil {
		return
	}
	fmt.Fprintf(w, "\nA/B: sockspawn-b (%s %s) over sockspawn\n", b.o.sockspawnB, strings.Join(b.o.envB, " "))
	for _, rw := range rows {
		if !b.asked(rw.kind) || rw.zero {
			continue
		}
		ma, okA := median(rw.samples(a))
		mb, okB := median(rw.samples(bb))
		if !okA || !okB || ma == 0 {
			continue
		}
		fmt.Fprintf(w, "%-34s %15s %15s %7.2f\n", rw.label, rw.format(ma), rw.format(mb), mb/ma)
	}
}

func statusText(m map[int]int) string {
	if len(m) == 0 {
		return "none"
	}
	var keys []int
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d (x%d)", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// spread is the minimum, quartiles and maximum of xs, in seconds.
func spread(xs []float64) string {
	if len(xs) == 0 {
		return "none"
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	q := func(p float64) string { return fmtSeconds(s[int(p*float64(len(s)-1))]) }
	return fmt.Sprintf("min %s, q1 %s, median %s, q3 %s, max %s of %d", q(0), q(0.25), q(0.5), q(0.75), q(1), len(s))
}

func durations(ds []time.Duration) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmtDuration(d))
	}
	return strings.Join(parts, " ")
}
