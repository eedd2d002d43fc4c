package machine

import (
	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

// Cleanup is what `sockspawn __cleanup NAME` does, container@.service's
// ExecStopPost=: after a supervisor that could not clean up (SIGKILL, an
// OOM kill), it removes what the machine left on the host: its nftables
// rules, its veth, its zone's bridge if it was the last there, its runtime
// directory. A machine that runs (its runtime directory is locked) is left
// alone, so it is safe whenever it runs; after a clean stop it finds
// nothing to do. It returns what failed, having tried everything.
func Cleanup(name string) []error {
	rt, err := acquireRuntime(name, true)
	if err != nil {
		return nil // running, or its directory is beyond us: not ours to touch
	}
	defer rt.release()
	var failed []error
	note := func(err error) {
		if err != nil {
			failed = append(failed, err)
		}
	}
	note(payload.RemoveForwarding(name))
	// Which veth and zone: from the configuration, if it still loads.
	l, err := units.LoadMachine(name, units.Lookup{SearchPath: units.SearchPath, NspawnPath: units.NspawnSearchPath, Set: map[string]bool{}})
	if err == nil && l.Config.HasVeth() {
		note(payload.RemoveVeth(name, l.Config.VethBridge()))
		if l.Config.NetworkZone != "" {
			note(payload.ReleaseZone(l.Config.VethBridge()))
		}
	}
	return failed
}
