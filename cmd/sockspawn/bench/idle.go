package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sockspawn/sockspawn/payload"
)

// Measurements (7) to (9), sockspawn's idle actions (issue 12). sockspawn
// binds a TCP socket on 127.0.0.1 itself (--listen) with the same echo
// units inside as (5) and (6), and an idle period of idlePeriod:
//
//	(7) first byte after a freeze: connect() to the first byte of a
//	    connection to the frozen machine, the median of idleWakes per
//	    round; against the warm first byte of the same run (the median of
//	    -warm connections once booted, as (6)): target at most 2 times;
//	(8) first byte after an idle poweroff: the connection that boots the
//	    machine again once it powered itself off; against systemd-nspawn's
//	    cold first byte (5) of the same bench: target at most 0.95;
//	(9) while frozen, over the idle window: the supervisor's context
//	    switches and the container's CPU time (its cgroup's usage_usec):
//	    target 0 for both.

const (
	idlePeriod = "1s"
	idleWakes  = 5 // freeze and wake cycles per round
)

// idleResults are the samples of (7) to (9), per round.
type idleResults struct {
	warm     []time.Duration // the warm first byte of the same run
	afterFrz []time.Duration // (7), the median of the round's wakes
	afterOff []time.Duration // (8)
	switches []int64         // (9) the most of the round's windows
	cpuUsec  []int64         // (9) the most of the round's windows
}

// idleTool is sockspawn with --listen on addr and the idle action.
func idleTool(t tool, action, addr, units string) tool {
	return tool{name: t.name, path: t.path, args: func(kind, string) []string {
		return []string{"run", "-D", "/", "--volatile=yes", "-M", machine, "--notify-ready=yes",
			"--listen=" + addr, "--idle-action=" + action, "--idle-action-sec=" + idlePeriod,
			"-b", "--console=passive", "--bind-ro=" + units + ":" + unitsTarget, "--", "systemd.firstboot=off"}
	}, env: t.env}
}

// idleRun is one round of (7) to (9) with sockspawn (and sockspawn-b);
// other tools have no idle action, and are not run.
func (b *bench) idleRun(t tool, record bool) (string, error) {
	if !t.isSockspawn() {
		return "skipped (no idle action)", nil
	}
	frz, err := b.idleFreezeRun(t, record)
	if err != nil {
		return "", err
	}
	off, err := b.idlePoweroffRun(t, record)
	if err != nil {
		return "", err
	}
	return frz + "; " + off, nil
}

// idleSetup makes the units and the address of one run.
func (b *bench) idleSetup() (addr, units string, err error) {
	b.seq++
	port, err := freeLoopbackPort()
	if err != nil {
		return "", "", err
	}
	addr = "127.0.0.1:" + strconv.Itoa(port)
	units = filepath.Join(b.work, fmt.Sprintf("units-%d", b.seq))
	return addr, units, writeSocketUnits(units, addr)
}

