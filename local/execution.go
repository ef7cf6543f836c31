package local

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// An operation is the service's record of one durable operation. The
// exported fields are what the stores persist.
type operation struct {
	Seq      int64 `json:"seq"` // start order; 0 is the EXECUTION operation
	ID       string
	ParentID string `json:",omitempty"`
	Name     string `json:",omitempty"`
	SubType  string `json:",omitempty"`
	Type     types.OperationType
	Status   types.OperationStatus
	Start    time.Time
	End      time.Time `json:",omitzero"`

	Input          *string            `json:",omitempty"` // EXECUTION
	Result         *string            `json:",omitempty"` // CONTEXT, STEP, CALLBACK, CHAINED_INVOKE
	Error          *types.ErrorObject `json:",omitempty"`
	ReplayChildren bool               `json:",omitempty"`

	Attempt     int32     `json:",omitempty"` // STEP
	NextAttempt time.Time `json:",omitzero"`

	WaitSeconds  int32     `json:",omitempty"` // WAIT
	ScheduledEnd time.Time `json:",omitzero"`

	CallbackID       string    `json:",omitempty"` // CALLBACK
	TimeoutSeconds   int32     `json:",omitempty"`
	HeartbeatSeconds int32     `json:",omitempty"`
	TimeoutAt        time.Time `json:",omitzero"`
	HeartbeatAt      time.Time `json:",omitzero"`

	FunctionName string `json:",omitempty"` // CHAINED_INVOKE
	TenantID     string `json:",omitempty"`
	ChildARN     string `json:",omitempty"`

	parent *operation // the CONTEXT named by ParentID
	names  *opNames   // shared pointers to ID, Name, SubType, ParentID
	dirty  bool       // in execution.dirty: changed since the handler last saw it
	timed  bool       // in execution.timed: has a deadline
	inChg  bool       // in execution.chg: not yet persisted
}

func terminalOp(s types.OperationStatus) bool {
	switch s {
	case types.OperationStatusSucceeded, types.OperationStatusFailed, types.OperationStatusCancelled,
		types.OperationStatusTimedOut, types.OperationStatusStopped:
		return true
	}
	return false
}

// deadline returns the earliest time at which the service must act on op.
func (o *operation) deadline() (time.Time, bool) {
	switch o.Type {
	case types.OperationTypeWait:
		if o.Status == types.OperationStatusStarted {
			return o.ScheduledEnd, true
		}
	case types.OperationTypeStep:
		if o.Status == types.OperationStatusPending {
			return o.NextAttempt, true
		}
	case types.OperationTypeCallback:
		if o.Status == types.OperationStatusStarted {
			return earliest(o.TimeoutAt, o.HeartbeatAt)
		}
	}
	return time.Time{}, false
}

// earliest returns the earliest non-zero time of a and b.
func earliest(a, b time.Time) (time.Time, bool) {
	switch {
	case a.IsZero() && b.IsZero():
		return time.Time{}, false
	case a.IsZero():
		return b, true
	case b.IsZero() || a.Before(b):
		return a, true
	}
	return b, true
}

// pending reports whether op keeps the execution suspended: something the
// service will complete later.
func (o *operation) pending() bool {
	switch o.Type {
	case types.OperationTypeStep:
		return o.Status == types.OperationStatusPending || o.Status == types.OperationStatusReady
	case types.OperationTypeWait, types.OperationTypeCallback, types.OperationTypeChainedInvoke:
		return o.Status == types.OperationStatusStarted
	}
	return false
}

// hidden reports whether op is a descendant of a completed CONTEXT whose
// children are not replayed: such operations are left out of the state the
// handler reads (GetDurableExecutionState, the invocation input).
func (o *operation) hidden() bool {
	for p := o.parent; p != nil; p = p.parent {
		if terminalOp(p.Status) && !p.ReplayChildren {
			return true
		}
	}
	return false
}

