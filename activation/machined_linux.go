package activation

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	godbus "github.com/godbus/dbus/v5"
)

// machined's bus name, object and interface.
const (
	machinedName  = "org.freedesktop.machine1"
	machinedPath  = "/org/freedesktop/machine1"
	machinedIface = "org.freedesktop.machine1.Manager"
)

// Machine is what machined is told about a running container.
type Machine struct {
	Name      string // machine name
	UUID      string // canonical UUID
	Leader    int    // host pid of the container's init
	Directory string // the image's root directory
}

// ErrNoMachined means the system bus or systemd-machined is not there.
var ErrNoMachined = errors.New("systemd-machined is not available")

// RegisterMachine registers m with systemd-machined, so that machinectl
// lists it and `journalctl -M`, `systemctl -M` and `machinectl shell`
// reach it. machined finds the machine's unit (container@NAME.service, or
// the scope sockspawn asked for) from the leader's cgroup, as with
// systemd-nspawn --keep-unit. The result contract:
//
//	(nil)              - registered; call UnregisterMachine when it ends
//	(ErrNoMachined)    - no system bus or no machined: nothing was done
//	(any other error)  - machined refused
func RegisterMachine(m Machine) error {
	id, err := hex.DecodeString(strings.ReplaceAll(m.UUID, "-", ""))
	if err != nil || len(id) != 16 {
		return fmt.Errorf("register machine %s: bad UUID %q", m.Name, m.UUID)
	}
	return callMachined("RegisterMachine", m.Name, id, "sockspawn", "container", uint32(m.Leader), m.Directory)
}

// UnregisterMachine tells machined that machine name is gone.
func UnregisterMachine(name string) error {
	return callMachined("UnregisterMachine", name)
}

func callMachined(method string, args ...any) error {
	if !SystemdRunning() {
		return ErrNoMachined
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := godbus.ConnectSystemBus(godbus.WithContext(ctx))
	if err != nil {
		return ErrNoMachined
	}
	defer conn.Close()
	call := conn.Object(machinedName, machinedPath).CallWithContext(ctx, machinedIface+"."+method, 0, args...)
	if call.Err != nil {
		var de godbus.Error
		// Not installed, not running, or masked by the administrator:
		// all mean "no machined here".
		if errors.As(call.Err, &de) && (de.Name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
			de.Name == "org.freedesktop.DBus.Error.NameHasNoOwner" || de.Name == "org.freedesktop.systemd1.UnitMasked") {
			return ErrNoMachined
		}
		return fmt.Errorf("machined %s: %w", method, call.Err)
	}
	return nil
}
