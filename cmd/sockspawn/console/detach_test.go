package console

import (
	"testing"
	"time"
)

func TestDetacher(t *testing.T) {
	t0 := time.Unix(1000, 0)
	type key struct {
		b  string
		at time.Duration
	}
	tests := []struct {
		name string
		keys []key
		want int // index of the feed that detaches, -1 for none
	}{
		{"three at once", []key{{"\x1d\x1d\x1d", 0}}, 0},
		{"three within a second", []key{{"\x1d", 0}, {"\x1d", 400 * time.Millisecond}, {"\x1d", 900 * time.Millisecond}}, 2},
		{"too slow", []key{{"\x1d", 0}, {"\x1d", 600 * time.Millisecond}, {"\x1d", 1200 * time.Millisecond}}, -1},
		{"slow then quick", []key{{"\x1d", 0}, {"\x1d", 1500 * time.Millisecond}, {"\x1d", 1600 * time.Millisecond}, {"\x1d", 1700 * time.Millisecond}}, 3},
		{"two only", []key{{"\x1d\x1d", 0}}, -1},
		{"interrupted", []key{{"\x1d\x1dx\x1d", 0}}, -1},
		{"typing", []key{{"root\r", 0}, {"ls\r", time.Second}}, -1},
		{"after text", []key{{"ls\x1d\x1d\x1d", 0}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d detacher
			got := -1
			for i, k := range tt.keys {
				if d.feed([]byte(k.b), t0.Add(k.at)) && got < 0 {
					got = i
				}
			}
			if got != tt.want {
				t.Errorf("detached at key %d, want %d", got, tt.want)
			}
		})
	}
}