// firstByteBooting is firstByte for the connection that boots the
// machine, tried again while sockspawn has not bound its socket yet.
func firstByteBooting(r *run, addr string, timeout time.Duration) (time.Duration, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := firstByte(addr, timeout)
		if !errors.Is(err, syscall.ECONNREFUSED) || time.Now().After(deadline) {
			return d, err
		}
		select {
		case <-r.exited:
			return 0, fmt.Errorf("sockspawn exited")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (b *bench) idleFreezeRun(t tool, record bool) (string, error) {
	addr, units, err := b.idleSetup()
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(units)
	it := idleTool(t, "freeze", addr, units)
	r, err := startRun(it, activated, b.work, units, b.seq, nil)
	if err != nil {
		return "", err
	}
	defer r.close()
	failWith := func(err error) (string, error) { return "", r.fail(it, fmt.Errorf("freeze: %w", err)) }
	if _, err := firstByteBooting(r, addr, b.o.timeout); err != nil {
		return failWith(fmt.Errorf("first connection: %w", err))
	}
	if _, err := r.waitReady(b.o.timeout); err != nil {
		return failWith(err)
	}
	time.Sleep(b.o.settle)
	warm, err := warmFirstBytes(addr, b.o.warm)
	if err != nil {
		return failWith(err)
	}
	fz, err := openPayloadFreezer(r.pid())
	if err != nil {
		return failWith(err)
	}
	defer fz.Close()
	var wakes []float64
	var maxSwitches, maxCPU int64
	for i := 0; i < idleWakes; i++ {
		if err := fz.WaitFrozen(true, 60*time.Second); err != nil {
			return failWith(fmt.Errorf("wake %d: %w", i+1, err))
		}
		if i == 0 {
			// (9): one idle window while frozen, once the freeze has
			// settled as (4)'s window once READY=1 has.
			time.Sleep(b.o.settle)
			cs0, err0 := contextSwitches(r.pid())
			cpu0, err1 := cgroupCPU(fz)
			time.Sleep(b.o.idle)
			cs1, err2 := contextSwitches(r.pid())
			cpu1, err3 := cgroupCPU(fz)
			if err := errors.Join(err0, err1, err2, err3); err != nil {
				return failWith(err)
			}
			if frozen, _ := fz.Frozen(); !frozen {
				return failWith(fmt.Errorf("thawed during the idle window, with no connection"))
			}
			maxSwitches, maxCPU = cs1-cs0, cpu1-cpu0
		}
		d, err := firstByte(addr, 30*time.Second)
		if err != nil {
			return failWith(fmt.Errorf("connection to the frozen machine %d: %w", i+1, err))
		}
		wakes = append(wakes, d.Seconds())
	}
	if _, _, err := r.stop(b.o.timeout); err != nil {
		return failWith(err)
	}
	mw, _ := median(warm)
	mf, _ := median(wakes)
	if record {
		res := b.idleOf(t.name)
		res.warm = append(res.warm, time.Duration(mw*float64(time.Second)))
		res.afterFrz = append(res.afterFrz, time.Duration(mf*float64(time.Second)))
		res.switches = append(res.switches, maxSwitches)
		res.cpuUsec = append(res.cpuUsec, maxCPU)
	}
	return fmt.Sprintf("idle freeze: warm %s, after a freeze %s (median of %d), frozen %s: %d switches, %d µs CPU",
		fmtSeconds(mw), fmtSeconds(mf), len(wakes), b.o.idle, maxSwitches, maxCPU), nil
}

func (b *bench) idlePoweroffRun(t tool, record bool) (string, error) {
	addr, units, err := b.idleSetup()
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(units)
	it := idleTool(t, "poweroff", addr, units)
	r, err := startRun(it, activated, b.work, units, b.seq, nil)
	if err != nil {
		return "", err
	}
	defer r.close()
	failWith := func(err error) (string, error) { return "", r.fail(it, fmt.Errorf("poweroff: %w", err)) }
	if _, err := firstByteBooting(r, addr, b.o.timeout); err != nil {
		return failWith(fmt.Errorf("first connection: %w", err))
	}
	const again = "it boots again on the next connection"
	if err := r.waitLog(again, b.o.timeout); err != nil {
		return failWith(err)
	}
	// As (5) waits for systemd-socket-activate to listen.
	time.Sleep(100 * time.Millisecond)
	d, err := firstByte(addr, b.o.timeout)
	if err != nil {
		return failWith(fmt.Errorf("the connection after the poweroff: %w", err))
	}
	if _, _, err := r.stop(b.o.timeout); err != nil {
		return failWith(err)
	}
	if record {
		res := b.idleOf(t.name)
		res.afterOff = append(res.afterOff, d)
	}
	return fmt.Sprintf("idle poweroff: first byte after it %s", fmtDuration(d)), nil
}

// openPayloadFreezer opens the freezer of the container whose supervisor
// is pid: not delegated, its cgroup is sockspawn-bench below the
// supervisor's.
func openPayloadFreezer(pid int) (*payload.Freezer, error) {
	mnt, err := payload.UnifiedMount()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return nil, err
	}
	own, err := payload.OwnCgroup(b)
	if err != nil {
		return nil, err
	}
	p, _ := payload.PayloadCgroup(own, machine, path.Base(own) == "supervisor")
	if path.Base(own) == "supervisor" {
		p, _ = payload.PayloadCgroup(path.Dir(own), machine, true)
	}
	return payload.OpenFreezer(filepath.Join(mnt, p))
}

// cgroupCPU reads the container's CPU time (usage_usec of cpu.stat).
func cgroupCPU(fz *payload.Freezer) (int64, error) {
	b, err := os.ReadFile(filepath.Join(fz.Dir(), "cpu.stat"))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "usage_usec "); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("%s/cpu.stat: no usage_usec", fz.Dir())
}

