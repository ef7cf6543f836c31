package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	lambdaapi "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/durablectx/durable/local"
)

// maxRounds bounds the rounds of one async run, against a service that never
// settles.
const maxRounds = 10000

// scheduledSend is a callback send due at a given instant.
type scheduledSend struct {
	at   time.Time
	seq  int
	send CallbackSend
}

// asyncFlow runs the async flow (README §4.7 item 3) and leaves the history of
// the last round in r.history. It reports whether history-only mode matched,
// which passes the requirement at once.
func (r *run) asyncFlow(ctx context.Context) bool {
	if r.vc != nil {
		return r.asyncVirtual(ctx)
	}
	return r.asyncReal(ctx)
}

// round is one poll round: fetch the history, restore the wait_for_callback
// names, determine the terminal state and select the callback sends. In
// history-only mode it also tries the match.
type roundResult struct {
	terminal bool
	matched  bool
	sends    []CallbackSend
}

func (r *run) round(ctx context.Context, cbs *CallbackServer) (roundResult, error) {
	var out roundResult
	events, err := r.fetchHistory(ctx)
	if err != nil {
		return out, err
	}
	RestoreCallbackNames(events)
	r.history = events
	if _, ok := TerminalStatus(events); ok {
		out.terminal = true
		return out, nil
	}
	sends, fails := cbs.Round(events, r.b)
	r.fail(fails...)
	out.sends = sends
	if r.req.ExpectedResult == nil && len(r.req.ExpectedExecutionHistory) > 0 {
		if len(MatchHistory(r.req.ExpectedExecutionHistory, events, r.b.Clone())) == 0 {
			r.fail(MatchHistory(r.req.ExpectedExecutionHistory, events, r.b)...) // binds the placeholders
			out.matched = true
		}
	}
	return out, nil
}

// asyncVirtual runs the async flow on the virtual clock. A round runs
// whenever the service is quiescent; then the clock moves to the earliest of
// the next service timer and the next scheduled callback send, sends first
// when they share the instant. A heartbeat is followed by a round at once.
func (r *run) asyncVirtual(ctx context.Context) bool {
	cbs := NewCallbackServer(r.req.CallbackActions)
	var queue []scheduledSend
	seq := 0
	for range maxRounds {
		if err := r.svc.WaitIdle(ctx); err != nil {
			r.fail(Failure{Phase: PhaseHistory, Message: fmt.Sprintf("waiting for the service to settle: %v", err)})
			return false
		}
		rr, err := r.round(ctx, cbs)
		if err != nil {
			r.fail(Failure{Phase: PhaseHistory, Message: err.Error()})
			return false
		}
		if rr.terminal {
			return r.finalMatch()
		}
		if rr.matched {
			return true
		}
		now := r.vc.Now()
		for _, s := range rr.sends {
			seq++
			at := now.Add(s.After)
			if at.Before(r.earliest) {
				at = r.earliest // long-running: answer once the delay has passed
			}
			queue = append(queue, scheduledSend{at: at, seq: seq, send: s})
		}
		slices.SortStableFunc(queue, func(a, b scheduledSend) int {
			if c := a.at.Compare(b.at); c != 0 {
				return c
			}
			return a.seq - b.seq
		})

		// Sends due now go first, then a new round.
		if len(queue) > 0 && !queue[0].at.After(now) {
			for len(queue) > 0 && !queue[0].at.After(now) {
				s := queue[0]
				queue = queue[1:]
				r.deliver(ctx, s.send)
			}
			continue
		}
		next, hasTimer := r.vc.Next()
		if len(queue) > 0 && (!hasTimer || !queue[0].at.After(next)) {
			r.vc.AdvanceBefore(queue[0].at)
			continue
		}
		if hasTimer {
			if _, err := r.svc.AdvanceToNextTimer(ctx); err != nil && !errors.Is(err, local.ErrNoTimer) {
				r.fail(Failure{Phase: PhaseHistory, Message: fmt.Sprintf("advancing the virtual clock: %v", err)})
				return false
			}
			continue
		}
		r.fail(Failure{Phase: PhaseHistory, Message: "no progress: the execution is not terminal and nothing is scheduled (no timer, no callback send)"})
		return r.finalMatch()
	}
	r.fail(Failure{Phase: PhaseHistory, Message: fmt.Sprintf("no terminal state after %d rounds", maxRounds)})
	return false
}

