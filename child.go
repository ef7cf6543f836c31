package durable

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/checkpointer"
	"github.com/durablectx/durable/ctxstate"
)

// ChildOption configures [Child].
type ChildOption interface{ applyChild(*childConfig) }

type childConfig struct {
	serdes  Serdes
	subType string
	// summary replaces a result too large to record (over [ChildResultLimit]);
	// nil records "" and rebuilds the result by replaying the children.
	summary func(result any) string
	// lazy queues the SUCCEED or FAIL without awaiting it: the outcome is
	// rebuilt from the children if it is lost, and leaves with the next
	// call (Go, Map and Parallel branches, Retry attempts).
	lazy bool
	// virtual runs the function without a CONTEXT operation of its own.
	virtual bool
}

type childOptionFunc func(*childConfig)

func (f childOptionFunc) applyChild(c *childConfig) { f(c) }

// Virtual makes [Child] a virtual context: a named group for tracing and
// hooks that records no CONTEXT operation. The operations inside are
// recorded under the enclosing context (their ParentId is the caller's),
// numbered under the virtual context's position so their ids stay
// deterministic; the result is not recorded, so replay runs fn again and its
// operations return their recorded results. Use it to structure code
// without adding to the history.
func Virtual() ChildOption {
	return childOptionFunc(func(c *childConfig) { c.virtual = true })
}

// ChildResultLimit is the largest child-context result recorded as it is
// (256 KiB). A larger result is not recorded: the context is marked
// ReplayChildren and replay runs its function again, rebuilding the result
// from the recorded results of the operations inside it.
const ChildResultLimit = 256 * 1024

// ChildError is the error of a child context whose function failed. It
// records the function's error like a [*StepError]; Unwrap returns the
// function's error on the invocation that ran it, or an error rebuilt from
// the record when its type was registered with [RegisterError].
type ChildError struct {
	Name        string
	OperationID string
	RecordedError
	cause error
}

func (e *ChildError) Error() string {
	return fmt.Sprintf("durable: child context %q failed: %s", e.Name, e.ErrorMessage)
}

// Unwrap returns the function's error, when it is known.
func (e *ChildError) Unwrap() error { return e.cause }

// Child runs fn in a child context: its durable operations are grouped under
// one CONTEXT operation, and once fn has returned, later invocations return
// the recorded result without running fn or replaying its operations. Use
// it to give a part of a workflow a name, to group the operations of a
// helper, or to make a group of operations one unit for [Retry].
//
// An empty name is replaced by the name of fn's Go function, so the history
// always names the context.
func Child[T any](ctx context.Context, name string, fn func(ctx context.Context) (T, error), opts ...ChildOption) (T, error) {
	var zero T
	op, cfg, err := beginChild(ctx, "child context", name, fn, opts)
	if err != nil {
		return zero, err
	}
	defer op.End()
	if cfg.virtual && op.Recorded == nil {
		return runVirtual(ctx, op, fn)
	}
	return runChild(ctx, op, cfg, fn)
}

// beginChild claims the CONTEXT operation of a child context (Child,
// Retry): options applied, the name defaulted to fn's and validated.
func beginChild(ctx context.Context, what, name string, fn any, opts []ChildOption) (*ctxstate.Op, *childConfig, error) {
	f, err := frameOf(ctx)
	if err != nil {
		return nil, nil, err
	}
	cfg := &childConfig{serdes: JSON, subType: "RunInChildContext"}
	for _, o := range opts {
		o.applyChild(cfg)
	}
	if name == "" {
		name = funcName(fn)
	}
	if err := validateName(what, name); err != nil {
		return nil, nil, err
	}
	op, err := f.Begin(types.OperationTypeContext, cfg.subType, name)
	if err != nil {
		return nil, nil, err
	}
	return op, cfg, nil
}

// runVirtual runs fn in a frame numbered under op that records its
// operations under op's own parent; nothing is checkpointed for op itself.
func runVirtual[T any](ctx context.Context, op *ctxstate.Op, fn func(context.Context) (T, error)) (T, error) {
	exec := op.Frame.Execution()
	startHook(exec, op, false)
	v, err := fn(ctxstate.NewContext(ctx, op.Frame.Virtual(op, op.ParentID)))
	status := types.OperationStatusSucceeded
	if err != nil {
		status = types.OperationStatusFailed
	}
	if !errors.Is(err, ErrSuspended) {
		endHook(exec, op, status, 0, false, err)
	}
	return v, err
}

