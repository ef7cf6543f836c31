package adapters

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/handlertrace"
)

// Handler adapts a typed handler function to lambda.Handler: it decodes the
// event into In, calls fn, and encodes its result as JSON. Like
// aws-lambda-go's own reflection-based handler it reports the decoded
// request and the response to handlertrace callbacks in ctx, so tracing
// middleware written for aws-lambda-go sees them.
func Handler[In, Out any](fn func(context.Context, In) (Out, error)) lambda.Handler {
	return typedHandler[In, Out](fn)
}

type typedHandler[In, Out any] func(context.Context, In) (Out, error)

// Invoke implements lambda.Handler.
func (fn typedHandler[In, Out]) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var in In
	if len(payload) > 0 {
		if err := json.Unmarshal(payload, &in); err != nil {
			return nil, fmt.Errorf("durable: cannot decode the event into %T: %w", in, err)
		}
	}
	trace := handlertrace.FromContext(ctx)
	if trace.RequestEvent != nil {
		trace.RequestEvent(ctx, in)
	}
	out, err := fn(ctx, in)
	if err != nil {
		return nil, err
	}
	if trace.ResponseEvent != nil {
		trace.ResponseEvent(ctx, out)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("durable: cannot encode the handler's result %T: %w", out, err)
	}
	return b, nil
}

// Middleware is aws-lambda-go handler middleware.
type Middleware = func(lambda.Handler) lambda.Handler

// Chain composes middleware: the first is the outermost, the one that sees
// an invocation first.
func Chain(mws ...Middleware) Middleware {
	return func(h lambda.Handler) lambda.Handler {
		for i := len(mws) - 1; i >= 0; i-- {
			h = mws[i](h)
		}
		return h
	}
}

// Start runs h wrapped in mws (the first outermost) as the Lambda function of
// this process. It does not return.
func Start(h lambda.Handler, mws ...Middleware) {
	lambda.Start(Chain(mws...)(h))
}
