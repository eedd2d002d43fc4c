package activation

import (
	"context"
	"fmt"
	"os"
	"time"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"
)

// ScopeName is the transient scope sockspawn asks for when it runs by hand
// on a systemd host: the same name systemd-machined gives a machine.
func ScopeName(machine string) string { return "machine-" + machine + ".scope" }

// SystemdRunning reports whether the host's PID 1 is systemd (the check
// sd_booted() makes).
func SystemdRunning() bool {
	st, err := os.Stat("/run/systemd/system")
	return err == nil && st.IsDir()
}

// JoinTransientScope asks the host's systemd, over the system bus, for a
// transient scope unit with Delegate=yes in machine.slice holding the
// calling process, and waits until systemd has moved it there. The
// result contract:
//
//	(false, nil) - not a systemd host, or no system bus: nothing was done
//	(false, err) - systemd is there but refused or failed
//	(true, nil)  - the process now runs in the delegated scope
func JoinTransientScope(machine, description string) (bool, error) {
	if !SystemdRunning() {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := sddbus.NewSystemConnectionContext(ctx)
	if err != nil {
		return false, nil
	}
	defer conn.Close()
	name := ScopeName(machine)
	props := []sddbus.Property{
		sddbus.PropDescription(description),
		sddbus.PropSlice("machine.slice"),
		sddbus.PropPids(uint32(os.Getpid())),
		{Name: "Delegate", Value: godbus.MakeVariant(true)},
		{Name: "CollectMode", Value: godbus.MakeVariant("inactive-or-failed")},
	}
	done := make(chan string, 1)
	if _, err := conn.StartTransientUnitContext(ctx, name, "fail", props, done); err != nil {
		return false, fmt.Errorf("create transient scope %s: %w", name, err)
	}
	select {
	case res := <-done:
		if res != "done" {
			return false, fmt.Errorf("create transient scope %s: job %s", name, res)
		}
	case <-ctx.Done():
		return false, fmt.Errorf("create transient scope %s: %w", name, ctx.Err())
	}
	return true, nil
}
