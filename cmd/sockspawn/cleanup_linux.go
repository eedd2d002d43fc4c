package main

import (
	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

// cmdCleanup is `sockspawn __cleanup NAME`, container@.service's
// ExecStopPost=: after a supervisor that could not clean up (SIGKILL, an
// OOM kill), it removes what the machine left on the host: its nftables
// rules, its veth, its zone's bridge if it was the last there, its runtime
// directory. A machine that runs (its runtime directory is locked) is left
// alone, so the command is safe whenever it runs; after a clean stop it
// finds nothing to do.
func cmdCleanup(args []string) int {
	name, _, code, done := machineArg("__cleanup", args)
	if done {
		return code
	}
	rt, err := acquireRuntime(name, true)
	if err != nil {
		return 0 // running, or its directory is beyond us: not ours to touch
	}
	defer rt.release()
	failed := false
	warn := func(err error) {
		if err != nil {
			failed = true
			errorf("%v", err)
		}
	}
	warn(payload.RemoveForwarding(name))
	// Which veth and zone: from the configuration, if it still loads.
	l, err := units.LoadMachine(name, units.Lookup{SearchPath: units.SearchPath, NspawnPath: units.NspawnSearchPath, Set: map[string]bool{}})
	if err == nil && l.Config.HasVeth() {
		warn(payload.RemoveVeth(name, l.Config.VethBridge()))
		if l.Config.NetworkZone != "" {
			warn(payload.ReleaseZone(l.Config.VethBridge()))
		}
	}
	if failed {
		return 1
	}
	return 0
}
