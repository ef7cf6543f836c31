package local

import (
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Scheduling follows the official emulator and the real service (protocol.md
// §5.1–5.2, conformance README §2.8):
//
//   - At most one invocation of an execution runs at a time. A trigger that
//     arrives while one runs sets NeedsReinvoke, and the execution is invoked
//     again as soon as that invocation ends.
//   - Every asynchronous completion (wait elapsed, retry due, callback
//     succeeded, failed or timed out, chained invoke finished) triggers an
//     invocation.
//   - Each execution has one wake-up timer on the service clock, armed at
//     its earliest deadline: waits, step retries, callback timeouts and
//     heartbeats, the execution timeout and the back-off of a failed
//     invocation. Due deadlines are also completed on every checkpoint.

// trigger asks for an invocation of e. e.mu must be held.
func (s *Service) trigger(e *execution) {
	if e.terminal() {
		return
	}
	e.chg.exec = true
	if e.Invoking || e.parked || e.held {
		e.NeedsReinvoke = true
		return
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		e.NeedsReinvoke = true // resumed by the next service on this store
		return
	}
	s.wg.Add(1) // under s.mu, so never concurrent with Close's Wait
	s.mu.RUnlock()
	e.Invoking = true
	e.RetryAt = time.Time{}
	s.busyAdd()
	go s.invoke(e)
}

// process completes what fell due by now. e.mu must be held.
func (s *Service) process(e *execution, now time.Time) {
	if e.terminal() {
		return
	}
	var due []*operation
	kept := e.timed[:0]
	for _, o := range e.timed {
		d, ok := o.deadline()
		switch {
		case !ok:
			o.timed = false
		case d.After(now):
			kept = append(kept, o)
		default:
			o.timed = false
			due = append(due, o)
		}
	}
	clear(e.timed[len(kept):])
	e.timed = kept
	if len(due) > 1 {
		slices.SortStableFunc(due, func(a, b *operation) int {
			da, _ := a.deadline()
			db, _ := b.deadline()
			if c := da.Compare(db); c != 0 {
				return c
			}
			return int(a.Seq - b.Seq)
		})
	}
	triggered := false
	for _, o := range due {
		triggered = true
		switch o.Type {
		case types.OperationTypeWait:
			o.Status, o.End = types.OperationStatusSucceeded, now
			ev := e.event(o, types.EventTypeWaitSucceeded, now)
			ev.WaitSucceededDetails = &types.WaitSucceededDetails{Duration: ptr(o.WaitSeconds)}
		case types.OperationTypeStep:
			o.Status, o.NextAttempt = types.OperationStatusReady, time.Time{}
		case types.OperationTypeCallback:
			errObj := &types.ErrorObject{ErrorType: ptr("Callback.Heartbeat"), ErrorMessage: ptr("Callback timed out on heartbeat")}
			if !o.TimeoutAt.IsZero() && !o.TimeoutAt.After(now) {
				errObj = &types.ErrorObject{ErrorType: ptr("Callback.Timeout"), ErrorMessage: ptr("Callback timed out")}
			}
			o.Status, o.End, o.Error = types.OperationStatusTimedOut, now, errObj
			o.TimeoutAt, o.HeartbeatAt = time.Time{}, time.Time{}
			ev := e.event(o, types.EventTypeCallbackTimedOut, now)
			ev.CallbackTimedOutDetails = &types.CallbackTimedOutDetails{Error: eventError(errObj)}
		}
		e.touch(o)
	}
	if deadline := e.deadline(); !deadline.After(now) {
		errObj := &types.ErrorObject{ErrorMessage: ptr(fmt.Sprintf("Execution timed out after %d seconds.", e.Timeout))}
		ev := e.executionEvent(types.EventTypeExecutionTimedOut, now)
		ev.ExecutionTimedOutDetails = &types.ExecutionTimedOutDetails{Error: eventError(errObj)}
		s.complete(e, now, types.ExecutionStatusTimedOut, nil, errObj)
		return
	}
	if !e.RetryAt.IsZero() && !e.RetryAt.After(now) {
		e.RetryAt = time.Time{}
		e.chg.exec = true
		triggered = true
	}
	if triggered {
		s.trigger(e)
	}
}

// deadline is when the execution times out.
func (e *execution) deadline() time.Time {
	return e.Start.Add(time.Duration(e.Timeout) * time.Second)
}

// An execution has two wake-up timers: one for progress the handler asked
// for (waits, step retries, the back-off of a failed invocation) and one for
// timeouts (callback timeouts and heartbeats, the execution timeout). On a
// virtual clock the timeout timer is weak: it fires when time passes it but
// never pulls an auto-advancing clock forward by itself.
const (
	wakeProgress = iota
	wakeTimeout
)

// wakeup is one of an execution's timers.
type wakeup struct {
	timer Timer
	at    time.Time
	gen   uint64
}

func (w *wakeup) stop() {
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	w.at = time.Time{}
	w.gen++
}

// deadlines returns the earliest progress and timeout deadlines of e.
func (e *execution) deadlines() (progress, timeout time.Time) {
	if e.terminal() {
		return
	}
	timeout = e.deadline()
	progress = e.RetryAt
	for _, o := range e.timed {
		d, ok := o.deadline()
		if !ok {
			continue
		}
		if o.Type == types.OperationTypeCallback {
			if d.Before(timeout) {
				timeout = d
			}
		} else if progress.IsZero() || d.Before(progress) {
			progress = d
		}
	}
	return
}

// rearm arms e's wake-up timers at its earliest deadlines. e.mu must be held.
func (s *Service) rearm(e *execution, now time.Time) {
	progress, timeout := e.deadlines()
	for k, next := range [2]time.Time{progress, timeout} {
		w := &e.wake[k]
		if w.timer != nil && next.Equal(w.at) {
			continue
		}
		w.stop()
		if next.IsZero() || s.ctx.Err() != nil {
			continue
		}
		w.at = next
		gen, kind := w.gen, k
		w.timer = s.afterFunc(next.Sub(now), func() { s.onTimer(e, kind, gen) }, k == wakeTimeout)
	}
}

// afterFunc arms a timer on the service clock; weak timers are timeouts.
func (s *Service) afterFunc(d time.Duration, f func(), weak bool) Timer {
	if s.vclock != nil {
		return s.vclock.afterFunc(d, f, weak)
	}
	return s.clock.AfterFunc(d, f)
}

func (s *Service) onTimer(e *execution, kind int, gen uint64) {
	e.mu.Lock()
	w := &e.wake[kind]
	if gen != w.gen || e.terminal() {
		e.mu.Unlock()
		return
	}
	w.timer, w.at = nil, time.Time{}
	now := s.now()
	s.process(e, now)
	s.rearm(e, now)
	s.unlock(e) //nolint:errcheck // logged; nobody to answer
}

// complete ends the execution and records ExecutionSucceeded or
// ExecutionFailed; the callers record ExecutionTimedOut and ExecutionStopped.
// e.mu must be held.
func (s *Service) complete(e *execution, now time.Time, status types.ExecutionStatus, result *string, errObj *types.ErrorObject) {
	if e.terminal() {
		return
	}
	e.Status, e.End, e.Result, e.Error = status, now, result, errObj
	e.NeedsReinvoke, e.RetryAt = false, time.Time{}
	e.chg.exec = true
	x := e.ops[0]
	x.Status, x.End = types.OperationStatus(status), now
	e.touch(x)
	switch status {
	case types.ExecutionStatusSucceeded:
		ev := e.executionEvent(types.EventTypeExecutionSucceeded, now)
		ev.ExecutionSucceededDetails = &types.ExecutionSucceededDetails{Result: eventResult(result)}
	case types.ExecutionStatusFailed:
		ev := e.executionEvent(types.EventTypeExecutionFailed, now)
		ev.ExecutionFailedDetails = &types.ExecutionFailedDetails{Error: eventError(errObj)}
	}
	for _, o := range e.timed {
		o.timed = false
	}
	e.timed = nil
	e.wake[wakeProgress].stop()
	e.wake[wakeTimeout].stop()
	close(e.done)
	if e.ParentARN != "" {
		s.chainedDone(e) // notify the caller once e.mu is released
	}
}

// unlock persists e's changes, releases e.mu and runs the deferred
// cross-execution effects. The returned error is the store's.
func (s *Service) unlock(e *execution) error {
	err := s.commit(e)
	after := e.after
	e.after = nil
	e.mu.Unlock()
	for _, f := range after {
		f()
	}
	return err
}

// commit writes e's pending changes through the store. On failure they stay
// pending and go with the next commit. e.mu must be held.
func (s *Service) commit(e *execution) error {
	c := &e.chg
	if c.empty() {
		return nil
	}
	// The commit and its slices are reused: stores copy what they keep.
	cm := &e.cm
	*cm = commit{arn: e.ARN, events: c.events, deleted: c.deleted, ops: cm.ops[:0], rec: nil}
	if c.exec {
		e.cmRec = e.execRecord
		cm.rec = &e.cmRec
	}
	for _, o := range c.ops {
		cm.ops = append(cm.ops, *o)
	}
	err := s.store.commit(cm)
	clear(cm.ops) // drop references to payloads
	if err != nil {
		s.log.Error("durable: store write failed", "arn", e.ARN, "error", err)
		return serviceError("durable: store write failed: %v", err)
	}
	for _, o := range c.ops {
		o.inChg = false
	}
	clear(c.ops)
	clear(c.events)
	*c = change{ops: c.ops[:0], events: c.events[:0]}
	return nil
}

// busyAdd counts one more invocation running or queued.
func (s *Service) busyAdd() {
	s.idleMu.Lock()
	s.busy++
	s.idleMu.Unlock()
}

// busyDone counts one invocation less and signals idleness.
func (s *Service) busyDone() {
	s.idleMu.Lock()
	s.busy--
	idle := s.busy == 0
	if idle {
		close(s.idleCh)
		s.idleCh = make(chan struct{})
	}
	s.idleMu.Unlock()
	if idle && s.cfg.onIdle != nil {
		s.cfg.onIdle()
	}
}

func (s *Service) isIdle() bool {
	s.idleMu.Lock()
	defer s.idleMu.Unlock()
	return s.busy == 0
}
