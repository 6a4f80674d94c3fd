package demo

import (
	"sync"
	"time"
)

// Clock is a ledger clock the demo loader can hold at the plan's instants.
// `kpiledger serve --demo` gives its Now to the event store
// (events.WithClock), so that while the demo loads, every event's
// recorded_at lies in the fiscal year it belongs to and as-of views of the
// demo read like the real history; afterwards real time resumes.
//
// It never goes back: a reading earlier than or equal to the previous one
// becomes the previous one plus a microsecond (recorded_at keeps
// microseconds in RFC 3339, so the order survives encoding). Stream order
// and recorded_at order therefore agree, which as-of views rely on.
type Clock struct {
	mu   sync.Mutex
	real func() time.Time
	held time.Time // zero: real time
	last time.Time
}

// NewClock returns a clock reading real (time.Now when nil) until held.
func NewClock(real func() time.Time) *Clock {
	if real == nil {
		real = time.Now
	}
	return &Clock{real: real}
}

// Now is the clock's reading, for events.WithClock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.held
	if t.IsZero() {
		t = c.real()
	}
	// Round(0) drops the monotonic reading so that the comparison below is
	// on wall time, the only time recorded_at keeps.
	t = t.Round(0)
	if !t.After(c.last) && !c.last.IsZero() {
		t = c.last.Add(time.Microsecond)
	}
	c.last = t
	return t
}

// Hold makes the clock read t (or just after its last reading, if t is
// earlier) until the next Hold or Release.
func (c *Clock) Hold(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = t
}

// Release returns the clock to real time, still never earlier than its
// last reading.
func (c *Clock) Release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = time.Time{}
}
