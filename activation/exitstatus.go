package activation

import "syscall"

// Exit codes of the supervisor that do not come from the init's own.
const (
	// ExitReboot is systemd-nspawn's exit code for a container that asked to
	// reboot; container@.service restarts on it (RestartForceExitStatus=133).
	ExitReboot = 133
	// ExitNotTerminated is returned for a wait status that is not a
	// termination (stopped or continued), which the supervisor never waits
	// for.
	ExitNotTerminated = 1
)

// ExitStatus turns the wait status of the container's init into the
// supervisor's exit code. An init that exited gives its own code. In a pid
// namespace, reboot(2) from its init kills the init with a signal: SIGINT
// for power-off and halt, which is a clean stop (0), and SIGHUP for
// restart (ExitReboot). Any other signal gives 128+signal, as a shell
// reports it.
func ExitStatus(ws syscall.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		switch ws.Signal() {
		case syscall.SIGINT:
			return 0
		case syscall.SIGHUP:
			return ExitReboot
		}
		return 128 + int(ws.Signal())
	}
	return ExitNotTerminated
}
