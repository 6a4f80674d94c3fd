package demo

import (
	"testing"
	"time"
)

// TestClockNeverGoesBack: held, the clock reads the held instant (a
// microsecond later for each further reading of the same or an earlier
// instant); released, it reads real time, but never earlier than its last
// reading.
func TestClockNeverGoesBack(t *testing.T) {
	real := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	c := NewClock(func() time.Time { return real })
	if got := c.Now(); !got.Equal(real) {
		t.Fatalf("unheld clock reads %s, want real time %s", got, real)
	}
	t0 := time.Date(2019, 10, 1, 9, 0, 0, 0, ict)
	c.Hold(t0)
	// Held in the past: the clock still never goes back.
	if got := c.Now(); !got.Equal(real.Add(time.Microsecond)) {
		t.Fatalf("held before the last reading: %s, want %s", got, real.Add(time.Microsecond))
	}

	c = NewClock(func() time.Time { return real })
	c.Hold(t0)
	for i, want := range []time.Time{t0, t0.Add(time.Microsecond), t0.Add(2 * time.Microsecond)} {
		if got := c.Now(); !got.Equal(want) {
			t.Fatalf("reading %d at the held instant: %s, want %s", i, got, want)
		}
	}
	c.Hold(t0.Add(-time.Hour))
	if got := c.Now(); !got.Equal(t0.Add(3 * time.Microsecond)) {
		t.Fatalf("held earlier: %s, want just after the last reading", got)
	}
	t1 := t0.AddDate(1, 0, 0)
	c.Hold(t1)
	if got := c.Now(); !got.Equal(t1) {
		t.Fatalf("held later: %s, want %s", got, t1)
	}
	c.Release()
	if got := c.Now(); !got.Equal(real) {
		t.Fatalf("released: %s, want real time %s", got, real)
	}
}
