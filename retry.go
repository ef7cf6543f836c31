package durable

import (
	"errors"
	"math"
	"math/rand/v2"
	"regexp"
	"time"
)

// Jitter spreads retry delays so that many executions failing together do
// not retry together.
type Jitter int

const (
	// FullJitter picks a delay uniformly in [0, d].
	FullJitter Jitter = iota
	// NoJitter uses the computed delay d as it is.
	NoJitter
	// HalfJitter picks a delay uniformly in [d/2, d].
	HalfJitter
)

// RetryPolicy decides whether and when a failed step runs again. The delay
// before attempt n+1 is min(InitialDelay × Multiplier^(n-1), MaxDelay) with
// Jitter applied, rounded up to whole seconds (at least 1 s), as the official
// SDKs compute it. Each retry is a RETRY checkpoint and a suspension: the
// service invokes the function again when the delay has passed.
type RetryPolicy struct {
	// MaxAttempts bounds the attempts, the first included. 0 means 1.
	MaxAttempts int
	// InitialDelay is the delay after the first failed attempt.
	InitialDelay time.Duration
	// MaxDelay caps the delay (0: no cap).
	MaxDelay time.Duration
	// Multiplier grows the delay after each attempt (0 means 1).
	Multiplier float64
	// Jitter spreads the delay; the zero value is FullJitter.
	Jitter Jitter
	// RetryIf reports whether an error is worth retrying; nil retries every error.
	RetryIf func(error) bool
}

// DefaultRetry is the policy of a step that sets none, the official SDKs'
// default: 6 attempts, 5 s doubling to at most 60 s, full jitter.
var DefaultRetry = RetryPolicy{MaxAttempts: 6, InitialDelay: 5 * time.Second, MaxDelay: 60 * time.Second, Multiplier: 2, Jitter: FullJitter}

// NoRetry runs a step once: its first failure is final.
var NoRetry = RetryPolicy{MaxAttempts: 1}

// TransientRetry suits brief hiccups: 3 attempts, 1 s doubling, half jitter.
var TransientRetry = RetryPolicy{MaxAttempts: 3, InitialDelay: time.Second, MaxDelay: 10 * time.Second, Multiplier: 2, Jitter: HalfJitter}

// ResourceRetry waits for a resource to become available: 5 attempts, 5 s
// doubling to at most 5 min, no jitter.
var ResourceRetry = RetryPolicy{MaxAttempts: 5, InitialDelay: 5 * time.Second, MaxDelay: 5 * time.Minute, Multiplier: 2, Jitter: NoJitter}

// CriticalRetry insists: 10 attempts, 1 s growing ×1.5 to at most 1 min, no jitter.
var CriticalRetry = RetryPolicy{MaxAttempts: 10, InitialDelay: time.Second, MaxDelay: time.Minute, Multiplier: 1.5, Jitter: NoJitter}

// FixedRetry retries attempts-1 times after the same delay, without jitter.
func FixedRetry(attempts int, delay time.Duration) RetryPolicy {
	return RetryPolicy{MaxAttempts: attempts, InitialDelay: delay, Multiplier: 1, Jitter: NoJitter}
}

// Next reports whether to retry after the given failed attempt (1-based) and
// the delay before the next one.
func (p RetryPolicy) Next(attempt int, err error) (time.Duration, bool) {
	max := p.MaxAttempts
	if max < 1 {
		max = 1
	}
	if attempt >= max {
		return 0, false
	}
	if p.RetryIf != nil && !p.RetryIf(err) {
		return 0, false
	}
	mult := p.Multiplier
	if mult <= 0 {
		mult = 1
	}
	d := float64(p.InitialDelay) * math.Pow(mult, float64(attempt-1))
	if p.MaxDelay > 0 && d > float64(p.MaxDelay) {
		d = float64(p.MaxDelay)
	}
	switch p.Jitter {
	case FullJitter:
		d = rand.Float64() * d
	case HalfJitter:
		d = d/2 + rand.Float64()*d/2
	}
	secs := math.Ceil(d / float64(time.Second))
	if secs < 1 {
		secs = 1
	}
	return time.Duration(secs) * time.Second, true
}

// RetryIfType returns a RetryIf predicate that retries errors matching any
// of the given target types with errors.As, such as RetryIfType[*TimeoutError]().
func RetryIfType[E error]() func(error) bool {
	return func(err error) bool {
		var target E
		return errors.As(err, &target)
	}
}

// RetryIfTypeName retries errors whose recorded type name ([ErrorTypeName]),
// or that of an error they wrap, is one of names.
func RetryIfTypeName(names ...string) func(error) bool {
	return func(err error) bool {
		for e := err; e != nil; e = errors.Unwrap(e) {
			n := ErrorTypeName(e)
			for _, want := range names {
				if n == want {
					return true
				}
			}
		}
		return false
	}
}

// RetryIfMessage retries errors whose message matches the regular
// expression (unanchored: a plain substring works). It panics if pattern does
// not compile, like regexp.MustCompile.
func RetryIfMessage(pattern string) func(error) bool {
	re := regexp.MustCompile(pattern)
	return func(err error) bool { return re.MatchString(err.Error()) }
}
