package activation

import (
	"os"
	"strconv"
)

// HaltHandled reports whether the process pid takes SIGRTMIN+3 now (see
// HaltHandledStatus). There is no event for a change of a process's signal
// masks, so a caller that waits for one polls this, briefly.
func HaltHandled(pid int) (bool, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return false, err
	}
	return HaltHandledStatus(b), nil
}

// IsSystemd reports whether the process pid runs systemd, by its name
// (what the kernel took from the file it executed).
func IsSystemd(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return err == nil && string(b) == "systemd\n"
}
