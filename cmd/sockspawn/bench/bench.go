package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// options are the bench's flags.
type options struct {
	rounds    int
	tools     []string
	kinds     []kind // measurements asked for, in their order
	sockspawn string
	// sockspawnB, with envB, is a second sockspawn measured as the tool
	// "sockspawn-b" in the same rounds: an A/B comparison of two builds
	// (or of one build with and without an environment switch).
	sockspawnB string
	envB       []string
	nspawn     string
	activate   string
	warm       int
	settle     time.Duration
	idle       time.Duration
	timeout    time.Duration
	warmup     bool
	verbose    bool
	// density is the number of machines of the density measurement, 0
	// when not asked for (see density.go).
	density        int
	densityTimeout time.Duration
	// densityLimit, when set, is fs.inotify.max_user_instances for the
	// density runs on the sysctls as they are (restored after).
	densityLimit int
	// densityRounds: runs of each tool, alternating, medians reported.
	densityRounds int
}

func parseOptions(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.IntVar(&o.rounds, "rounds", 15, "rounds; each runs every tool once per measurement, the order alternating")
	tools := fs.String("tools", "sockspawn,nspawn", "comma-separated tools to run: sockspawn, nspawn")
	measure := fs.String("measure", "trivial,boot,activated,idle", "comma-separated measurements: trivial (1), boot (2)-(4), activated (5)-(6), idle (7)-(9), density (N machines at once; not by default)")
	density := fs.Int("density", 50, "machines started at once for -measure density")
	fs.IntVar(&o.densityRounds, "density-rounds", 1, "runs of each tool for -measure density, the order alternating (nspawn on the sysctls as they are only in the first); the ratios are of the medians")
	fs.DurationVar(&o.densityTimeout, "density-timeout", 3*time.Minute, "limit for each machine's READY=1 in -measure density")
	fs.IntVar(&o.densityLimit, "density-inotify-limit", 0, "fs.inotify.max_user_instances for -measure density's runs on the sysctls as they are (sockspawn's, nspawn's first), such as 128, Debian's default; set for each run, restored after (0: as it is)")
	fs.StringVar(&o.sockspawn, "sockspawn", defaultSockspawn(), "the sockspawn binary")
	fs.StringVar(&o.sockspawnB, "sockspawn-b", "", "a second sockspawn binary, measured as sockspawn-b in the same rounds (A/B; add sockspawn-b to -tools)")
	envB := fs.String("env-b", "", "comma-separated NAME=VALUE set for sockspawn-b only (A/B of an environment switch)")
	fs.StringVar(&o.nspawn, "nspawn", "systemd-nspawn", "the systemd-nspawn binary")
	fs.StringVar(&o.activate, "socket-activate", "systemd-socket-activate", "the systemd-socket-activate binary, for (5) and (6)")
	fs.IntVar(&o.warm, "warm", 50, "sequential connections per round for (6), warm latency")
	fs.DurationVar(&o.settle, "settle", 2*time.Second, "wait after READY=1 before the idle window")
	fs.DurationVar(&o.idle, "idle", 5*time.Second, "idle window for RSS and context switches")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "limit for READY=1 and for the exit after SIGTERM")
	fs.BoolVar(&o.warmup, "warmup", true, "run each tool once, unmeasured, first (page cache)")
	fs.BoolVar(&o.verbose, "v", false, "print every sample and the notify traffic")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: bench [flags]    (as root)\n       bench notify-wait [-stay] [-timeout D] SOCKET KEY\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.rounds < 1 {
		return o, fmt.Errorf("-rounds %d: must be at least 1", o.rounds)
	}
	if o.warm < 1 {
		return o, fmt.Errorf("-warm %d: must be at least 1", o.warm)
	}
	for _, t := range strings.Split(*tools, ",") {
		switch t = strings.TrimSpace(t); t {
		case "sockspawn", "nspawn", "sockspawn-b":
			o.tools = append(o.tools, t)
		case "systemd-nspawn":
			o.tools = append(o.tools, "nspawn")
		case "":
		default:
			return o, fmt.Errorf("-tools: unknown tool %q (sockspawn, nspawn, sockspawn-b)", t)
		}
	}
	if len(o.tools) == 0 {
		return o, fmt.Errorf("-tools: none given")
	}
	for _, e := range strings.Split(*envB, ",") {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return o, fmt.Errorf("-env-b: %q is not NAME=VALUE", e)
		}
		o.envB = append(o.envB, e)
	}
	if slices.Contains(o.tools, "sockspawn-b") && o.sockspawnB == "" && len(o.envB) == 0 {
		return o, fmt.Errorf("-tools sockspawn-b: give -sockspawn-b or -env-b")
	}
	o.kinds = []kind{trivial, boot, activated, idleKind}
	want := map[kind]bool{}
	for _, m := range strings.Split(*measure, ",") {
		switch m = strings.TrimSpace(m); m {
		case "trivial", "1":
			want[trivial] = true
		case "boot", "2", "3", "4":
			want[boot] = true
		case "activated", "5", "6":
			want[activated] = true
		case "idle", "7", "8", "9":
			want[idleKind] = true
		case "density":
			if *density < 1 {
				return o, fmt.Errorf("-density %d: must be at least 1", *density)
			}
			o.density = *density
			if o.densityRounds < 1 {
				return o, fmt.Errorf("-density-rounds %d: must be at least 1", o.densityRounds)
			}
		case "":
		default:
			return o, fmt.Errorf("-measure: unknown measurement %q (trivial, boot, activated, idle, density)", m)
		}
	}
	o.kinds = slices.DeleteFunc(o.kinds, func(k kind) bool { return !want[k] })
	if o.densityLimit < 0 {
		return o, fmt.Errorf("-density-inotify-limit %d: must be at least 1 (0: as it is)", o.densityLimit)
	}
	if len(o.kinds) == 0 && o.density == 0 {
		return o, fmt.Errorf("-measure: none given")
	}
	return o, nil
}