// asyncReal runs the async flow on the wall clock, polling like the official
// runner: sleep the poll interval, run a round, send the callbacks after
// their delays.
func (r *run) asyncReal(ctx context.Context) bool {
	cbs := NewCallbackServer(r.req.CallbackActions)
	poll := r.req.AsyncConfig.PollInterval
	if r.d.Options.PollInterval > 0 {
		poll = r.d.Options.PollInterval
	}
	if poll <= 0 {
		poll = 2 * time.Second
	}
	noProgress := r.req.AsyncConfig.NoProgressTimeout
	if r.d.Options.NoProgressTimeout > 0 {
		noProgress = r.d.Options.NoProgressTimeout
	}
	if noProgress <= 0 {
		noProgress = 30 * time.Second
	}
	lastCount, lastProgress := -1, time.Now()
	for range maxRounds {
		if err := sleep(ctx, poll); err != nil {
			r.fail(Failure{Phase: PhaseHistory, Message: fmt.Sprintf("polling: %v", err)})
			return false
		}
		rr, err := r.round(ctx, cbs)
		if err != nil {
			r.fail(Failure{Phase: PhaseHistory, Message: err.Error()})
			return false
		}
		if rr.terminal {
			return r.finalMatch()
		}
		if len(r.history) > lastCount {
			lastCount, lastProgress = len(r.history), time.Now()
		} else if time.Since(lastProgress) > noProgress {
			r.fail(Failure{Phase: PhaseHistory, Message: fmt.Sprintf("no progress: the history has not grown for %v", noProgress)})
			return r.finalMatch()
		}
		for _, s := range rr.sends {
			delay := s.Delay
			if wait := time.Until(r.earliest); wait > delay {
				delay = wait // long-running: answer once the delay has passed
			}
			if err := sleep(ctx, delay); err != nil {
				r.fail(Failure{Phase: PhaseHistory, Message: fmt.Sprintf("callback delay: %v", err)})
				return false
			}
			r.deliver(ctx, s)
		}
		if rr.matched {
			return true
		}
	}
	r.fail(Failure{Phase: PhaseHistory, Message: fmt.Sprintf("no terminal state after %d rounds", maxRounds)})
	return false
}

// finalMatch matches the expected events, if any, against the last round's
// history.
func (r *run) finalMatch() bool {
	if len(r.req.ExpectedExecutionHistory) > 0 {
		r.fail(MatchHistory(r.req.ExpectedExecutionHistory, r.history, r.b)...)
	}
	return false
}

// deliver makes one callback API call.
func (r *run) deliver(ctx context.Context, s CallbackSend) {
	api := r.svc.API()
	var err error
	switch s.Operation {
	case CallbackSuccess:
		_, err = api.SendDurableExecutionCallbackSuccess(ctx, &lambdaapi.SendDurableExecutionCallbackSuccessInput{CallbackId: &s.CallbackID, Result: s.Result})
	case CallbackFailure:
		_, err = api.SendDurableExecutionCallbackFailure(ctx, &lambdaapi.SendDurableExecutionCallbackFailureInput{CallbackId: &s.CallbackID, Error: s.Error})
	case CallbackHeartbeat:
		_, err = api.SendDurableExecutionCallbackHeartbeat(ctx, &lambdaapi.SendDurableExecutionCallbackHeartbeatInput{CallbackId: &s.CallbackID})
	default:
		err = fmt.Errorf("unknown operation %q", s.Operation)
	}
	if err != nil {
		r.fail(Failure{Phase: PhaseHistory, Path: fmt.Sprintf("CallbackActions[%d]", s.Action),
			Message: fmt.Sprintf("%s of callback %q (CallbackId %s) failed: %v", s.Operation, s.Name, s.CallbackID, err)})
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
