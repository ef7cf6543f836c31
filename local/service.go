package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	lambdaapi "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/google/uuid"
)

// Service is the embedded durable execution service. Create it with [New],
// register functions, start executions with [Service.Start] or through the
// Invoke API, and [Service.Close] it when done. All methods are safe for
// concurrent use.
type Service struct {
	cfg    config
	clock  Clock
	vclock *VirtualClock // nil with a real clock
	store  Store
	log    *slog.Logger
	client *Client

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // invocation goroutines

	// mu guards the indexes below. It is a leaf lock: never lock an
	// execution while holding it.
	mu        sync.RWMutex
	functions map[string]*function
	execs     map[string]*execution // by ARN
	byID      map[string]*execution // by execution id (the ARN's last segment)
	byName    map[nameKey]*execution
	parked    map[string][]*execution // by function: invocations due, function unknown
	nextSeq   int64
	closed    bool
	servers   []*http.Server
	endpoint  string

	idleMu sync.Mutex
	busy   int
	idleCh chan struct{} // closed when busy drops to 0

	closeOnce sync.Once
	closeErr  error
	bg        sync.WaitGroup // background loops (auto-advance, retention)
}

type nameKey struct{ function, name string }

// function is a registered function.
type function struct {
	name    string
	handler lambda.Handler
	cfg     functionConfig
	closer  io.Closer // binaries: stops the process
}

// New returns a service configured by opts. With [WithDatabase] or a
// [WithStore] that holds executions, it resumes the running executions it
// finds: their timers are re-armed, and those that were being invoked when
// the previous service stopped are invoked again (recorded as a failed
// invocation, "Runtime.ExitError") as soon as their function is registered.
func New(opts ...Option) (*Service, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	s := &Service{
		cfg:       cfg,
		functions: map[string]*function{},
		execs:     map[string]*execution{},
		byID:      map[string]*execution{},
		byName:    map[nameKey]*execution{},
		parked:    map[string][]*execution{},
		idleCh:    make(chan struct{}),
	}
	s.log = cfg.logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.clock = cfg.clock
	if s.clock == nil {
		if cfg.autoAdvance {
			s.clock = NewVirtualClock(time.Now().UTC().Truncate(time.Millisecond))
		} else {
			s.clock = RealClock()
		}
	}
	s.vclock, _ = s.clock.(*VirtualClock)
	switch {
	case cfg.store != nil:
		s.store = cfg.store
	case cfg.path != "":
		st, err := OpenSQLite(cfg.path)
		if err != nil {
			return nil, err
		}
		s.store = st
	default:
		s.store = NewMemoryStore()
	}
	s.client = &Client{s: s}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.resume(); err != nil {
		s.cancel()
		_ = s.store.Close()
		return nil, err
	}
	if cfg.autoAdvance && s.vclock != nil {
		s.bg.Add(1)
		go s.autoAdvance()
	}
	if s.vclock == nil {
		s.bg.Add(1)
		go s.retentionLoop()
	}
	return s, nil
}

// Clock returns the service's clock.
func (s *Service) Clock() Clock { return s.clock }

// API returns the in-process client of the service. Its methods have the
// signatures of [*lambdaapi.Client], so it satisfies checkpointer.API and can
// stand in for a Lambda client in tests, without HTTP or JSON.
func (s *Service) API() *Client { return s.client }

// now is the service time, to the millisecond (the envelope's precision).
func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Millisecond) }

// Register makes h the handler of the durable function name, replacing any
// previous handler of that name (executions in progress continue with the
// new one, like a deployment of $LATEST). The service invokes h with the
// invocation input of protocol.md §1.1 and a context carrying a
// [lambdacontext.LambdaContext] and the function timeout as deadline.
// Register panics if name is not a valid function name (1..64 of
// [a-zA-Z0-9-_]) or h is nil.
func (s *Service) Register(name string, h lambda.Handler, opts ...FunctionOption) {
	if !validFunctionName(name) {
		panic(fmt.Sprintf("durable: invalid function name %q: use 1 to 64 characters of [a-zA-Z0-9-_]", name))
	}
	if h == nil {
		panic("durable: Register with a nil handler")
	}
	s.register(&function{name: name, handler: h, cfg: s.functionConfig(opts)})
}

