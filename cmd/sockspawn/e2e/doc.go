// Package e2e holds sockspawn's end-to-end tests: they build the real
// binary and a conformance payload (./conformance), run containers as root
// and check them from outside and inside, including full boots of this
// machine's own systemd (-D / --volatile=yes -b).
//
// They run as root with SOCKSPAWN_E2E=1:
//
//	SOCKSPAWN_E2E=1 go test ./cmd/sockspawn/e2e/ -v -count=1
//
// Without SOCKSPAWN_E2E and without root they are skipped; with
// SOCKSPAWN_E2E=1 a missing prerequisite (root, systemd, nsenter, cgroup2)
// fails them instead.
package e2e
