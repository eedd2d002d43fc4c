package activation

import (
	"bufio"
	"bytes"
	"strconv"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

// haltSignal is SIGRTMIN+3 as user space counts it.
const haltSignal = int(systemd.SigRTMin3)

// HaltHandledStatus reports, from the text of /proc/PID/status, whether
// the process takes SIGRTMIN+3 now rather than losing it. The kernel drops
// a signal sent from outside to a namespace's init when the init neither
// catches nor blocks it; so a stop request may only be sent once one of
// two holds:
//   - SigCgt has it: the init installed a handler (what most inits do);
//   - SigBlk has it as part of a selective mask: the init reads it from a
//     signalfd, as systemd does (systemd 252 never catches SIGRTMIN+3; it
//     blocks it about 40 ms after execve, long before READY=1). A blocked
//     signal waits in the queue until the init reads it.
//
// A mask that blocks every ordinary signal (1-31 but SIGKILL and SIGSTOP)
// does not count: that is a critical section, such as systemd's around
// fork(), after which the mask goes back to what it was, perhaps nothing,
// and a queued SIGRTMIN+3 would then be dropped. An init that blocks all
// ordinary signals for its signalfd is taken for one that does not take
// SIGRTMIN+3, and gets the fallback of Shutdown.
//
// Missing or malformed fields count as "no".
func HaltHandledStatus(status []byte) bool {
	var blk, cgt uint64
	var haveBlk, haveCgt bool
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		k, v, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		var dst *uint64
		var have *bool
		switch string(k) {
		case "SigBlk":
			dst, have = &blk, &haveBlk
		case "SigCgt":
			dst, have = &cgt, &haveCgt
		default:
			continue
		}
		n, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 16, 64)
		if err != nil {
			return false
		}
		*dst, *have = n, true
	}
	const bit = uint64(1) << (haltSignal - 1)
	switch {
	case haveCgt && cgt&bit != 0:
		return true
	case haveBlk && blk&bit != 0:
		return !blocksAllOrdinary(blk)
	}
	return false
}

// blocksAllOrdinary reports whether mask blocks every signal from 1 to 31
// that can be blocked at all.
func blocksAllOrdinary(mask uint64) bool {
	const ordinary = uint64(1)<<31 - 1               // signals 1..31
	const unblockable = uint64(1)<<(9-1) | 1<<(19-1) // SIGKILL, SIGSTOP
	return mask&ordinary|unblockable == ordinary
}
