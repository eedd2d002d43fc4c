//go:build linux

package e2e

import (
	"testing"
)

// seccompReport is the probe's report of `probe seccomp`.
type seccompReport struct {
	Pid     int    `json:"pid"`
	Mode    string `json:"seccomp"`
	Filters string `json:"seccomp_filters"`
	I386    string `json:"i386"`
	Calls   []struct {
		ABI    string `json:"abi"`
		Name   string `json:"name"`
		Result string `json:"result"`
	} `json:"calls"`
	Allowed map[string]string `json:"allowed"`
}

func (r seccompReport) result(abi, name string) (string, bool) {
	for _, c := range r.Calls {
		if c.ABI == abi && c.Name == name {
			return c.Result, true
		}
	}
	return "", false
}

// TestBoundarySeccomp makes every call the container's system call filter
// refuses, natively and through the i386 ABI (int 0x80), as the
// container's init: each must fail with EPERM. The host's answers to the
// same calls (ENOSYS, EINVAL, … never EPERM here) show that the EPERM
// comes from the filter; so does the run with --capability=all, where no
// missing capability explains it. mount, unshare and reboot (which in a
// pid namespace only ends the container) must get through. A kernel that
// offers no i386 ABI (int 0x80 faults) leaves only the native half to
// prove; the test says so in its log.
func TestBoundarySeccomp(t *testing.T) {
	needRoot(t)
	t.Parallel()
	needProbe(t)
	var host seccompReport
	parseProbe(t, runProbeOnHost(t, "seccomp"), &host)
	if host.I386 != "available" {
		t.Logf("the host's kernel offers no i386 ABI (%s): only the native calls are tested", host.I386)
	}

	runs := map[string][]string{"default": nil, "capability=all": {"--capability=all"}}
	got := map[string]seccompReport{}
	for run, extra := range runs {
		args := append([]string{"-D", "/", "--volatile=yes", "--console=pipe", "-q", withProbe()}, extra...)
		args = append(args, "--", probePath, "seccomp")
		m, status := runToEnd(t, runSpec{Args: args})
		if status != 0 {
			t.Fatalf("%s: sockspawn exited with %d; stderr:\n%s", run, status, m.Stderr.String())
		}
		var r seccompReport
		parseProbe(t, m.Stdout.String(), &r)
		if r.Pid != 1 {
			t.Errorf("%s: the probe ran as pid %d, want 1", run, r.Pid)
		}
		if r.Mode != "2" || r.Filters == "0" || r.Filters == "" {
			t.Errorf("%s: /proc/self/status of the container's init says Seccomp: %q, Seccomp_filters: %q; want filter mode 2 with a filter", run, r.Mode, r.Filters)
		}
		if (r.I386 == "available") != (host.I386 == "available") {
			t.Errorf("%s: i386 ABI inside the container: %q, on the host: %q", run, r.I386, host.I386)
		}
		got[run] = r
	}
	if len(host.Calls) == 0 {
		t.Fatal("the probe made no calls on the host")
	}

	for _, c := range host.Calls {
		t.Run(c.ABI+"/"+c.Name, func(t *testing.T) {
			want := "EPERM"
			if c.ABI == "i386" && c.Name == "getpid" {
				want = "ok" // the control: int 0x80 itself works
			}
			if c.Result == "EPERM" && want == "EPERM" {
				t.Logf("the host also answers EPERM: this call shows only that it is refused, not by whom")
			}
			for run := range runs {
				res, ok := got[run].result(c.ABI, c.Name)
				if !ok {
					t.Errorf("%s: the probe inside did not make the call", run)
					continue
				}
				if res != want {
					t.Errorf("%s: %s %s inside the container: %s, want %s (on the host: %s)", run, c.ABI, c.Name, res, want, c.Result)
				}
			}
		})
	}

	// What systemd needs must not be filtered. In a pid namespace
	// reboot(LINUX_REBOOT_CMD_CAD_OFF) is EINVAL; a filter would say EPERM.
	for call, want := range map[string]string{"mount": "ok", "unshare": "ok", "reboot": "EINVAL"} {
		t.Run("not-filtered/"+call, func(t *testing.T) {
			for run := range runs {
				if res := got[run].Allowed[call]; res != want {
					t.Errorf("%s: %s inside the container: %q, want %s", run, call, res, want)
				}
			}
		})
	}
}
