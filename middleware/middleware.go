package middleware

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"
	lambdaapi "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/checkpointer"
	"github.com/durablectx/durable/ctxstate"
)

// Option configures the middleware.
type Option interface{ apply(*settings) }

type settings struct {
	api    checkpointer.API
	mode   checkpointer.Mode
	linger time.Duration
	logger *slog.Logger
	hooks  []*ctxstate.Hooks
}

type optionFunc func(*settings)

func (f optionFunc) apply(s *settings) { f(s) }

// WithAPI sets the durable API client. The default is a *lambda.Client built
// once per process, on first use, from the default AWS configuration (the
// function's role and region on Lambda; AWS_ENDPOINT_URL_LAMBDA is honoured,
// which is how the local service reaches handler binaries).
func WithAPI(api checkpointer.API) Option {
	return optionFunc(func(s *settings) { s.api = api })
}

// WithCheckpointMode selects when finished steps return; the default is
// checkpointer.Sync. See package checkpointer for the trade-off.
func WithCheckpointMode(m checkpointer.Mode) Option {
	return optionFunc(func(s *settings) { s.mode = m })
}

// WithLinger sets how long a queued checkpoint update waits for others to
// share its API call (the checkpointer's default when unset).
func WithLinger(d time.Duration) Option {
	return optionFunc(func(s *settings) { s.linger = d })
}

// WithLogger sets the base logger of durable.Logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(s *settings) { s.logger = l })
}

// WithHooks registers lifecycle hooks. Several calls, or several hooks,
// all run; a hook that panics is isolated and does not affect the others or
// the execution.
func WithHooks(h ...*ctxstate.Hooks) Option {
	return optionFunc(func(s *settings) {
		for _, x := range h {
			if x != nil {
				s.hooks = append(s.hooks, x)
			}
		}
	})
}

// Durable returns middleware that makes a lambda.Handler durable: it decodes
// the durable envelope, runs next with the user's event as payload and the
// execution in ctx, and answers SUCCEEDED, FAILED or PENDING. It composes
// with any other func(lambda.Handler) lambda.Handler middleware: those around
// it see the envelope, those inside it see the user's event and the durable
// context.
func Durable(opts ...Option) func(lambda.Handler) lambda.Handler {
	var s settings
	for _, o := range opts {
		o.apply(&s)
	}
	return func(next lambda.Handler) lambda.Handler {
		return &handler{next: next, s: s, hooks: combineHooks(s.hooks)}
	}
}

// Wrap is Durable(opts...)(h).
func Wrap(h lambda.Handler, opts ...Option) lambda.Handler { return Durable(opts...)(h) }

type handler struct {
	next  lambda.Handler
	s     settings
	hooks *ctxstate.Hooks
}

var defaultAPI = sync.OnceValues(func() (checkpointer.API, error) {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		return nil, fmt.Errorf("durable: loading the default AWS configuration for the durable API client: %w", err)
	}
	return lambdaapi.NewFromConfig(cfg), nil
})

// LambdaResponseLimit is the largest answer Lambda returns from a
// synchronous invocation, less a margin for the envelope (6 MiB - 50 B).
// Larger results are checkpointed on the EXECUTION operation instead.
const LambdaResponseLimit = 6*1024*1024 - 50