func (s *Service) functionConfig(opts []FunctionOption) functionConfig {
	cfg := s.cfg.functionDefault
	for _, o := range opts {
		o.applyFunction(&cfg)
	}
	if cfg.executionTimeout <= 0 || cfg.executionTimeout > DefaultExecutionTimeout {
		cfg.executionTimeout = DefaultExecutionTimeout
	}
	if cfg.retentionDays < 1 || cfg.retentionDays > 90 {
		cfg.retentionDays = DefaultRetentionPeriodInDays
	}
	if cfg.timeout <= 0 {
		cfg.timeout = DefaultFunctionTimeout
	}
	return cfg
}

func (s *Service) register(f *function) {
	s.mu.Lock()
	old := s.functions[f.name]
	s.functions[f.name] = f
	parked := s.parked[f.name]
	delete(s.parked, f.name)
	s.mu.Unlock()
	if old != nil && old.closer != nil && old != f {
		_ = old.closer.Close()
	}
	for _, e := range parked {
		e.mu.Lock()
		if e.parked {
			e.parked = false
			e.NeedsReinvoke = false
			s.trigger(e)
		}
		_ = s.unlock(e)
	}
}

// function returns the registered function name, or nil.
func (s *Service) function(name string) *function {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.functions[name]
}

// park remembers that e waits for its function. e.mu must be held.
func (s *Service) park(e *execution) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.functions[e.Function]; f != nil {
		// Registered meanwhile: invoke now.
		e.parked = false
		e.defer_(func() {
			e.mu.Lock()
			e.NeedsReinvoke = false
			s.trigger(e)
			_ = s.unlock(e)
		})
		return
	}
	s.parked[e.Function] = append(s.parked[e.Function], e)
}

// lookup finds an execution by ARN.
func (s *Service) lookup(arn string) (*execution, error) {
	s.mu.RLock()
	e := s.execs[arn]
	closed := s.closed
	s.mu.RUnlock()
	switch {
	case closed:
		return nil, serviceError(msgServiceClosed)
	case e != nil:
		return e, nil
	}
	if _, _, _, _, ok := parseExecutionARN(arn); !ok || len(arn) > 1024 {
		return nil, invalidParam("Invalid DurableExecutionArn: %q is not a durable execution ARN.", arn)
	}
	return nil, notFound("Execution not found: %s", arn)
}

