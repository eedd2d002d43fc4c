package activation

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

// ListenFDsStart is the first file descriptor passed by the sd_listen_fds
// protocol (SD_LISTEN_FDS_START).
const ListenFDsStart = 3

// MaxListenFDs bounds $LISTEN_FDS. systemd itself only refuses counts that
// would overflow an int; anything near this bound is a corrupted environment,
// not a real socket unit, so it is refused rather than trusted.
const MaxListenFDs = 1024

// UnknownFDName is the name systemd reports for an fd when $LISTEN_FDNAMES
// is not set.
const UnknownFDName = "unknown"

// The environment variables of the sd_listen_fds protocol.
const (
	EnvListenPID     = "LISTEN_PID"
	EnvListenFDs     = "LISTEN_FDS"
	EnvListenFDNames = "LISTEN_FDNAMES"
)

// ParseListenEnv interprets the sd_listen_fds environment, given the values
// of $LISTEN_PID, $LISTEN_FDS and $LISTEN_FDNAMES and the caller's pid.
//
// It returns n == 0 and a nil error when the fds are not meant for myPID:
// listenPID is empty or names another process. Otherwise listenFDs must be a
// plain decimal between 0 and MaxListenFDs (an empty or zero count means no
// fds). An empty fdNames is treated as unset and every fd is named
// UnknownFDName, as sd_listen_fds_with_names does; otherwise it must hold
// exactly n colon-separated names, each valid for systemd.FDNameValid.
func ParseListenEnv(listenPID, listenFDs, fdNames string, myPID int) (n int, names []string, err error) {
	if listenPID == "" {
		return 0, nil, nil
	}
	pid, err := parseDecimal(listenPID, 1<<22)
	if err != nil || pid == 0 {
		return 0, nil, fmt.Errorf("$%s=%q: not a pid", EnvListenPID, listenPID)
	}
	if pid != myPID {
		return 0, nil, nil
	}
	if listenFDs == "" {
		return 0, nil, nil
	}
	n, err = parseDecimal(listenFDs, MaxListenFDs)
	if err != nil {
		return 0, nil, fmt.Errorf("$%s=%q: %w", EnvListenFDs, listenFDs, err)
	}
	if n == 0 {
		return 0, nil, nil
	}
	if fdNames == "" {
		names = make([]string, n)
		for i := range names {
			names[i] = UnknownFDName
		}
		return n, names, nil
	}
	names = strings.Split(fdNames, ":")
	if len(names) != n {
		return 0, nil, fmt.Errorf("$%s holds %d names but $%s=%d", EnvListenFDNames, len(names), EnvListenFDs, n)
	}
	for i, name := range names {
		if !systemd.FDNameValid(name) {
			return 0, nil, fmt.Errorf("$%s: name %d %q is not a valid fd name", EnvListenFDNames, i, name)
		}
	}
	return n, names, nil
}

// parseDecimal parses s as a plain decimal (digits only: no sign, no spaces,
// no leading "0x") no greater than max.
func parseDecimal(s string, max int) (int, error) {
	if s == "" || len(s) > 20 {
		return 0, fmt.Errorf("not a decimal number")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("not a decimal number")
		}
	}
	v, err := strconv.ParseUint(s, 10, 63)
	if err != nil || v > uint64(max) {
		return 0, fmt.Errorf("out of range (at most %d)", max)
	}
	return int(v), nil
}

// ListenEnv returns the sd_listen_fds environment for the container's init,
// which receives the n fds at ListenFDsStart.. and is always PID 1 in its
// namespace: ["LISTEN_FDS=n", "LISTEN_PID=1", "LISTEN_FDNAMES=a:b"]. It
// returns nil when n is 0 and leaves out LISTEN_FDNAMES when names is nil.
// names must hold n names valid for systemd.FDNameValid, as Inherit and
// systemd.ParseListen guarantee; ListenEnv does not check them.
func ListenEnv(n int, names []string) []string {
	if n <= 0 {
		return nil
	}
	env := []string{
		EnvListenFDs + "=" + strconv.Itoa(n),
		EnvListenPID + "=1",
	}
	if names != nil {
		env = append(env, EnvListenFDNames+"="+strings.Join(names, ":"))
	}
	return env
}
