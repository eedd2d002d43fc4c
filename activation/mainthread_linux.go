package activation

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// The main thread, kept for SignalWaiter: ServeMainThread moves a program's
// work to another goroutine and leaves the main thread free for what
// OnMainThread gives it.
//
// Why not do the work on the main goroutine, locked to the main thread: a
// locked goroutine has that one thread to run on, so each time it blocks
// (a channel, a lock, a goroutine's end it waits for) the thread that
// wakes it hands it over to the main thread and goes to sleep. Measured on
// sockspawn's teardown after a container's init exits, with everything on
// the locked main goroutine: about 40 such hand-overs, each a wake-up of
// one thread and the sleep of another.
var mainThread = struct {
	serving atomic.Bool
	work    chan func()
}{work: make(chan func())}

// ServeMainThread runs work on a goroutine of its own and returns its
// result. Until then the caller, which must be the main goroutine locked
// to the main thread (runtime.LockOSThread in an init function), runs what
// OnMainThread hands it, one after the other. On any other thread it just
// calls work.
func ServeMainThread(work func() int) int {
	if unix.Gettid() != unix.Getpid() || !mainThread.serving.CompareAndSwap(false, true) {
		return work()
	}
	defer mainThread.serving.Store(false)
	done := make(chan int, 1)
	go func() { done <- work() }()
	for {
		select {
		case fn := <-mainThread.work:
			fn()
		case status := <-done:
			return status
		}
	}
}

// OnMainThread hands fn to the main thread, where ServeMainThread runs it,
// and returns once the main thread took it; it waits while the main thread
// runs an earlier one. It reports false, and fn does not run, when no
// ServeMainThread serves (a caller then does without the main thread).
// Only ServeMainThread's work, and what it starts, may call it.
func OnMainThread(fn func()) bool {
	if !mainThread.serving.Load() {
		return false
	}
	mainThread.work <- fn
	return true
}

// RunOnMainThread runs fn on the main thread, where ServeMainThread
// serves, and returns when fn has; without ServeMainThread it runs fn on
// the caller's thread. It is for what must be tied to a thread that lasts
// as long as the process: a child started with Pdeathsig gets the signal
// when the thread that forked it ends, not the process, and Go ends a
// thread whose locked goroutine exits without unlocking it.
func RunOnMainThread(fn func()) {
	done := make(chan struct{})
	if !OnMainThread(func() {
		defer close(done)
		fn()
	}) {
		fn()
		return
	}
	<-done
}