// createExecution creates and starts an execution of fn. parentARN and
// parentOp name the CHAINED_INVOKE that started it, if any; such an
// execution is created held: its first invocation waits for releaseChild.
// It returns the existing execution for a repeated name with the same input.
func (s *Service) createExecution(fn, qualifier string, payload []byte, sc startConfig, parentARN, parentOp string) (*execution, error) {
	f := s.function(fn)
	if f == nil {
		return nil, notFound("Function not found: %s", s.functionARN(fn))
	}
	if qualifier == "" {
		qualifier = latestVersion
	}
	now := s.now()
	id := uuid.NewString()
	name := sc.name
	if name == "" {
		name = id
	}
	e := &execution{
		byID: map[string]*operation{},
		done: make(chan struct{}),
	}
	e.execRecord = execRecord{
		ARN:           s.executionARN(fn, qualifier, name, id),
		ID:            id,
		Name:          name,
		Function:      fn,
		Qualifier:     qualifier,
		Input:         string(payload),
		Timeout:       int32((f.cfg.executionTimeout + time.Second - 1) / time.Second),
		RetentionDays: int32(f.cfg.retentionDays),
		TenantID:      sc.tenantID,
		ParentARN:     parentARN,
		ParentOp:      parentOp,
		Start:         now,
		Status:        types.ExecutionStatusRunning,
	}
	input := e.Input
	e.addOp(&operation{ID: id, Name: name, Type: types.OperationTypeExecution, Status: types.OperationStatusStarted, Start: now, Input: &input})
	e.touch(e.ops[0])
	ev := e.executionEvent(types.EventTypeExecutionStarted, now)
	ev.ExecutionStartedDetails = &types.ExecutionStartedDetails{Input: eventInput(&input), ExecutionTimeout: ptr(e.Timeout)}
	e.chg.exec = true

	e.mu.Lock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		e.mu.Unlock()
		return nil, serviceError(msgServiceClosed)
	}
	if sc.name != "" {
		if old := s.byName[nameKey{fn, sc.name}]; old != nil {
			s.mu.Unlock()
			e.mu.Unlock()
			old.mu.Lock()
			same := old.Input == string(payload)
			old.mu.Unlock()
			if !same {
				return nil, alreadyStarted("Durable execution with name %s already exists with a different input.", sc.name)
			}
			return old, nil
		}
		s.byName[nameKey{fn, sc.name}] = e
	}
	s.nextSeq++
	e.Seq = s.nextSeq
	s.execs[e.ARN] = e
	s.byID[e.ID] = e
	s.mu.Unlock()

	if parentARN != "" {
		e.held = true
		e.NeedsReinvoke = true // so that a restarted service invokes it
	} else {
		s.trigger(e)
	}
	s.rearm(e, now)
	if err := s.unlock(e); err != nil {
		return nil, err
	}
	return e, nil
}

// Start starts an execution of the registered function with payload (JSON;
// empty means {}) as its input and returns its ARN. It does not wait: see
// [Service.Wait] and [Service.RunUntilTerminal].
func (s *Service) Start(ctx context.Context, function string, payload []byte, opts ...StartOption) (string, error) {
	var sc startConfig
	for _, o := range opts {
		o.applyStart(&sc)
	}
	e, err := s.start(ctx, function, sc, payload, maxPayload)
	if err != nil {
		return "", err
	}
	return e.ARN, nil
}

// start validates a start request (Start and Invoke).
func (s *Service) start(_ context.Context, function string, sc startConfig, payload []byte, limit int) (*execution, error) {
	fn, qualifier, ok := parseFunctionName(function)
	if !ok {
		return nil, invalidParam("Invalid function name: %q.", function)
	}
	if sc.qualifier != "" {
		if !validQualifier(sc.qualifier) {
			return nil, invalidParam("Invalid qualifier: %q.", sc.qualifier)
		}
		qualifier = sc.qualifier
	}
	if sc.name != "" && !validExecutionName(sc.name) {
		return nil, invalidParam("Invalid durable execution name %q: use 1 to 64 characters of [a-zA-Z0-9-_].", sc.name)
	}
	if sc.tenantID != "" && len(sc.tenantID) > 256 {
		return nil, invalidParam("TenantId must be 1 to 256 characters.")
	}
	if len(payload) > limit {
		return nil, tooLarge("Request must be smaller than %d bytes for the invoke operation.", limit)
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	} else if !json.Valid(payload) {
		return nil, invalidContent("Could not parse request body into json: the payload is not valid JSON.")
	}
	return s.createExecution(fn, qualifier, payload, sc, "", "")
}

// Wait blocks until the execution arn is terminal (or ctx is done) and
// returns it as GetDurableExecution does. It does not move a virtual clock:
// use it with a real clock or [WithAutoAdvance], else see
// [Service.RunUntilTerminal].
func (s *Service) Wait(ctx context.Context, arn string) (*lambdaapi.GetDurableExecutionOutput, error) {
	e, err := s.lookup(arn)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.describe(e, true), nil
}

