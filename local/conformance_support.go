package local

import "time"

// What the conformance driver (package conformance) needs from the service
// beyond its public API.

// AdvanceBefore moves the clock forward to t (never backwards), like
// [VirtualClock.AdvanceTo], but fires only the timers due strictly before t:
// those due at t stay pending and fire at the next advance. It returns the
// number of timers fired.
//
// The conformance driver delivers a callback send scheduled at t before the
// service's timers of the same instant (README §4.7: "callback sends first"),
// so it moves time with AdvanceBefore, sends, and then lets the timers fire.
func (c *VirtualClock) AdvanceBefore(t time.Time) int {
	c.advance.Lock()
	defer c.advance.Unlock()
	fired := c.runUntil(t.Add(-time.Nanosecond))
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t
	}
	c.mu.Unlock()
	return fired
}
