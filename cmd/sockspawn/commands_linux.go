package main

import (
	"fmt"
	"os"

	"github.com/sockspawn/sockspawn/cmd/sockspawn/machine"
	"github.com/sockspawn/sockspawn/units"
)

// cmdRun is `sockspawn run [OPTIONS] [ARGS...]`.
func cmdRun(args []string) int {
	pa, err := parseRunArgs(args)
	if err != nil {
		return errorf("%v", err)
	}
	if pa.Help {
		writeHelp(os.Stdout)
		return 0
	}
	if pa.Version {
		return dispatch([]string{"--version"})
	}
	if pa.Set["Settings"] {
		return errorf("--settings: sockspawn run reads no settings file; it is for sockspawn boot, cat and check NAME, which read NAME.nspawn")
	}
	return runMachine(pa.Config, nil)
}

// runMachine runs one container to its end and returns the exit status.
// src says where c's values came from, for errors (nil: the command line).
func runMachine(c units.Config, src units.Sources) int {
	status, err := machine.Run(c, src)
	if err != nil {
		errorf("%v", err)
	}
	return status
}

// cmdCleanup is `sockspawn __cleanup NAME`, container@.service's
// ExecStopPost= (see machine.Cleanup).
func cmdCleanup(args []string) int {
	name, _, code, done := machineArg("__cleanup", args)
	if done {
		return code
	}
	failed := machine.Cleanup(name)
	for _, err := range failed {
		errorf("%v", err)
	}
	if len(failed) > 0 {
		return 1
	}
	return 0
}

// cmdFreeze is `sockspawn freeze NAME` (freeze true) and `sockspawn thaw
// NAME`.
func cmdFreeze(args []string, freeze bool) int {
	cmd := "thaw"
	if freeze {
		cmd = "freeze"
	}
	if len(args) != 1 || args[0] == "" || args[0][0] == '-' {
		return errorf("usage: sockspawn %s NAME", cmd)
	}
	name := args[0]
	if err := machine.Freeze(name, freeze); err != nil {
		return errorf("%v", err)
	}
	if freeze {
		fmt.Printf("machine %s is frozen; its next connection thaws it\n", name)
	} else {
		fmt.Printf("machine %s is thawed\n", name)
	}
	return 0
}