// WaitIdle blocks until no invocation is running or queued, or ctx is done.
func (s *Service) WaitIdle(ctx context.Context) error {
	for {
		s.idleMu.Lock()
		if s.busy == 0 {
			s.idleMu.Unlock()
			return nil
		}
		ch := s.idleCh
		s.idleMu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ErrNoTimer is returned by [Service.AdvanceToNextTimer] and
// [Service.RunUntilTerminal] when time cannot move because no timer is armed.
var ErrNoTimer = errors.New("durable: no timer is pending on the virtual clock")

// ErrRealClock is returned by the methods that move a virtual clock when the
// service runs on a real one.
var ErrRealClock = errors.New("durable: the service does not run on a VirtualClock")

// AdvanceToNextTimer waits until the service is idle, then moves its virtual
// clock to the earliest pending timer and fires every timer due at that
// instant (which may start invocations). It returns the new time. It fails
// with [ErrNoTimer] if no timer is pending and [ErrRealClock] without a
// virtual clock.
func (s *Service) AdvanceToNextTimer(ctx context.Context) (time.Time, error) {
	if s.vclock == nil {
		return time.Time{}, ErrRealClock
	}
	for {
		if err := s.WaitIdle(ctx); err != nil {
			return time.Time{}, err
		}
		if s.vclock.Pending() == 0 {
			return time.Time{}, ErrNoTimer
		}
		if t, ok := s.vclock.advanceToNextIf(s.isIdle, false); ok {
			return t, nil
		}
	}
}

// RunUntilTerminal drives the execution arn to a terminal status and returns
// it: it waits for invocations to end and, on a virtual clock, moves time to
// the next timer of any kind whenever the service is idle, as the
// conformance runner's synchronous flow does. An execution waiting for a
// callback nobody sends thus runs into its callback's or its own timeout.
// With a real clock it is [Service.Wait].
func (s *Service) RunUntilTerminal(ctx context.Context, arn string) (*lambdaapi.GetDurableExecutionOutput, error) {
	e, err := s.lookup(arn)
	if err != nil {
		return nil, err
	}
	if s.vclock == nil {
		return s.Wait(ctx, arn)
	}
	for {
		if err := s.WaitIdle(ctx); err != nil {
			return nil, err
		}
		select {
		case <-e.done:
			return s.describe(e, true), nil
		default:
		}
		if _, err := s.AdvanceToNextTimer(ctx); err != nil {
			select {
			case <-e.done:
				return s.describe(e, true), nil
			default:
			}
			return nil, fmt.Errorf("durable: execution %s cannot progress: %w", arn, err)
		}
	}
}

// autoAdvance moves the virtual clock whenever the service is idle.
func (s *Service) autoAdvance() {
	defer s.bg.Done()
	for {
		if err := s.WaitIdle(s.ctx); err != nil {
			return
		}
		armed := s.vclock.armedChan()
		if _, ok := s.vclock.advanceToNextIf(s.isIdle, true); ok {
			continue
		}
		s.idleMu.Lock()
		busyCh := s.idleCh
		busy := s.busy > 0
		s.idleMu.Unlock()
		if busy {
			continue
		}
		select {
		case <-armed:
		case <-busyCh:
		case <-s.ctx.Done():
			return
		}
	}
}

// Close stops the service: it stops serving HTTP, abandons running
// invocations (the next service on the same store resumes them), stops the
// functions' processes and closes the store.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		servers := s.servers
		s.mu.Unlock()
		for _, srv := range servers {
			_ = srv.Close()
		}
		s.cancel()
		s.wg.Wait()
		s.bg.Wait()
		var errs []error
		s.mu.Lock()
		for _, f := range s.functions {
			if f.closer != nil {
				errs = append(errs, f.closer.Close())
			}
		}
		execs := make([]*execution, 0, len(s.execs))
		for _, e := range s.execs {
			execs = append(execs, e)
		}
		s.mu.Unlock()
		for _, e := range execs {
			e.mu.Lock()
			e.wake[wakeProgress].stop()
			e.wake[wakeTimeout].stop()
			_ = s.commit(e)
			e.mu.Unlock()
		}
		errs = append(errs, s.store.Close())
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// resume loads the store and restarts what was running.
func (s *Service) resume() error {
	stored, err := s.store.load()
	if err != nil {
		return fmt.Errorf("durable: load store: %w", err)
	}
	now := s.now()
	for _, se := range stored {
		e := &execution{execRecord: se.rec, byID: map[string]*operation{}, done: make(chan struct{}), events: se.events}
		for i := range se.ops {
			o := se.ops[i]
			o.dirty, o.timed, o.inChg, o.parent = false, false, false, nil
			op := &o
			if op.ParentID != "" {
				op.parent = e.byID[op.ParentID]
			}
			e.ops = append(e.ops, op)
			e.byID[op.ID] = op
			if _, ok := op.deadline(); ok {
				op.timed = true
				e.timed = append(e.timed, op)
			}
		}
		if len(e.ops) == 0 || e.ops[0].Type != types.OperationTypeExecution {
			return fmt.Errorf("durable: load store: execution %s has no EXECUTION operation", e.ARN)
		}
		if e.terminal() {
			close(e.done)
		}
		s.execs[e.ARN] = e
		s.byID[e.ID] = e
		if e.Name != e.ID {
			s.byName[nameKey{e.Function, e.Name}] = e
		}
		if e.Seq > s.nextSeq {
			s.nextSeq = e.Seq
		}
	}
	for _, se := range stored {
		e := s.execs[se.rec.ARN]
		e.mu.Lock()
		if !e.terminal() {
			if e.Invoking {
				// The previous service stopped during an invocation.
				e.Invoking = false
				start := e.InvocationStart
				if start.IsZero() {
					start = now
				}
				failure := &types.ErrorObject{
					ErrorType:    ptr("Runtime.ExitError"),
					ErrorMessage: ptr("RequestId: " + e.InvocationID + " Error: the local durable service stopped during the invocation"),
				}
				ev := e.executionEvent(types.EventTypeInvocationCompleted, now)
				ev.Id, ev.Name = nil, nil
				ev.InvocationCompletedDetails = &types.InvocationCompletedDetails{
					StartTimestamp: ptr(start), EndTimestamp: ptr(now), RequestId: ptr(e.InvocationID), Error: eventError(failure),
				}
				e.InvocationID, e.InvocationStart = "", time.Time{}
				e.FailedInvocations++
				if e.FailedInvocations >= s.cfg.maxFailures {
					s.complete(e, now, types.ExecutionStatusFailed, nil, failure)
				} else {
					e.NeedsReinvoke = true
				}
			}
			if e.NeedsReinvoke {
				e.NeedsReinvoke = false
				s.trigger(e)
			}
			s.process(e, now)
			s.rearm(e, now)
		}
		err := s.unlock(e)
		if err != nil {
			return err
		}
	}
	return nil
}

// retentionLoop deletes finished executions whose retention period expired,
// checking once a minute. It runs on a real clock only: on a virtual clock,
// which tests move by days at a time, deleting executions would only
// surprise.
func (s *Service) retentionLoop() {
	defer s.bg.Done()
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		s.expire()
		select {
		case <-t.C:
		case <-s.ctx.Done():
			return
		}
	}
}

func (s *Service) expire() {
	now := s.now()
	s.mu.RLock()
	var candidates []*execution
	for _, e := range s.execs {
		candidates = append(candidates, e)
	}
	s.mu.RUnlock()
	for _, e := range candidates {
		e.mu.Lock()
		expired := e.terminal() && !e.End.IsZero() && now.After(e.End.AddDate(0, 0, int(e.RetentionDays)))
		if expired {
			e.chg = change{deleted: true}
			_ = s.commit(e)
		}
		e.mu.Unlock()
		if expired {
			s.mu.Lock()
			delete(s.execs, e.ARN)
			delete(s.byID, e.ID)
			if s.byName[nameKey{e.Function, e.Name}] == e {
				delete(s.byName, nameKey{e.Function, e.Name})
			}
			s.mu.Unlock()
		}
	}
}
