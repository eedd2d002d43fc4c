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

func init() {
	// As in sockspawn: the main goroutine keeps the main thread, where
	// TestMain runs the SignalWaiter checks (tests run on other threads).
	runtime.LockOSThread()
}

// mainThreadWaiter is what the SignalWaiter checks on the main thread
// found: nil, or what went wrong.
var mainThreadWaiter error

func TestMain(m *testing.M) {
	mainThreadWaiter = checkWaiterOnMainThread()
	mainThreadServed = checkServeMainThread()
	os.Exit(m.Run())
}

// checkWaiterOnMainThread sends the process SIGUSR1 while Run waits for
// it, and checks that Run, not Go's handler, took it, on the main thread;
// that Stop ends Run, also before Run started; and that the signal goes to
// Go's handler again after Run.
func checkWaiterOnMainThread() error {
	notified := make(chan os.Signal, 4)
	signal.Notify(notified, syscall.SIGUSR1)
	defer signal.Stop(notified)
	pid := os.Getpid()

	// The kernel gives the main thread a signal to the process when that
	// thread can take it, which a thread in sigtimedwait can; now and then
	// it cannot (about one time in twenty here), and then Go's handler
	// gets it on another thread. Either way the signal arrives once; Run
	// must have it at least once in five tries.
	fastPath := 0
	for try := 0; try < 5 && fastPath == 0; try++ {
		w := NewSignalWaiter(syscall.SIGUSR1)
		slow := make(chan bool, 1)
		ran := make(chan struct{})
		go func() {
			time.Sleep(50 * time.Millisecond)
			_ = syscall.Kill(pid, syscall.SIGUSR1)
			limit := 5 * time.Second
			select {
			case <-ran: // Run took it: Go's handler must not have it too
				limit = 200 * time.Millisecond
			case <-notified:
				slow <- true
				w.Stop()
				return
			}
			select {
			case <-notified:
				slow <- true
			case <-time.After(limit):
				slow <- false
			}
		}()
		var got syscall.Signal
		var tid int
		if err := w.Run(func(s syscall.Signal) { got, tid = s, unix.Gettid() }); err != nil {
			return fmt.Errorf("Run: %w", err)
		}
		close(ran)
		viaGo := <-slow
		switch {
		case got == 0 && !viaGo:
			return errors.New("a SIGUSR1 sent during Run reached neither Run nor Go's handler")
		case got != 0 && viaGo:
			return errors.New("the SIGUSR1 Run took reached Go's handler as well")
		case got != 0 && (got != syscall.SIGUSR1 || tid != pid):
			return fmt.Errorf("Run called back with %v on thread %d, want SIGUSR1 on the main thread %d", got, tid, pid)
		case got != 0:
			fastPath++
		}
	}
	if fastPath == 0 {
		return errors.New("in five tries, Run never took the SIGUSR1 sent to the process")
	}

	stopped := NewSignalWaiter(syscall.SIGUSR1)
	go func() {
		time.Sleep(50 * time.Millisecond)
		stopped.Stop()
	}()
	called := false
	if err := stopped.Run(func(syscall.Signal) { called = true }); err != nil || called {
		return fmt.Errorf("Run ended by Stop: %v, called back: %v", err, called)
	}
	early := NewSignalWaiter(syscall.SIGUSR1)
	early.Stop()
	if err := early.Run(func(syscall.Signal) { called = true }); err != nil || called {
		return fmt.Errorf("Run after Stop: %v, called back: %v", err, called)
	}

	_ = syscall.Kill(pid, syscall.SIGUSR1)
	select {
	case <-notified:
	case <-time.After(5 * time.Second):
		return errors.New("after Run, SIGUSR1 no longer reaches Go's handler: the signal mask was not restored")
	}
	return nil
}

// TestMainThread reports what TestMain checked on the main thread.
func TestMainThread(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
	}{
		{"SignalWaiter", mainThreadWaiter},
		{"ServeMainThread", mainThreadServed},
	} {
		if c.err != nil {
			t.Errorf("%s: %v", c.name, c.err)
		}
	}
}

// Anywhere but on the main thread, Run refuses at once: the kernel would
// not pick that thread for a signal to the process.
func TestSignalWaiterNotMainThread(t *testing.T) {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		done <- NewSignalWaiter(syscall.SIGUSR1).Run(func(syscall.Signal) {})
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotMainThread) {
			t.Fatalf("Run on another thread: %v, want ErrNotMainThread", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run on another thread did not return")
	}
}
