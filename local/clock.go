package local

import (
	"container/heap"
	"sync"
	"time"
)

// A Clock tells the service the time and runs its timers: waits, step
// retries, callback timeouts, execution timeouts and the back-off after a
// failed invocation. [RealClock] follows the wall clock; a [VirtualClock]
// moves only when told to, which makes an hour-long wait take no time.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f in its own goroutine (or, for a VirtualClock, in the
	// goroutine that advances the clock) once d has elapsed.
	AfterFunc(d time.Duration, f func()) Timer
}

// A Timer is a pending call armed with [Clock.AfterFunc].
type Timer interface {
	// Stop prevents the call if it has not run yet and reports whether it
	// did so.
	Stop() bool
}

// RealClock returns the wall clock, backed by the time package.
func RealClock() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time                            { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// A VirtualClock is a [Clock] whose time moves only through [VirtualClock.Advance],
// [VirtualClock.AdvanceTo] and [VirtualClock.AdvanceToNext], or through the
// service when it runs with [WithAutoAdvance]. Timers fire in the goroutine
// that advances the clock, in time order, with timers due at the same instant
// fired in the order they were armed; while a timer runs, Now returns its
// due time.
//
// A VirtualClock is safe for concurrent use. Calls that advance it are
// serialized.
type VirtualClock struct {
	advance sync.Mutex // serializes Advance*

	mu     sync.Mutex
	now    time.Time
	timers timerHeap
	seq    uint64
	armed  chan struct{} // closed and replaced whenever a timer is armed
}

// NewVirtualClock returns a virtual clock that reads start until it is
// advanced.
func NewVirtualClock(start time.Time) *VirtualClock {
	return &VirtualClock{now: start, armed: make(chan struct{})}
}

// Now returns the clock's current time.
func (c *VirtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc arms a timer that calls f once the clock has been advanced by d
// or more. A timer with d <= 0 fires at the next advance, even Advance(0).
func (c *VirtualClock) AfterFunc(d time.Duration, f func()) Timer {
	return c.afterFunc(d, f, false)
}

// afterFunc arms a timer; a weak one (a timeout) fires when time passes it
// but does not attract an auto-advancing service (see WithAutoAdvance).
func (c *VirtualClock) afterFunc(d time.Duration, f func(), weak bool) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d < 0 {
		d = 0
	}
	c.seq++
	t := &virtualTimer{c: c, when: c.now.Add(d), seq: c.seq, f: f, index: -1, weak: weak}
	heap.Push(&c.timers, t)
	close(c.armed)
	c.armed = make(chan struct{})
	return t
}

// Next returns the due time of the earliest pending timer.
func (c *VirtualClock) Next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return time.Time{}, false
	}
	return c.timers[0].when, true
}

// Pending returns the number of timers not yet fired or stopped.
func (c *VirtualClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// Advance moves the clock forward by d, firing every timer that falls due on
// the way, each at its own instant. It returns the number of timers fired.
func (c *VirtualClock) Advance(d time.Duration) int {
	c.advance.Lock()
	defer c.advance.Unlock()
	c.mu.Lock()
	target := c.now.Add(d)
	c.mu.Unlock()
	return c.runUntil(target)
}

// AdvanceTo moves the clock forward to t (it never moves backwards), firing
// every timer due by then. It returns the number of timers fired.
func (c *VirtualClock) AdvanceTo(t time.Time) int {
	c.advance.Lock()
	defer c.advance.Unlock()
	return c.runUntil(t)
}

// AdvanceToNext moves the clock to the earliest pending timer and fires every
// timer due at that instant. It reports false, without moving, if no timer
// is pending.
func (c *VirtualClock) AdvanceToNext() (time.Time, bool) {
	return c.advanceToNextIf(nil, false)
}

// advanceToNextIf is AdvanceToNext guarded by cond, which is evaluated with
// the clock locked right before time moves: the service passes "no invocation
// is running", so that the clock never jumps under a running invocation.
// With strongOnly it moves to the earliest timer that is not weak, firing the
// weak ones due on the way.
func (c *VirtualClock) advanceToNextIf(cond func() bool, strongOnly bool) (time.Time, bool) {
	c.advance.Lock()
	defer c.advance.Unlock()
	c.mu.Lock()
	var when time.Time
	found := false
	if strongOnly {
		for _, t := range c.timers {
			if !t.weak && (!found || t.when.Before(when)) {
				when, found = t.when, true
			}
		}
	} else if len(c.timers) > 0 {
		when, found = c.timers[0].when, true
	}
	if !found || (cond != nil && !cond()) {
		c.mu.Unlock()
		return time.Time{}, false
	}
	if when.Before(c.now) {
		when = c.now
	}
	c.now = when // move while cond still holds; the timers fire below
	c.mu.Unlock()
	c.runUntil(when)
	return when, true
}

func (c *VirtualClock) runUntil(target time.Time) int {
	fired := 0
	for {
		c.mu.Lock()
		if len(c.timers) == 0 || c.timers[0].when.After(target) {
			if target.After(c.now) {
				c.now = target
			}
			c.mu.Unlock()
			return fired
		}
		t := heap.Pop(&c.timers).(*virtualTimer)
		if t.when.After(c.now) {
			c.now = t.when
		}
		c.mu.Unlock()
		t.f()
		fired++
	}
}

// armedChan returns a channel closed the next time a timer is armed.
func (c *VirtualClock) armedChan() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.armed
}

type virtualTimer struct {
	c     *VirtualClock
	when  time.Time
	seq   uint64
	f     func()
	index int  // in the heap, -1 once fired or stopped
	weak  bool // a timeout: see afterFunc
}

func (t *virtualTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&t.c.timers, t.index)
	return true
}

type timerHeap []*virtualTimer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if !h[i].when.Equal(h[j].when) {
		return h[i].when.Before(h[j].when)
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*virtualTimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	n := len(old)
	t := old[n-1]
	old[n-1] = nil
	t.index = -1
	*h = old[:n-1]
	return t
}
