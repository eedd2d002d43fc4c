package machine

import (
	"fmt"
	"os"
	"time"
)

// started is when this process began, for trace.
var started = time.Now()

// trace reports, with debug logging on (SYSTEMD_LOG_LEVEL=debug), how long
// after sockspawn's start a step of starting the container was reached.
func trace(step string) {
	if debugLogging() {
		fmt.Fprintf(os.Stderr, "sockspawn: +%.1f ms %s\n", float64(time.Since(started).Microseconds())/1000, step)
	}
}
