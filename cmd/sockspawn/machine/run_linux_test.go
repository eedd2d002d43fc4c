package machine

import (
	"sync/atomic"
	"testing"
	"time"
)

// inBackground runs f once, on another goroutine, whether start is called
// before wait, several times, or not at all; wait returns only after f.
func TestInBackground(t *testing.T) {
	for _, starts := range []int{0, 1, 3} {
		var runs atomic.Int32
		var finished atomic.Bool
		start, wait := inBackground(func() {
			runs.Add(1)
			time.Sleep(10 * time.Millisecond)
			finished.Store(true)
		})
		for i := 0; i < starts; i++ {
			start()
		}
		wait()
		if !finished.Load() {
			t.Errorf("%d starts: wait returned before f did", starts)
		}
		wait()
		if n := runs.Load(); n != 1 {
			t.Errorf("%d starts: f ran %d times, want 1", starts, n)
		}
	}
}