// defaultSockspawn is the sockspawn beside the bench binary (make puts
// both in bin/), else bin/sockspawn.
func defaultSockspawn() string {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "sockspawn")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "bin/sockspawn"
}

func benchMain(args []string) int {
	o, err := parseOptions(args)
	if err == flag.ErrHelp {
		return 0
	} else if err != nil {
		return fail("%v", err)
	}
	if os.Geteuid() != 0 {
		return fail("must run as root: both tools create namespaces and mounts")
	}
	var tools []tool
	for _, name := range o.tools {
		switch name {
		case "sockspawn":
			p, err := exec.LookPath(o.sockspawn)
			if err != nil {
				return fail("sockspawn binary %s: %v (run make build)", o.sockspawn, err)
			}
			tools = append(tools, sockspawnTool(p))
		case "sockspawn-b":
			bin := o.sockspawnB
			if bin == "" {
				bin = o.sockspawn
			}
			p, err := exec.LookPath(bin)
			if err != nil {
				return fail("sockspawn-b binary %s: %v", bin, err)
			}
			t := sockspawnTool(p)
			t.name, t.env = "sockspawn-b", o.envB
			tools = append(tools, t)
		case "nspawn":
			p, err := exec.LookPath(o.nspawn)
			if err != nil {
				return fail("%s: %v (apt-get install systemd-container, or -tools sockspawn)", o.nspawn, err)
			}
			tools = append(tools, nspawnTool(p))
		}
	}
	kinds := o.kinds
	var socketActivate string
	if slices.Contains(kinds, activated) {
		socketActivate, err = exec.LookPath(o.activate)
		if err != nil {
			// (1) to (4) do not need it; the report shows (5) and (6)
			// as not measured and the bench fails.
			progress("bench: %s: %v (apt-get install systemd); not measuring (5) and (6)", o.activate, err)
			kinds = slices.DeleteFunc(slices.Clone(kinds), func(k kind) bool { return k == activated })
		}
	}
	cgroups := watchCgroups(machine)

	work, err := os.MkdirTemp("", "sockspawn-bench-")
	if err != nil {
		return fail("%v", err)
	}
	defer os.RemoveAll(work)
	payload := filepath.Join(work, "payload")
	if err := copySelf(filepath.Join(payload, "bench")); err != nil {
		return fail("%v", err)
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "\nbench: %v: stopping the containers\n", s)
		closeActive()
		killActive()
		runDensityCleanup()
		removed, left := cgroups.cleanup()
		fmt.Fprint(os.Stderr, cgroupReport(removed, left, cgroups.preexisting()))
		_ = os.RemoveAll(work)
		os.Exit(130)
	}()

	b := &bench{o: o, tools: tools, kinds: kinds, socketActivate: socketActivate, work: work, payload: payload, results: map[string]*results{}}
	if b.missingActivate() {
		b.failures++
	}
	b.header(os.Stdout)
	if len(b.kinds) > 0 {
		b.runAll()
	}
	if b.o.density > 0 {
		b.density()
	}
	b.cgRemoved, b.cgLeft = cgroups.cleanup()
	b.cgBefore = cgroups.preexisting()
	if len(b.cgLeft) > 0 {
		b.failures++
	}
	b.report(os.Stdout)
	if b.failures > 0 {
		return 1
	}
	return 0
}

// copySelf copies the bench's own (static) executable to dst, to be bound
// into the trivial containers.
func copySelf(dst string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("own executable: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(exe)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s to %s: %w", exe, dst, err)
	}
	return out.Close()
}

