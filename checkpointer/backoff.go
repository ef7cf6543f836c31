package checkpointer

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff paces the retries of throttled and failed calls. The delay before
// retry n (from 0) is Initial·2ⁿ capped at Max, of which a random half is
// dropped so that concurrent executions spread out. Retries go on while the
// invocation's deadline leaves room for the next delay.
type Backoff struct {
	Initial time.Duration // first delay; default 100ms
	Max     time.Duration // longest delay; default 5s
}

const (
	defaultInitialBackoff = 100 * time.Millisecond
	defaultMaxBackoff     = 5 * time.Second
)

func (p Backoff) withDefaults() Backoff {
	if p.Initial <= 0 {
		p.Initial = defaultInitialBackoff
	}
	if p.Max <= 0 {
		p.Max = defaultMaxBackoff
	}
	if p.Max < p.Initial {
		p.Max = p.Initial
	}
	return p
}

func (p Backoff) delay(attempt int) time.Duration {
	d := p.Initial
	for i := 0; i < attempt && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	return d/2 + rand.N(d/2+1)
}

// pause sleeps before retry attempt n. It reports false, at once, when ctx
// ends first or its deadline leaves no room for the delay.
func (p Backoff) pause(ctx context.Context, attempt int) bool {
	d := p.delay(attempt)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