// Invoke implements lambda.Handler.
func (h *handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	env, err := DecodeEnvelope(payload)
	if err != nil {
		return nil, err
	}
	api := h.s.api
	if api == nil {
		if api, err = defaultAPI(); err != nil {
			return nil, err
		}
	}
	ops := env.InitialExecutionState.Operations
	if m := env.InitialExecutionState.NextMarker; m != "" {
		more, err := checkpointer.FetchState(ctx, api, env.DurableExecutionArn, env.CheckpointToken, m)
		if err != nil {
			return nil, fmt.Errorf("durable: reading the execution state: %w", err)
		}
		ops = append(ops, more...)
	}

	exec := ctxstate.New(ctx, ctxstate.Config{
		API: api, ARN: env.DurableExecutionArn, Token: env.CheckpointToken,
		Mode: h.s.mode, Linger: h.s.linger, Operations: ops, Logger: h.s.logger, Hooks: h.hooks,
		UpdatedOperationIDs: env.UpdatedOperationIds,
	})
	defer exec.Close()

	var info ctxstate.InvocationInfo
	if h.hooks != nil {
		info = invocationInfo(ctx, exec, env)
		if h.hooks.InvocationStart != nil {
			h.hooks.InvocationStart(info)
		}
	}

	input := []byte("null")
	if op := exec.ExecutionOperation(); op != nil && op.ExecutionDetails != nil && op.ExecutionDetails.InputPayload != nil && *op.ExecutionDetails.InputPayload != "" {
		input = []byte(*op.ExecutionDetails.InputPayload)
	}

	result, herr := h.next.Invoke(exec.Context(), input)
	out, err := h.finish(exec, result, herr)

	if h.hooks != nil && h.hooks.InvocationEnd != nil {
		info.End = time.Now()
		info.Err = err
		info.Operations = exec.OperationCount()
		if out != nil {
			info.Status = out.Status
			if err == nil && out.Error != nil {
				info.Err = herr
				if info.Err == nil {
					info.Err = exec.Fatal()
				}
			}
		} else {
			info.Status = "RETRY"
		}
		h.hooks.InvocationEnd(info)
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

// invocationInfo describes the invocation to hooks.
func invocationInfo(ctx context.Context, exec *ctxstate.Execution, env *Envelope) ctxstate.InvocationInfo {
	info := ctxstate.InvocationInfo{
		ExecutionARN: exec.ARN(), First: !exec.Replayed(), Start: time.Now(), Context: ctx,
		Operations: exec.OperationCount(), UpdatedOperationIDs: env.UpdatedOperationIds,
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		info.RequestID = lc.AwsRequestID
	}
	if v, ok := ctx.Value("x-amzn-trace-id").(string); ok {
		info.TraceHeader = v
	}
	if op := exec.ExecutionOperation(); op != nil && op.StartTimestamp != nil {
		info.ExecutionStart = *op.StartTimestamp
	}
	return info
}

// finish settles the invocation and decides its answer. A non-nil error
// means the invocation itself failed and Lambda must re-drive it.
func (h *handler) finish(exec *ctxstate.Execution, result []byte, herr error) (*Output, error) {
	// Running branches settle first: their results are recorded, not lost.
	exec.Settle()
	if fatal := exec.Fatal(); fatal != nil {
		return h.failOrRetry(fatal)
	}
	if exec.Suspended() || (herr != nil && errors.Is(herr, ctxstate.ErrSuspended)) {
		if err := exec.Flush(); err != nil {
			return h.failOrRetry(err)
		}
		return &Output{Status: "PENDING"}, nil
	}
	if err := exec.Flush(); err != nil {
		return h.failOrRetry(err)
	}
	if herr != nil {
		return &Output{Status: "FAILED", Error: errorObject(herr)}, nil
	}
	res := string(result)
	if len(res) > LambdaResponseLimit {
		id := "execution-result-" + strconv.FormatInt(time.Now().UnixMilli(), 10)
		u := types.OperationUpdate{Id: &id, Type: types.OperationTypeExecution, Action: types.OperationActionSucceed, Payload: &res}
		if err := exec.CheckpointSync(u); err != nil {
			return h.failOrRetry(err)
		}
		empty := ""
		return &Output{Status: "SUCCEEDED", Result: &empty}, nil
	}
	out := &Output{Status: "SUCCEEDED"}
	if len(result) > 0 {
		out.Result = &res
	}
	return out, nil
}

// failOrRetry maps an error that ends the invocation: a retryable
// checkpoint failure is returned (Lambda re-drives the invocation); anything
// else fails the execution.
func (h *handler) failOrRetry(err error) (*Output, error) {
	var cerr *checkpointer.Error
	if errors.As(err, &cerr) && cerr.Retryable {
		return nil, err
	}
	if errors.Is(err, checkpointer.ErrInvalidCheckpointToken) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// The invocation ran out of time or was cut short: nothing is
		// known to be wrong with the execution, so Lambda should retry.
		return nil, err
	}
	return &Output{Status: "FAILED", Error: errorObject(err)}, nil
}

// errorObject records a handler error. Errors that know their recorded form
// (durable's *StepError and the other operation errors) give it; others are
// recorded with their Go type name and message.
func errorObject(err error) *wireError {
	var rec interface{ ErrorObject() types.ErrorObject }
	if errors.As(err, &rec) {
		o := rec.ErrorObject()
		return &wireError{ErrorType: o.ErrorType, ErrorMessage: o.ErrorMessage, ErrorData: o.ErrorData, StackTrace: o.StackTrace}
	}
	t := strings.TrimLeft(reflect.TypeOf(err).String(), "*")
	m := err.Error()
	return &wireError{ErrorType: &t, ErrorMessage: &m}
}