// idleOf is the idle results of the tool named name.
func (b *bench) idleOf(name string) *idleResults {
	if b.idle == nil {
		b.idle = map[string]*idleResults{}
	}
	if b.idle[name] == nil {
		b.idle[name] = &idleResults{}
	}
	return b.idle[name]
}

// idleReport writes the table of (7) to (9).
func (b *bench) idleReport(w io.Writer) {
	if !b.measures(idleKind) {
		return
	}
	r := b.idleOf("sockspawn")
	med := func(ds []time.Duration) (float64, bool) { return median(seconds(ds)) }
	fmt.Fprintf(w, "\nidle actions (sockspawn, --listen, IdleActionSec=%s), medians of %d rounds\n", idlePeriod, len(r.warm))
	fmt.Fprintf(w, "%-44s %12s %12s %7s %14s\n", "measurement", "sockspawn", "against", "ratio", "target")
	line := func(label string, ours, against float64, okO, okA bool, target float64) {
		s := fmt.Sprintf("%-44s", label)
		if !okO {
			fmt.Fprintln(w, s+" failed")
			return
		}
		s += fmt.Sprintf(" %12s", fmtSeconds(ours))
		if !okA || against == 0 {
			fmt.Fprintln(w, s+fmt.Sprintf(" %12s", "-"))
			return
		}
		ratio := ours / against
		v := "met"
		if ratio > target {
			v = "MISSED"
		}
		fmt.Fprintf(w, "%s %12s %7.2f %14s  %s\n", s, fmtSeconds(against), ratio, fmt.Sprintf("ratio <= %.2f", target), v)
	}
	mf, okF := med(r.afterFrz)
	mw, okW := med(r.warm)
	line("(7) first byte after a freeze / warm", mf, mw, okF, okW, 2)
	mo, okO := med(r.afterOff)
	var nspawnCold float64
	okC := false
	if theirs := b.results["systemd-nspawn"]; theirs != nil {
		nspawnCold, okC = med(theirs.cold)
	}
	line("(8) first byte after idle poweroff / nspawn (5)", mo, nspawnCold, okO, okC, 0.95)
	zero := func(label string, xs []int64, unit string) {
		most := int64(0)
		for _, x := range xs {
			most = max(x, most)
		}
		v := "met"
		if most > 0 {
			v = fmt.Sprintf("MISSED (max %d)", most)
		}
		if len(xs) == 0 {
			v = "failed"
		}
		fmt.Fprintf(w, "%-44s %12s %12s %7s %14s  %s\n", label, strings.TrimSpace(fmt.Sprintf("%d %s", most, unit)), "-", "-", "0 each round", v)
	}
	zero("(9) supervisor context switches, frozen", r.switches, "")
	zero("    container CPU time, frozen", r.cpuUsec, "µs")
	fmt.Fprintf(w, "(7): %d wakes per round, each a connection once the cgroup is frozen; warm: the median of %d\n"+
		"  connections once booted, in the same run. (8): the connection after the machine powered itself off\n"+
		"  and sockspawn re-armed its socket. (9): the most in a round, over a %s window while frozen, %s after\n"+
		"  the freeze\n", idleWakes, b.o.warm, b.o.idle, b.o.settle)
	if !okC {
		fmt.Fprintln(w, "(8) has no figure to compare with: measure activated (5) with systemd-nspawn in the same run")
	}
	if rb := b.idle["sockspawn-b"]; rb != nil {
		fmt.Fprintln(w, "A/B: sockspawn-b over sockspawn")
		for _, ab := range []struct {
			label string
			a, b  []time.Duration
		}{{"(7) first byte after a freeze", r.afterFrz, rb.afterFrz}, {"(8) first byte after idle poweroff", r.afterOff, rb.afterOff}} {
			ma, okA := med(ab.a)
			mb, okB := med(ab.b)
			if okA && okB && ma > 0 {
				fmt.Fprintf(w, "%-44s %12s %12s %7.2f\n", ab.label, fmtSeconds(ma), fmtSeconds(mb), mb/ma)
			}
		}
	}
}