// runChild runs the context operation op, claimed by the caller.
func runChild[T any](ctx context.Context, op *ctxstate.Op, cfg *childConfig, fn func(context.Context) (T, error)) (T, error) {
	var zero T
	exec := op.Frame.Execution()
	child := op.Frame.Child(op)
	cctx := ctxstate.NewContext(ctx, child)
	if rec := op.Recorded; rec != nil {
		startHook(exec, op, true)
		switch rec.Status {
		case types.OperationStatusSucceeded:
			if d := rec.ContextDetails; d != nil && d.ReplayChildren != nil && *d.ReplayChildren {
				// The result was too large to record: rebuild it from the children.
				v, err := callFunction(cctx, exec, op, true, fn)
				endHook(exec, op, rec.Status, 0, true, err)
				return v, err
			}
			var data string
			if rec.ContextDetails != nil {
				data = deref(rec.ContextDetails.Result)
			}
			v, err := decode[T](cfg.serdes, "child context", op.Name, data)
			endHook(exec, op, rec.Status, 0, true, err)
			return v, err
		case types.OperationStatusFailed, types.OperationStatusCancelled, types.OperationStatusTimedOut, types.OperationStatusStopped:
			var obj *types.ErrorObject
			if rec.ContextDetails != nil {
				obj = rec.ContextDetails.Error
			}
			err := childErrorFrom(obj, op, nil)
			endHook(exec, op, rec.Status, 0, true, err)
			return zero, err
		}
		// STARTED: an earlier invocation began it; carry on inside.
	} else {
		startHook(exec, op, false)
		exec.Checkpoint(update(op, types.OperationActionStart))
	}

	v, err := callFunction(cctx, exec, op, op.Recorded != nil, fn)
	if err != nil {
		if errors.Is(err, ErrSuspended) || (exec.Suspended() && ctx.Err() != nil) || exec.Fatal() != nil {
			return zero, err
		}
		obj := errorObjectFor(err)
		u := update(op, types.OperationActionFail)
		u.Error = &obj
		if cfg.lazy {
			exec.Checkpoint(u)
		} else if err := exec.CheckpointSync(u); err != nil {
			return zero, err
		}
		cerr := childErrorFrom(&obj, op, err)
		endHook(exec, op, types.OperationStatusFailed, 0, false, cerr)
		return zero, cerr
	}
	payload, err := cfg.serdes.Serialize(v)
	if err != nil {
		return zero, fmt.Errorf("durable: cannot serialize the result of child context %q: %w", op.Name, err)
	}
	u := update(op, types.OperationActionSucceed)
	if len(payload) > ChildResultLimit {
		summary := ""
		if cfg.summary != nil {
			summary = cfg.summary(v)
		}
		u.Payload = &summary
		u.ContextOptions = &types.ContextOptions{ReplayChildren: boolptr(true)}
	} else {
		u.Payload = &payload
	}
	t := exec.Checkpoint(u)
	if exec.Mode() == checkpointer.Sync && !cfg.lazy {
		if err := exec.Await(t); err != nil {
			return zero, err
		}
	}
	if len(payload) > ChildResultLimit {
		endHook(exec, op, types.OperationStatusSucceeded, 0, false, nil)
		return v, nil
	}
	out, err := decode[T](cfg.serdes, "child context", op.Name, payload)
	endHook(exec, op, types.OperationStatusSucceeded, 0, false, err)
	return out, err
}

func childErrorFrom(obj *types.ErrorObject, op *ctxstate.Op, cause error) *ChildError {
	e := &ChildError{Name: op.Name, OperationID: op.ID, RecordedError: recordedFrom(obj), cause: cause}
	if e.cause == nil {
		e.cause = rebuildError(e.ErrorType, e.ErrorData)
	}
	return e
}

func startHook(exec *ctxstate.Execution, op *ctxstate.Op, replaying bool) {
	if h := exec.Hooks(); h != nil && h.OperationStart != nil {
		h.OperationStart(opInfo(exec, op, replaying, 0))
	}
}

// callFunction runs the function of the context operation op between the
// FunctionStart and FunctionEnd hooks.
func callFunction[T any](ctx context.Context, exec *ctxstate.Execution, op *ctxstate.Op, replaying bool, fn func(context.Context) (T, error)) (T, error) {
	h := exec.Hooks()
	if h == nil || (h.FunctionStart == nil && h.FunctionEnd == nil) {
		return fn(ctx)
	}
	if h.FunctionStart != nil {
		h.FunctionStart(opInfo(exec, op, replaying, 0))
	}
	v, err := fn(ctx)
	if h.FunctionEnd != nil {
		info := opInfo(exec, op, replaying, 0)
		info.End = exec.Now()
		info.Err = err
		h.FunctionEnd(info)
	}
	return v, err
}

// funcName names a function after its Go symbol, without the package path:
// "orders.reserve", "main.handler.func1".
func funcName(fn any) string {
	f := runtime.FuncForPC(reflect.ValueOf(fn).Pointer())
	if f == nil {
		return "child"
	}
	name := f.Name()
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return name
}

func boolptr(b bool) *bool { return &b }
