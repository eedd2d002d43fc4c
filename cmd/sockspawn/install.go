package main

import (
	"fmt"

	"github.com/sockspawn/sockspawn/units"
)

// cmdInstallUnits is `sockspawn __install-units DESTDIR BINDIR UNITDIR`,
// what `make install` runs to write container@.service and
// container@.socket with ExecStart= in BINDIR (DESTDIR may be empty).
func cmdInstallUnits(args []string) int {
	if len(args) != 3 {
		return errorf("usage: sockspawn __install-units DESTDIR BINDIR UNITDIR (DESTDIR may be empty)")
	}
	written, err := units.InstallUnits(args[0], args[1], args[2])
	for _, p := range written {
		fmt.Printf("installed %s\n", p)
	}
	if err != nil {
		return errorf("%v", err)
	}
	return 0
}
