package activation

import (
	"errors"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SignalWaiter takes signals on the main thread with sigtimedwait(2), so
// that a stop request reaches the container's init without Go's signal
// delivery in between: there, a handler wakes the goroutine of os/signal,
// which wakes the receiving goroutine, each on a thread of its own. Woken
// in turn on an idle machine, those threads took about 2 ms from SIGTERM
// to the signal to the init (systemd-nspawn, one thread on a signalfd:
// 0.3 to 1 ms).
//
// It relies on how the kernel picks the thread for a signal sent to the
// process: the main thread whenever that thread can take it, and a thread
// waiting in sigtimedwait can. The signals stay blocked on the main thread
// otherwise, so that one arriving while it is busy goes to Go's handler
// on another thread, and on to signal.Notify as before: a caller needs
// both paths.
//
// It takes only the first signal: what follows a stop request need not be
// fast, and a thread that goes back into a blocking system call keeps Go's
// monitor thread polling for 10 ms (measured: about 90 wake-ups of it
// while the container shuts down).
type SignalWaiter struct {
	set     unix.Sigset_t
	stopped atomic.Bool
}

// wakeSignal ends Run: sent to the main thread only, and blocked there, it
// waits for the next sigtimedwait if Run is busy. It is SIGRTMAX, which
// neither Go's runtime nor sockspawn uses otherwise.
const wakeSignal = syscall.Signal(64)

// ErrNotMainThread is returned by Run on any thread but the main one.
var ErrNotMainThread = errors.New("signal waiter: not on the main thread")

// NewSignalWaiter returns a waiter for sigs.
func NewSignalWaiter(sigs ...syscall.Signal) *SignalWaiter {
	w := &SignalWaiter{}
	for _, s := range append(sigs, wakeSignal) {
		addSignal(&w.set, s)
	}
	return w
}

// addSignal adds sig to set (signal n is bit n-1).
func addSignal(set *unix.Sigset_t, sig syscall.Signal) {
	n := uint(sig) - 1
	set.Val[n/64] |= 1 << (n % 64)
}

// Run waits for the first of the signals and calls on with it, on the
// main thread; it returns then, or when Stop is called. It must run on the
// main thread, the goroutine locked to it (runtime.LockOSThread in an init
// function), else it returns ErrNotMainThread at once.
func (w *SignalWaiter) Run(on func(syscall.Signal)) error {
	if unix.Gettid() != unix.Getpid() {
		return ErrNotMainThread
	}
	var old unix.Sigset_t
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &w.set, &old); err != nil {
		return err
	}
	defer unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
	for !w.stopped.Load() {
		sig, _, errno := unix.Syscall6(unix.SYS_RT_SIGTIMEDWAIT, uintptr(unsafe.Pointer(&w.set)), 0, 0, unsafe.Sizeof(w.set.Val[0]), 0, 0)
		switch {
		case errno == unix.EINTR || errno == unix.EAGAIN:
		case errno != 0:
			return errno
		case syscall.Signal(sig) != wakeSignal:
			on(syscall.Signal(sig))
			return nil
		}
	}
	return nil
}

// Stop ends Run, from any goroutine; before Run started, Run returns at
// once.
func (w *SignalWaiter) Stop() {
	w.stopped.Store(true)
	pid := unix.Getpid()
	_ = unix.Tgkill(pid, pid, wakeSignal)
}
