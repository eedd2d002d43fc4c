package console

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// gate is a sink that blocks every write until it is opened.
type gate struct {
	open chan struct{}
	mu   sync.Mutex
	got  bytes.Buffer
	err  error
}

func newGate() *gate { return &gate{open: make(chan struct{})} }

func (g *gate) Write(p []byte) (int, error) {
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil {
		return 0, g.err
	}
	return g.got.Write(p)
}

func (g *gate) String() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.got.String()
}

// writeAll writes each part and fails the test if any write blocks.
func writeAll(t *testing.T, s *Spool, parts []string) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, p := range parts {
			if n, err := s.Write([]byte(p)); n != len(p) || err != nil {
				t.Errorf("Write(%q) = %d, %v; want %d, nil", p, n, err, len(p))
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Write blocked on a sink that does not read")
	}
}

func TestSpool(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit int
		parts []string
		want  string
	}{
		{"all fits", 10, []string{"abc", "def"}, "abcdef"},
		{"exactly the limit", 6, []string{"abc", "def"}, "abcdef"},
		{"one chunk too many", 6, []string{"abc", "def", "gh"}, "abcdef" + DroppedLine(2)},
		{"drops are merged", 3, []string{"abc", "d", "ef"}, "abc" + DroppedLine(3)},
		{"a chunk larger than the limit", 3, []string{"abcdef", "x"}, DroppedLine(6) + "x"},
		{"empty writes", 3, []string{"", "a", ""}, "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGate()
			s := NewSpool(g, tc.limit)
			writeAll(t, s, tc.parts)
			close(g.open)
			if !s.Close(5 * time.Second) {
				t.Error("Close reported output left unwritten")
			}
			if got := g.String(); got != tc.want {
				t.Errorf("sink got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSpoolResumes: once the sink reads again, what came after a gap is
// written after the line that marks it, in order.
func TestSpoolResumes(t *testing.T) {
	pr, pw := io.Pipe()
	s := NewSpool(pw, 4)
	var got bytes.Buffer
	read := make(chan struct{})
	writeAll(t, s, []string{"1234", "5678"}) // the sink is stalled: 5678 is dropped
	go func() {
		defer close(read)
		_, _ = io.Copy(&got, pr)
	}()
	// Wait until the first part is through before sending more.
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		n := s.written
		s.mu.Unlock()
		if n >= int64(4+len(DroppedLine(4))) || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	writeAll(t, s, []string{"ab"})
	if !s.Close(5 * time.Second) {
		t.Error("Close reported output left unwritten")
	}
	pw.Close()
	<-read
	if want := "1234" + DroppedLine(4) + "ab"; got.String() != want {
		t.Errorf("sink got %q, want %q", got.String(), want)
	}
}

// TestSpoolCloseStalledSink: Close gives up on a sink that takes nothing,
// and says so.
func TestSpoolCloseStalledSink(t *testing.T) {
	g := newGate()
	defer close(g.open)
	s := NewSpool(g, 100)
	writeAll(t, s, []string{"never read"})
	start := time.Now()
	if s.Close(50 * time.Millisecond) {
		t.Error("Close reported everything written to a sink that never took a byte")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v on a stalled sink, want about its stall time", d)
	}
}

// TestSpoolSinkError: a sink that fails ends the writing, never the
// writes.
func TestSpoolSinkError(t *testing.T) {
	g := newGate()
	g.err = errors.New("broken pipe")
	close(g.open)
	s := NewSpool(g, 100)
	writeAll(t, s, []string{"a", "b", strings.Repeat("c", 200)})
	if s.Close(time.Second) {
		t.Error("Close reported success after the sink failed")
	}
	writeAll(t, s, []string{"after close"})
}
