//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// hostIDFields are the os-release fields the Container Interface names
// for $container_host_<key>.
var hostIDFields = []string{"ID", "VERSION_ID", "BUILD_ID", "VARIANT_ID"}

// checkEnvironment checks the environment block of PID 1 (what systemd
// reads; ours may differ when entered) and returns it.
func checkEnvironment(r *report, e expect) map[string]string {
	env := map[string]string{}
	b, err := os.ReadFile("/proc/1/environ")
	if err != nil {
		r.fail("env", "%v", err)
		return env
	}
	for _, kv := range strings.Split(string(b), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	wantVar(r, env, "container", "sockspawn")
	wantVar(r, env, "NOTIFY_SOCKET", "/run/host/notify")

	u, ok := env["container_uuid"]
	switch {
	case !ok:
		r.fail("env-container_uuid", "not set")
	case !uuidRE.MatchString(u) || u == "00000000-0000-0000-0000-000000000000":
		r.fail("env-container_uuid", "%q is not a valid, non-null, lowercase dashed UUID", u)
	case e.UUID != "" && u != e.UUID:
		r.fail("env-container_uuid", "%q, want %q (from --uuid)", u, e.UUID)
	default:
		r.ok("env-container_uuid")
	}
	info("uuid=%s", u)

	if v, ok := env["container_ttys"]; ok {
		r.fail("env-container_ttys", "set to %q though no extra ttys were asked for", v)
	} else {
		r.ok("env-container_ttys")
	}

	osr, err := os.ReadFile("/run/host/os-release")
	if err != nil {
		r.fail("env-container_host", "cannot read /run/host/os-release to compare: %v", err)
		return env
	}
	host := parseOSRelease(osr)
	var problems []string
	for _, k := range hostIDFields {
		want, ok := host[k]
		key := "container_host_" + strings.ToLower(k)
		got, set := env[key]
		switch {
		case ok && want != "" && !set:
			problems = append(problems, fmt.Sprintf("%s unset, host os-release has %s=%q", key, k, want))
		case ok && set && got != want:
			problems = append(problems, fmt.Sprintf("%s=%q, host os-release has %s=%q", key, got, k, want))
		}
	}
	for k, v := range env {
		if f, ok := strings.CutPrefix(k, "container_host_"); ok {
			if want, ok := host[strings.ToUpper(f)]; !ok || want != v {
				problems = append(problems, fmt.Sprintf("%s=%q but host os-release has %s=%q", k, v, strings.ToUpper(f), want))
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		r.fail("env-container_host", "%s", strings.Join(problems, "; "))
	} else {
		r.ok("env-container_host")
	}
	return env
}

func wantVar(r *report, env map[string]string, k, want string) {
	got, ok := env[k]
	switch {
	case !ok:
		r.fail("env-"+k, "not set, want %q", want)
	case got != want:
		r.fail("env-"+k, "%q, want %q", got, want)
	default:
		r.ok("env-" + k)
	}
}

// parseOSRelease parses os-release text, unquoting values.
func parseOSRelease(b []byte) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, v, ok := strings.Cut(line, "=")
		if !ok || line[0] == '#' {
			continue
		}
		if u, err := strconv.Unquote(v); err == nil && strings.HasPrefix(v, `"`) {
			v = u
		} else if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		m[k] = v
	}
	return m
}
