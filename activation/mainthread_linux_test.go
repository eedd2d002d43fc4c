package activation

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// mainThreadServed is what checkServeMainThread, run by TestMain on the
// main thread, found: nil, or what went wrong.
var mainThreadServed error

// checkServeMainThread runs work through ServeMainThread and checks that
// the work runs on another thread, that what it hands OnMainThread runs on
// the main thread one after the other, that a SignalWaiter handed over
// there takes a signal to the process, and that OnMainThread refuses once
// ServeMainThread returned.
func checkServeMainThread() error {
	pid := os.Getpid()
	notified := make(chan os.Signal, 4)
	signal.Notify(notified, syscall.SIGUSR2)
	defer signal.Stop(notified)
	status := ServeMainThread(func() int {
		if tid := unix.Gettid(); tid == pid {
			return 10 // the work took the main thread
		}
		tids := make(chan int, 2)
		for i := 0; i < 2; i++ {
			if !OnMainThread(func() {
				tids <- unix.Gettid()
				time.Sleep(20 * time.Millisecond) // the second must wait
			}) {
				return 11
			}
		}
		for i := 0; i < 2; i++ {
			if tid := <-tids; tid != pid {
				return 12
			}
		}
		ranOn := 0
		RunOnMainThread(func() {
			time.Sleep(10 * time.Millisecond) // returning early would miss this
			ranOn = unix.Gettid()
		})
		if ranOn != pid {
			return 16
		}
		// As sockspawn's supervisor uses it. The kernel now and then gives
		// the signal to another thread (see checkWaiterOnMainThread):
		// Run must take it at least once in five tries.
		for try := 0; try < 5; try++ {
			w := NewSignalWaiter(syscall.SIGUSR2)
			got := make(chan int, 1)
			ran := make(chan struct{})
			OnMainThread(func() {
				defer close(ran)
				_ = w.Run(func(syscall.Signal) { got <- unix.Gettid() })
			})
			time.Sleep(20 * time.Millisecond)
			_ = syscall.Kill(pid, syscall.SIGUSR2)
			select {
			case tid := <-got:
				<-ran
				if tid != pid {
					return 13
				}
				return 0
			case <-notified: // Go's handler had it
				w.Stop()
				<-ran
			case <-time.After(5 * time.Second):
				return 14
			}
		}
		return 15
	})
	why := map[int]string{
		10: "the work ran on the main thread",
		11: "OnMainThread refused while ServeMainThread served",
		12: "a function handed to OnMainThread ran on another thread",
		13: "the waiter on the main thread called back on another thread",
		14: "a SIGUSR2 reached neither the waiter on the main thread nor Go's handler",
		15: "in five tries, the waiter handed to the main thread never took the SIGUSR2",
		16: "RunOnMainThread returned before fn ran on the main thread",
	}
	if status != 0 {
		return errors.New(why[status])
	}
	if OnMainThread(func() {}) {
		return fmt.Errorf("OnMainThread took a function after ServeMainThread returned")
	}
	return nil
}

// On any other thread, ServeMainThread just runs the work, and
// OnMainThread hands nothing over.
func TestServeMainThreadElsewhere(t *testing.T) {
	runtime.LockOSThread() // so that the thread ids compare
	defer runtime.UnlockOSThread()
	tid := -1
	if got := ServeMainThread(func() int {
		tid = unix.Gettid()
		if OnMainThread(func() {}) {
			return 2
		}
		ranOn := 0
		RunOnMainThread(func() { ranOn = unix.Gettid() })
		if ranOn != tid {
			return 3
		}
		return 7
	}); got != 7 {
		t.Fatalf("ServeMainThread off the main thread returned %d, want the work's 7 (2: OnMainThread took a function; 3: RunOnMainThread ran it elsewhere)", got)
	}
	if tid == os.Getpid() {
		t.Fatal("the work ran on the main thread")
	}
}