// bench is one run of all measurements.
type bench struct {
	o              options
	tools          []tool
	kinds          []kind // measured, in this order each round
	socketActivate string // systemd-socket-activate, for activated
	work           string
	payload        string
	seq            int
	results        map[string]*results // by tool name
	failures       int
	cgRemoved      []string                // cgroups the run left behind, removed
	cgLeft         []string                // cgroups the run left behind, not removable
	cgBefore       []string                // cgroups where nspawn puts its own, from before the run
	idle           map[string]*idleResults // by tool name: sockspawn and sockspawn-b
	dense          []densityResult
}

// asked reports whether -measure asked for kind k.
func (b *bench) asked(k kind) bool { return slices.Contains(b.o.kinds, k) }

// measures reports whether this run measures kind k.
func (b *bench) measures(k kind) bool { return slices.Contains(b.kinds, k) }

// missingActivate reports whether (5) and (6) were asked for but are not
// measured: there is no systemd-socket-activate.
func (b *bench) missingActivate() bool { return b.asked(activated) && !b.measures(activated) }

// results are one tool's samples.
type results struct {
	ready    []time.Duration // (1) start to READY=1, trivial init
	boot     []time.Duration // (2) start to READY=1, systemd -b
	stop     []time.Duration // (3) SIGTERM to exit, booted systemd
	initStop []time.Duration // (3) SIGTERM to the init's exit, where known
	teardown []time.Duration // (3) the init's exit to the manager's, where known
	rssKiB   []int64         // (4) supervisor VmRSS at the end of the idle window
	switches []int64         // (4) supervisor context switches in the idle window
	notices  []int64         // notify datagrams in the idle window
	statuses map[int]int     // exit statuses after SIGTERM, booted
	cold     []time.Duration // (5) connect to first byte, the connection that boots
	warm     []time.Duration // (6) connect to first byte, booted: median of each round
	warmAll  []float64       // (6) every sample, with -v
	// activatedStatuses are the exit statuses after SIGTERM, activated.
	activatedStatuses map[int]int
	failed            map[kind]int  // failed runs
	skip              map[kind]bool // kinds no longer tried
}

func (b *bench) res(t tool) *results {
	r := b.results[t.name]
	if r == nil {
		r = &results{statuses: map[int]int{}, activatedStatuses: map[int]int{}, failed: map[kind]int{}, skip: map[kind]bool{}}
		b.results[t.name] = r
	}
	return r
}

func (b *bench) header(w io.Writer) {
	if len(b.kinds) > 0 {
		fmt.Fprintf(w, "sockspawn bench: %d rounds, the order of the tools alternating each round\n", b.o.rounds)
	} else {
		fmt.Fprintf(w, "sockspawn bench: density only\n")
	}
	fmt.Fprintf(w, "image: this machine's own OS (-D / --volatile=yes); %s, %d CPUs; load average %s\n",
		kernel(), runtime.NumCPU(), loadAverage())
	for _, t := range b.tools {
		fmt.Fprintf(w, "  %-15s %s (%s)\n", t.name+":", version(t.path), t.path)
	}
	fmt.Fprintln(w, "commands (NOTIFY_SOCKET set to a receiver in the bench; DIR holds the bench binary):")
	for _, k := range b.kinds {
		for _, t := range b.tools {
			switch k {
			case idleKind:
				if t.name == "sockspawn" {
					for _, a := range []string{"freeze", "poweroff"} {
						fmt.Fprintf(w, "  %s\n", idleTool(t, a, "127.0.0.1:PORT", "UNITS").commandLine(k, ""))
					}
				}
			case activated:
				act := &activation{path: "systemd-socket-activate", addr: "127.0.0.1:PORT"}
				fmt.Fprintf(w, "  %s\n", t.commandLine(k, "UNITS", act.argv("RECEIVER")...))
			default:
				fmt.Fprintf(w, "  %s\n", t.commandLine(k, "DIR"))
			}
		}
	}
	if b.measures(activated) {
		fmt.Fprintf(w, "  UNITS: echo.socket (ListenStream=127.0.0.1:PORT Accept=yes, in sockets.target.wants/) and\n"+
			"  echo@.service (ExecStart=/bin/sh -c 'echo hello', StandardInput=/StandardOutput=socket);\n"+
			"  PORT: a free port on 127.0.0.1, a new one each run\n")
	}
	fmt.Fprintln(w)
}

// order is the tools in round i: reversed every other round.
func (b *bench) order(i int) []tool {
	ts := append([]tool(nil), b.tools...)
	if i%2 == 1 {
		for l, r := 0, len(ts)-1; l < r; l, r = l+1, r-1 {
			ts[l], ts[r] = ts[r], ts[l]
		}
	}
	return ts
}