// opNames holds pointers to an operation's identity strings, allocated once
// and shared by every event and API value about the operation. The strings
// never change; callers must not write through the pointers.
type opNames struct {
	id, name, subType, parentID *string
}

func (o *operation) identity() *opNames {
	if o.names == nil {
		n := &opNames{id: ptr(o.ID)}
		if o.Name != "" {
			n.name = ptr(o.Name)
		}
		if o.SubType != "" {
			n.subType = ptr(o.SubType)
		}
		if o.ParentID != "" {
			n.parentID = ptr(o.ParentID)
		}
		o.names = n
	}
	return o.names
}

// api returns op as the Lambda API shows it. Payloads and timestamps are
// fresh copies; the identity strings are shared (see opNames).
func (o *operation) api() types.Operation {
	n := o.identity()
	op := types.Operation{
		Id:       n.id,
		Name:     n.name,
		SubType:  n.subType,
		ParentId: n.parentID,
		Type:     o.Type,
		Status:   o.Status,
	}
	start := o.Start
	op.StartTimestamp = &start
	if !o.End.IsZero() {
		end := o.End
		op.EndTimestamp = &end
	}
	switch o.Type {
	case types.OperationTypeExecution:
		op.ExecutionDetails = &types.ExecutionDetails{InputPayload: cloneString(o.Input)}
	case types.OperationTypeContext:
		d := &types.ContextDetails{Result: cloneString(o.Result), Error: cloneError(o.Error)}
		if o.ReplayChildren {
			d.ReplayChildren = ptr(true)
		}
		op.ContextDetails = d
	case types.OperationTypeStep:
		d := &types.StepDetails{Attempt: o.Attempt, Result: cloneString(o.Result), Error: cloneError(o.Error)}
		if !o.NextAttempt.IsZero() {
			t := o.NextAttempt
			d.NextAttemptTimestamp = &t
		}
		op.StepDetails = d
	case types.OperationTypeWait:
		d := &types.WaitDetails{}
		if !o.ScheduledEnd.IsZero() {
			t := o.ScheduledEnd
			d.ScheduledEndTimestamp = &t
		}
		op.WaitDetails = d
	case types.OperationTypeCallback:
		op.CallbackDetails = &types.CallbackDetails{Result: cloneString(o.Result), Error: cloneError(o.Error)}
		if o.CallbackID != "" {
			op.CallbackDetails.CallbackId = ptr(o.CallbackID)
		}
	case types.OperationTypeChainedInvoke:
		op.ChainedInvokeDetails = &types.ChainedInvokeDetails{Result: cloneString(o.Result), Error: cloneError(o.Error)}
	}
	return op
}

// An execution is one durable execution. Its fields are guarded by mu.
type execution struct {
	mu sync.Mutex
	execRecord

	ops    []*operation
	byID   map[string]*operation
	events []*types.Event

	inv      *invocation // the running invocation, nil if none
	tokenSeq int64
	token    string           // the current checkpoint token of inv
	last     *checkpointReply // idempotency cache: the last accepted checkpoint
	dirty    []*operation     // changed since the handler last saw them
	timed    []*operation     // operations with a deadline
	parked   bool             // an invocation is due but the function is not registered
	held     bool             // a chained invoke's target, not invoked before its caller's invocation ends
	children []*execution     // held targets started by the running invocation

	wake [2]wakeup // wakeProgress, wakeTimeout

	done  chan struct{} // closed when the execution reaches a terminal status
	after []func()      // run after mu is released (cross-execution effects)
	chg   change        // not yet persisted
	cm    commit        // reused by Service.commit
	cmRec execRecord
}

