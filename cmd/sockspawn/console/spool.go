package console

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Spool carries the container's console output to a sink (the
// supervisor's stdout: a terminal, a pipe, the journal's stream socket)
// without ever making the container wait for it. Write queues and
// returns at once; a goroutine writes the queue to the sink. When the
// sink falls behind by more than the limit, newer output is dropped and
// a line in its place says how much. A guest's systemd writes to
// /dev/console with blocking writes, so a relay that waited on a slow
// sink would stall the guest's boot and its services behind it.
type Spool struct {
	sink  io.Writer
	limit int

	mu       sync.Mutex
	queue    []chunk
	queued   int   // bytes of data in queue
	written  int64 // bytes handed to the sink so far
	closed   bool
	failed   bool          // the sink returned an error
	wake     chan struct{} // capacity 1: there is work
	finished chan struct{} // closed when the writer goroutine ends
}

// chunk is output to write, or a gap of dropped bytes.
type chunk struct {
	data    []byte
	dropped int
}

// DefaultLimit is how far the sink may fall behind, in bytes: about
// 10,000 lines of a debug-level boot log.
const DefaultLimit = 1 << 20

// NewSpool starts a spool to sink that holds at most limit bytes.
func NewSpool(sink io.Writer, limit int) *Spool {
	s := &Spool{sink: sink, limit: limit, wake: make(chan struct{}, 1), finished: make(chan struct{})}
	go s.run()
	return s
}

// Write queues p and never blocks. What does not fit under the limit is
// counted as dropped. It never fails, so io.Copy into it never stops
// because of the sink.
func (s *Spool) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.mu.Lock()
	switch {
	case s.closed:
	case s.queued+len(p) <= s.limit:
		s.queue = append(s.queue, chunk{data: append([]byte(nil), p...)})
		s.queued += len(p)
	case len(s.queue) > 0 && s.queue[len(s.queue)-1].dropped > 0:
		s.queue[len(s.queue)-1].dropped += len(p)
	default:
		s.queue = append(s.queue, chunk{dropped: len(p)})
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return len(p), nil
}

// run writes the queue to the sink until the spool is closed and empty,
// or the sink fails.
func (s *Spool) run() {
	defer close(s.finished)
	for {
		s.mu.Lock()
		batch := s.queue
		s.queue = nil
		closed := s.closed
		s.mu.Unlock()
		if len(batch) == 0 {
			if closed {
				return
			}
			<-s.wake
			continue
		}
		for _, c := range batch {
			p := c.data
			if c.dropped > 0 {
				p = []byte(DroppedLine(c.dropped))
			}
			if _, err := s.sink.Write(p); err != nil {
				// Nobody reads any more: keep accepting, write nothing.
				s.mu.Lock()
				s.closed, s.failed = true, true
				s.queue, s.queued = nil, 0
				s.mu.Unlock()
				return
			}
			s.mu.Lock()
			s.queued -= len(c.data)
			s.written += int64(len(p))
			s.mu.Unlock()
		}
	}
}

// DroppedLine is what stands in the output where n bytes were dropped.
func DroppedLine(n int) string {
	return fmt.Sprintf("\r\n[sockspawn: %d bytes of console output dropped: the reader of sockspawn's output fell behind]\r\n", n)
}

// Close stops taking output and writes out what is queued. It waits
// while the sink takes it, but gives up once the sink has taken nothing
// for stall, so that a reader that stopped reading cannot hold up the
// supervisor's exit. It reports whether everything was written.
func (s *Spool) Close(stall time.Duration) bool {
	s.mu.Lock()
	s.closed = true
	last := s.written
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	t := time.NewTimer(stall)
	defer t.Stop()
	for {
		select {
		case <-s.finished:
			s.mu.Lock()
			defer s.mu.Unlock()
			return !s.failed
		case <-t.C:
			s.mu.Lock()
			now := s.written
			s.mu.Unlock()
			if now == last {
				return false
			}
			last = now
			t.Reset(stall)
		}
	}
}
