package supervisor

import "time"

// Clock is the loop's source of time: the real one (RealClock), or a fake
// one in tests.
type Clock interface {
	Now() time.Time
	// NewTimer fires once, d from now.
	NewTimer(d time.Duration) Timer
	// NewTicker fires every d.
	NewTicker(d time.Duration) Timer
}

// Timer is a running timer or ticker. After Stop returns, C delivers
// nothing more (as time.Timer does since Go 1.23).
type Timer interface {
	C() <-chan time.Time
	Stop()
}

// RealClock is the clock of package time.
type RealClock struct{}

// Now is time.Now.
func (RealClock) Now() time.Time { return time.Now() }

// NewTimer is time.NewTimer.
func (RealClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

// NewTicker is time.NewTicker.
func (RealClock) NewTicker(d time.Duration) Timer { return realTicker{time.NewTicker(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.t.C }
func (t realTimer) Stop()               { t.t.Stop() }

type realTicker struct{ t *time.Ticker }

func (t realTicker) C() <-chan time.Time { return t.t.C }
func (t realTicker) Stop()               { t.t.Stop() }