// execRecord is the part of an execution the stores persist, apart from its
// operations and events.
type execRecord struct {
	// Identity, fixed at creation.
	Seq           int64 // global creation order
	ARN           string
	ID            string
	Name          string
	Function      string
	Qualifier     string
	Input         string
	Timeout       int32 // DurableConfig.ExecutionTimeout, seconds
	RetentionDays int32
	TenantID      string `json:",omitempty"`
	ParentARN     string `json:",omitempty"` // chained invoke: the caller
	ParentOp      string `json:",omitempty"`
	Start         time.Time

	Status types.ExecutionStatus
	End    time.Time          `json:",omitzero"`
	Result *string            `json:",omitempty"`
	Error  *types.ErrorObject `json:",omitempty"`

	// Scheduling state.
	Invoking          bool      `json:",omitempty"` // an invocation is in flight
	InvocationID      string    `json:",omitempty"` // its request id
	InvocationStart   time.Time `json:",omitzero"`
	NeedsReinvoke     bool      `json:",omitempty"` // something completed since the running invocation started
	RetryAt           time.Time `json:",omitzero"`  // a failed invocation is retried then
	FailedInvocations int       `json:",omitempty"`
}

// checkpointReply is the cached answer to the last accepted checkpoint.
type checkpointReply struct {
	clientToken string
	token       string
	out         *lambda.CheckpointDurableExecutionOutput
}

func (e *execution) terminal() bool { return e.Status != types.ExecutionStatusRunning }

// nextToken issues the next checkpoint token of the running invocation.
func (e *execution) nextToken() {
	e.tokenSeq++
	e.token = checkpointToken(e.inv.id, e.tokenSeq)
}

// validToken reports whether tok is the current token of the running
// invocation of a running execution. Tokens name their invocation and
// sequence number, so comparing them with the one issued is enough.
func (e *execution) validToken(tok string) bool {
	return e.inv != nil && tok == e.token && !e.terminal() && !e.inv.crashed()
}

// touch marks op as changed: it goes to the handler in the next checkpoint
// delta and to the store in the next commit.
func (e *execution) touch(o *operation) {
	if !o.dirty {
		o.dirty = true
		e.dirty = append(e.dirty, o)
	}
	e.chg.op(o)
	if _, ok := o.deadline(); ok && !o.timed {
		o.timed = true
		e.timed = append(e.timed, o)
	}
}

// takeDirty returns the changed operations in start order and forgets them.
func (e *execution) takeDirty() []*operation {
	d := e.dirty
	for _, o := range d {
		o.dirty = false
	}
	e.dirty = e.dirty[:0:0]
	if len(d) > 1 {
		slices.SortFunc(d, func(a, b *operation) int { return int(a.Seq - b.Seq) })
	}
	return d
}

func (e *execution) addOp(o *operation) {
	o.Seq = int64(len(e.ops))
	if o.ParentID != "" {
		o.parent = e.byID[o.ParentID]
	}
	e.ops = append(e.ops, o)
	e.byID[o.ID] = o
}

// appendEvent records ev with the next EventId.
func (e *execution) appendEvent(ev *types.Event) {
	id := int32(len(e.events) + 1)
	ev.EventId = &id
	e.events = append(e.events, ev)
	e.chg.event(ev)
}

// defer runs f once the execution's lock is released.
func (e *execution) defer_(f func()) { e.after = append(e.after, f) }

// invocation is one call of the handler.
type invocation struct {
	id      string // the Lambda request id
	start   time.Time
	timeout time.Duration
	ctx     context.Context
	cancel  context.CancelFunc
	crash   chan struct{} // closed by Crash
	once    sync.Once
}

// crashed reports whether Crash was called during the invocation.
func (inv *invocation) crashed() bool {
	select {
	case <-inv.crash:
		return true
	default:
		return false
	}
}

func ptr[T any](v T) *T { return &v }

// cloneString returns a new pointer to a copy of *p, or nil.
func cloneString(p *string) *string {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// cloneError returns a deep copy of e, or nil.
func cloneError(e *types.ErrorObject) *types.ErrorObject {
	if e == nil {
		return nil
	}
	return &types.ErrorObject{
		ErrorData:    cloneString(e.ErrorData),
		ErrorMessage: cloneString(e.ErrorMessage),
		ErrorType:    cloneString(e.ErrorType),
		StackTrace:   slices.Clone(e.StackTrace),
	}
}