func (b *bench) runAll() {
	if b.o.warmup {
		for _, t := range b.tools {
			progress("warm-up %s", t.name)
			for _, k := range b.kinds {
				if _, err := b.measure(t, k, false); err != nil {
					b.res(t).skip[k] = true
					b.failures++
					progress("  %s: %v; skipping this measurement for %s", kindName(k), err, t.name)
				}
			}
		}
	}
	for i := 0; i < b.o.rounds; i++ {
		var line []string
		for _, k := range b.kinds {
			for _, t := range b.order(i) {
				res := b.res(t)
				if res.skip[k] {
					continue
				}
				s, err := b.measure(t, k, true)
				if err != nil {
					b.failures++
					res.failed[k]++
					if res.failed[k] >= 2 {
						res.skip[k] = true
					}
					progress("round %d: %s %s: %v", i+1, t.name, kindName(k), err)
					continue
				}
				line = append(line, t.name+" "+s)
			}
		}
		progress("round %d/%d: %s", i+1, b.o.rounds, strings.Join(line, "; "))
	}
}

func kindName(k kind) string {
	switch k {
	case boot:
		return "boot"
	case activated:
		return "activated"
	case idleKind:
		return "idle"
	}
	return "trivial"
}

// measure runs one container of kind k; when record is set, it stores
// the samples and returns them as text.
func (b *bench) measure(t tool, k kind, record bool) (string, error) {
	if k == activated {
		return b.activatedRun(t, record)
	}
	if k == idleKind {
		return b.idleRun(t, record)
	}
	return b.trivialOrBoot(t, k, record)
}

// trivialOrBoot runs one container of kind k; when record is set, it
// stores the samples and returns them as text.
func (b *bench) trivialOrBoot(t tool, k kind, record bool) (string, error) {
	b.seq++
	r, err := startRun(t, k, b.work, b.payload, b.seq, nil)
	if err != nil {
		return "", err
	}
	defer r.close()
	failWith := func(err error) (string, error) { return "", r.fail(t, err) }
	ready, err := r.waitReady(b.o.timeout)
	if err != nil {
		return failWith(err)
	}
	res := b.res(t)
	if k == trivial {
		stop, status, err := r.stop(b.o.timeout)
		if err != nil {
			return failWith(err)
		}
		if status != 0 {
			progress("  %s trivial: exit status %d after SIGTERM", t.name, status)
		}
		if record {
			res.ready = append(res.ready, ready)
		}
		return fmt.Sprintf("ready %s (stop %s)", fmtDuration(ready), fmtDuration(stop)), nil
	}

	var switches, rss, notices int64
	if record {
		time.Sleep(b.o.settle)
		pid := r.pid()
		cs0, err := contextSwitches(pid)
		if err != nil {
			return failWith(err)
		}
		n0 := r.notices.Load()
		time.Sleep(b.o.idle)
		cs1, err := contextSwitches(pid)
		if err != nil {
			return failWith(err)
		}
		if rss, err = rssKiB(pid); err != nil {
			return failWith(err)
		}
		switches, notices = cs1-cs0, r.notices.Load()-n0
	}
	stop, status, err := r.stop(b.o.timeout)
	if err != nil {
		return failWith(err)
	}
	if !record {
		return "", nil
	}
	res.boot = append(res.boot, ready)
	res.stop = append(res.stop, stop)
	if r.initGone > 0 {
		res.initStop = append(res.initStop, r.initGone)
		res.teardown = append(res.teardown, stop-r.initGone)
	}
	res.rssKiB = append(res.rssKiB, rss)
	res.switches = append(res.switches, switches)
	res.notices = append(res.notices, notices)
	res.statuses[status]++
	s := fmt.Sprintf("boot %s, %s idle: RSS %s, %d switches", fmtDuration(ready), b.o.idle, fmtKiB(rss), switches)
	if b.o.verbose {
		s += fmt.Sprintf(" (%d notify datagrams)", notices)
	}
	s += fmt.Sprintf(", stop %s (status %d)", fmtDuration(stop), status)
	if r.initGone > 0 {
		s += fmt.Sprintf(" = init %s + teardown %s", fmtDuration(r.initGone), fmtDuration(stop-r.initGone))
	}
	return s, nil
}

// progress prints a progress line on standard error.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

// kernel is the running kernel's release.
func kernel() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "Linux"
	}
	var b []byte
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return "Linux " + string(b)
}

// loadAverage is the first three fields of /proc/loadavg: a bench on a
// busy machine is noisier, and the report says so.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// version is the first line of `path --version`.
func version(path string) string {
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return "version unknown"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}
