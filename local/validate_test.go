package local

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// TestValidation checks the checkpoint validators of protocol.md §3.3: each
// batch is refused whole, with InvalidParameterValueException and the
// message of the official emulators, and the token is not consumed.
func TestValidation(t *testing.T) {
	ctxOp := func(id string, a types.OperationAction) types.OperationUpdate {
		u := update(id, types.OperationTypeContext, a)
		u.SubType = aws.String("RunInChildContext")
		return u
	}
	withParent := func(u types.OperationUpdate, parent string) types.OperationUpdate {
		u.ParentId = aws.String(parent)
		return u
	}
	retry := func(id string, opts *types.StepOptions) types.OperationUpdate {
		u := update(id, types.OperationTypeStep, types.OperationActionRetry)
		u.StepOptions = opts
		return u
	}
	execution := func(a types.OperationAction) types.OperationUpdate {
		return update("execution-result-1", types.OperationTypeExecution, a)
	}
	cases := []struct {
		name    string
		setup   []types.OperationUpdate // applied first, must succeed
		updates []types.OperationUpdate
		msg     string
	}{
		{"bad id", nil, []types.OperationUpdate{update("a b", types.OperationTypeStep, types.OperationActionStart)}, "Invalid operation id"},
		{"long id", nil, []types.OperationUpdate{update(strings.Repeat("a", 65), types.OperationTypeStep, types.OperationActionStart)}, "Invalid operation id"},
		{"bad type", nil, []types.OperationUpdate{update("a", "THING", types.OperationActionStart)}, "Invalid operation type"},
		{"bad action", nil, []types.OperationUpdate{update("a", types.OperationTypeStep, "JUMP")}, "Invalid action"},
		{"wait succeed", nil, []types.OperationUpdate{update("w", types.OperationTypeWait, types.OperationActionSucceed)}, "Invalid action for the given operation type."},
		{"callback cancel", nil, []types.OperationUpdate{update("c", types.OperationTypeCallback, types.OperationActionCancel)}, "Invalid action for the given operation type."},
		{"execution start", nil, []types.OperationUpdate{execution(types.OperationActionStart)}, "Invalid action for the given operation type."},
		{"bad name", nil, []types.OperationUpdate{func() types.OperationUpdate {
			u := stepStart("s", "")
			u.Name = aws.String("tab\there")
			return u
		}()}, "Invalid operation name"},
		{"bad subtype", nil, []types.OperationUpdate{func() types.OperationUpdate {
			u := stepStart("s", "")
			u.SubType = aws.String(strings.Repeat("x", 33))
			return u
		}()}, "Invalid operation subtype"},
		{"step started twice", []types.OperationUpdate{stepStart("s", "")}, []types.OperationUpdate{stepStart("s", "")}, "Invalid current STEP state to start."},
		{"step closed twice", []types.OperationUpdate{stepStart("s", ""), stepSucceed("s", "1")}, []types.OperationUpdate{stepSucceed("s", "1")}, "Invalid current STEP state to close."},
		{"fail with payload", nil, []types.OperationUpdate{func() types.OperationUpdate {
			u := update("s", types.OperationTypeStep, types.OperationActionFail)
			u.Payload = aws.String("1")
			return u
		}()}, "Cannot provide a Payload for FAIL action."},
		{"succeed with error", nil, []types.OperationUpdate{func() types.OperationUpdate {
			u := stepSucceed("s", "1")
			u.Payload = nil
			u.Error = &types.ErrorObject{}
			return u
		}()}, "Cannot provide an Error for SUCCEED action."},
		{"retry without options", []types.OperationUpdate{stepStart("s", "")}, []types.OperationUpdate{retry("s", nil)}, "Invalid StepOptions for the given action."},
		{"retry zero delay", []types.OperationUpdate{stepStart("s", "")}, []types.OperationUpdate{retry("s", &types.StepOptions{NextAttemptDelaySeconds: aws.Int32(0)})}, "NextAttemptDelaySeconds"},
		{"context started twice", []types.OperationUpdate{ctxOp("c", types.OperationActionStart)}, []types.OperationUpdate{ctxOp("c", types.OperationActionStart)}, "Cannot start a CONTEXT that already exist."},
		{"context closed twice", []types.OperationUpdate{ctxOp("c", types.OperationActionStart), ctxOp("c", types.OperationActionSucceed)},
			[]types.OperationUpdate{ctxOp("c", types.OperationActionFail)}, "Invalid current CONTEXT state to close."},
		{"wait without options", nil, []types.OperationUpdate{update("w", types.OperationTypeWait, types.OperationActionStart)}, "Invalid WaitOptions for the given action."},
		{"wait zero", nil, []types.OperationUpdate{waitStart("w", 0)}, "WaitSeconds must be between"},
		{"wait started twice", []types.OperationUpdate{waitStart("w", 5)}, []types.OperationUpdate{waitStart("w", 5)}, "Cannot start a WAIT that already exist."},
		{"cancel unknown wait", nil, []types.OperationUpdate{update("w", types.OperationTypeWait, types.OperationActionCancel)}, "Invalid current WAIT state to cancel."},
		{"callback started twice", []types.OperationUpdate{update("c", types.OperationTypeCallback, types.OperationActionStart)},
			[]types.OperationUpdate{update("c", types.OperationTypeCallback, types.OperationActionStart)}, "Cannot start a CALLBACK that already exist."},
		{"negative callback timeout", nil, []types.OperationUpdate{func() types.OperationUpdate {
			u := update("c", types.OperationTypeCallback, types.OperationActionStart)
			u.CallbackOptions = &types.CallbackOptions{TimeoutSeconds: -1}
			return u
		}()}, "Invalid CallbackOptions"},
		{"invoke without function", nil, []types.OperationUpdate{update("i", types.OperationTypeChainedInvoke, types.OperationActionStart)}, "Invalid ChainedInvokeOptions"},
		{"cancel unknown invoke", nil, []types.OperationUpdate{update("i", types.OperationTypeChainedInvoke, types.OperationActionCancel)}, "Invalid current CHAINED_INVOKE state to cancel."},
		{"two executions", nil, []types.OperationUpdate{execution(types.OperationActionSucceed), execution(types.OperationActionFail)}, "Cannot checkpoint multiple EXECUTION updates."},
		{"execution not last", nil, []types.OperationUpdate{execution(types.OperationActionSucceed), stepStart("s", "")}, "EXECUTION checkpoint must be the last update."},
		{"execution fail with payload", nil, []types.OperationUpdate{func() types.OperationUpdate {
			u := execution(types.OperationActionFail)
			u.Payload = aws.String("x")
			return u
		}()}, "Cannot provide a Payload for FAIL action."},
		{"same id twice", nil, []types.OperationUpdate{waitStart("w", 1), update("w", types.OperationTypeWait, types.OperationActionCancel)}, "Cannot checkpoint multiple operations with the same ID."},
		{"step start twice in batch", nil, []types.OperationUpdate{stepStart("s", ""), stepStart("s", "")}, "Cannot checkpoint multiple operations with the same ID."},
		{"three updates of one step", nil, []types.OperationUpdate{stepStart("s", ""), stepSucceed("s", "1"), stepSucceed("s", "1")}, "Cannot checkpoint multiple operations with the same ID."},
		{"unknown parent", nil, []types.OperationUpdate{withParent(stepStart("s", ""), "nope")}, "Invalid parent operation id."},
		{"parent not a context", []types.OperationUpdate{stepStart("p", "")}, []types.OperationUpdate{withParent(stepStart("s", ""), "p")}, "Invalid parent operation id."},
		{"type changed", []types.OperationUpdate{stepStart("s", "")}, []types.OperationUpdate{update("s", types.OperationTypeWait, types.OperationActionCancel)}, "Inconsistent operation type."},
		{"name changed", []types.OperationUpdate{stepStart("s", "a")}, []types.OperationUpdate{func() types.OperationUpdate {
			u := stepSucceed("s", "1")
			u.Name = aws.String("b")
			return u
		}()}, "Inconsistent operation name."},
		{"subtype changed", []types.OperationUpdate{stepStart("s", "")}, []types.OperationUpdate{func() types.OperationUpdate {
			u := stepSucceed("s", "1")
			u.SubType = aws.String("WaitForCondition")
			return u
		}()}, "Inconsistent operation subtype."},
		{"payload too large", nil, []types.OperationUpdate{stepSucceed("s", strings.Repeat("x", maxPayload+1))}, "exceeds the limit"},
		{"error too large", nil, []types.OperationUpdate{func() types.OperationUpdate {
			u := update("s", types.OperationTypeStep, types.OperationActionFail)
			u.Error = &types.ErrorObject{ErrorMessage: aws.String(strings.Repeat("x", maxErrorBytes+1))}
			return u
		}()}, "Error object size"},
	}
	s, _ := newTestService(t)
	ctx := testContext(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{})
			s.Register("v", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
				defer close(done)
				if len(tc.setup) > 0 {
					cp.must(ctx, tc.setup...)
				}
				before := cp.token
				_, err := cp.send(ctx, tc.updates...)
				var ae smithy.APIError
				if !asAPI(err, &ae) || ae.ErrorCode() != codeInvalidParameter || !strings.Contains(ae.ErrorMessage(), tc.msg) {
					t.Errorf("got %v, want InvalidParameterValueException %q", err, tc.msg)
				}
				// Nothing was applied and the token still works.
				out := cp.must(ctx)
				if len(out.NewExecutionState.Operations) != 0 {
					t.Errorf("refused batch changed %d operations", len(out.NewExecutionState.Operations))
				}
				if before == cp.token {
					t.Error("token not rotated by the empty checkpoint")
				}
				return succeeded("1")
			}))
			arn, err := s.Start(ctx, "v", nil)
			if err != nil {
				t.Fatal(err)
			}
			<-done
			if _, err := s.Wait(ctx, arn); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func asAPI(err error, target *smithy.APIError) bool {
	if err == nil {
		return false
	}
	type unwrapper interface{ Unwrap() error }
	for e := err; e != nil; {
		if ae, ok := e.(smithy.APIError); ok {
			*target = ae
			return true
		}
		u, ok := e.(unwrapper)
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

// TestValidBatches: what the validators must accept.
func TestValidBatches(t *testing.T) {
	s, _ := newTestService(t)
	ctx := testContext(t)
	s.Register("ok", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		c := update("c", types.OperationTypeContext, types.OperationActionStart)
		c.SubType, c.Name = aws.String("Parallel"), aws.String("fan-out")
		inner := stepStart("c-1", "")
		inner.ParentId = aws.String("c")
		innerDone := stepSucceed("c-1", "1")
		innerDone.ParentId = aws.String("c")
		// A step may be closed without a START (at-least-once merge) and
		// a context START+SUCCEED may share a batch with its children.
		closeCtx := update("c", types.OperationTypeContext, types.OperationActionSucceed)
		closeCtx.Payload = aws.String("[1]")
		cp.must(ctx, c, inner, innerDone, closeCtx, stepSucceed("direct", `"d"`))
		return succeeded("1")
	}))
	arn, err := s.Start(ctx, "ok", nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Wait(ctx, arn)
	if err != nil || out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("%+v %v", out, err)
	}
}
