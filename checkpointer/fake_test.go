package checkpointer_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// fakeAPI is an in-memory durable API. It checks the token chain like the
// service: tokens are "tok0" (the invocation's), "tok1", … and a call with
// any other token fails with "Invalid Checkpoint Token". A repeat of the
// last accepted (ClientToken, CheckpointToken) pair is answered from cache.
type fakeAPI struct {
	// Set before use.
	latency time.Duration
	gate    chan struct{}             // if set, each call waits for a value (or ctx)
	entered chan struct{}             // if set, receives a value as each call starts
	fail    func(attempt int) error   // error for a request, before it is applied
	lose    func(attempt int) bool    // apply the request, then fail as if the answer was lost
	noToken bool                      // answer without a CheckpointToken
	marker  string                    // NextMarker of every checkpoint answer
	pages   map[string]page           // GetDurableExecutionState answers by marker
	pageErr func(marker string) error // error for a state request

	mu       sync.Mutex
	token    int
	attempts []call   // every checkpoint request
	calls    []call   // accepted checkpoint requests
	applied  []string // "id:ACTION" in the order applied
	reads    []read   // state requests
	lastKey  [2]string
	lastOut  *lambda.CheckpointDurableExecutionOutput
}

type call struct {
	Token, ClientToken string
	Updates            []string // "id:ACTION"
	At                 time.Time
}

type page struct {
	ops  []types.Operation
	next string
}

type read struct {
	Token, Marker string
	MaxItems      int32
}

func (f *fakeAPI) tokenLocked() string { return "tok" + strconv.Itoa(f.token) }

func key(u types.OperationUpdate) string {
	id := ""
	if u.Id != nil {
		id = *u.Id
	}
	return id + ":" + string(u.Action)
}

func (f *fakeAPI) CheckpointDurableExecution(ctx context.Context, in *lambda.CheckpointDurableExecutionInput, _ ...func(*lambda.Options)) (*lambda.CheckpointDurableExecutionOutput, error) {
	if f.entered != nil {
		f.entered <- struct{}{}
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, &smithy.CanceledError{Err: ctx.Err()}
		}
	}
	if f.latency > 0 {
		t := time.NewTimer(f.latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, &smithy.CanceledError{Err: ctx.Err()}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := call{Token: deref(in.CheckpointToken), ClientToken: deref(in.ClientToken), At: time.Now()}
	for _, u := range in.Updates {
		c.Updates = append(c.Updates, key(u))
	}
	attempt := len(f.attempts)
	f.attempts = append(f.attempts, c)
	if f.fail != nil {
		if err := f.fail(attempt); err != nil {
			return nil, err
		}
	}
	if k := [2]string{c.ClientToken, c.Token}; k == f.lastKey && f.lastOut != nil {
		return f.lastOut, nil
	}
	if c.Token != f.tokenLocked() {
		return nil, &smithy.GenericAPIError{Code: "InvalidParameterValueException", Message: "Invalid Checkpoint Token: got " + c.Token + ", want " + f.tokenLocked(), Fault: smithy.FaultClient}
	}
	f.calls = append(f.calls, c)
	ops := make([]types.Operation, 0, len(in.Updates))
	for _, u := range in.Updates {
		f.applied = append(f.applied, key(u))
		status := types.OperationStatusStarted
		switch u.Action {
		case types.OperationActionSucceed:
			status = types.OperationStatusSucceeded
		case types.OperationActionFail:
			status = types.OperationStatusFailed
		case types.OperationActionRetry:
			status = types.OperationStatusPending
		}
		ops = append(ops, types.Operation{Id: u.Id, Type: u.Type, Status: status})
	}
	f.token++
	out := &lambda.CheckpointDurableExecutionOutput{NewExecutionState: &types.CheckpointUpdatedExecutionState{Operations: ops}}
	if !f.noToken {
		tok := f.tokenLocked()
		out.CheckpointToken = &tok
	}
	if f.marker != "" {
		m := f.marker
		out.NewExecutionState.NextMarker = &m
	}
	f.lastKey, f.lastOut = [2]string{c.ClientToken, c.Token}, out
	if f.lose != nil && f.lose(attempt) {
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
	}
	return out, nil
}

func (f *fakeAPI) GetDurableExecutionState(ctx context.Context, in *lambda.GetDurableExecutionStateInput, _ ...func(*lambda.Options)) (*lambda.GetDurableExecutionStateOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := deref(in.Marker)
	f.reads = append(f.reads, read{Token: deref(in.CheckpointToken), Marker: m, MaxItems: in.MaxItems})
	if f.pageErr != nil {
		if err := f.pageErr(m); err != nil {
			return nil, err
		}
	}
	p, ok := f.pages[m]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "InvalidParameterValueException", Message: "unknown marker " + m}
	}
	out := &lambda.GetDurableExecutionStateOutput{Operations: p.ops}
	if p.next != "" {
		n := p.next
		out.NextMarker = &n
	}
	return out, nil
}

// snapshot returns copies of what the fake recorded.
func (f *fakeAPI) snapshot() (attempts, calls []call, applied []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.attempts...), append([]call(nil), f.calls...), append([]string(nil), f.applied...)
}

func (f *fakeAPI) stateReads() []read {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]read(nil), f.reads...)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func ptr[T any](v T) *T { return &v }

func step(id string, a types.OperationAction) types.OperationUpdate {
	return types.OperationUpdate{Id: ptr(id), Type: types.OperationTypeStep, SubType: ptr("Step"), Action: a}
}

func op(id string) types.Operation {
	return types.Operation{Id: ptr(id), Type: types.OperationTypeStep, Status: types.OperationStatusSucceeded}
}
