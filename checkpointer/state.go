package checkpointer

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// statePageSize is the largest page GetDurableExecutionState serves.
const statePageSize = 1000

// errRepeatedMarker stops paging that would never end.
var errRepeatedMarker = errors.New("the service returned the marker it was given as NextMarker; paging would not end")

// FetchState reads the operations of an execution with
// GetDurableExecutionState, page after page of up to 1000, starting at marker
// (the NextMarker of the invocation's initial state; "" starts at the
// beginning) until the service returns no marker. Throttling and server
// errors are retried with the default [Backoff] while ctx allows. A failure
// is an [*Error].
func FetchState(ctx context.Context, api API, arn, token, marker string) ([]types.Operation, error) {
	return fetchState(ctx, api, arn, token, marker, Backoff{}.withDefaults())
}

func fetchState(ctx context.Context, api API, arn, token, marker string, bo Backoff) ([]types.Operation, error) {
	var ops []types.Operation
	for {
		in := &lambda.GetDurableExecutionStateInput{
			DurableExecutionArn: &arn,
			CheckpointToken:     &token,
			MaxItems:            statePageSize,
		}
		if marker != "" {
			m := marker
			in.Marker = &m
		}
		var out *lambda.GetDurableExecutionStateOutput
		for attempt := 0; ; attempt++ {
			var err error
			out, err = api.GetDurableExecutionState(ctx, in)
			if err == nil {
				break
			}
			c := classify(err)
			if c != transient || ctx.Err() != nil || !bo.pause(ctx, attempt) {
				return ops, failure(ctx, opGetState, 0, err, c)
			}
		}
		if out == nil {
			return ops, nil
		}
		ops = append(ops, out.Operations...)
		if out.NextMarker == nil || *out.NextMarker == "" {
			return ops, nil
		}
		if *out.NextMarker == marker {
			return ops, &Error{Op: opGetState, Err: errRepeatedMarker}
		}
		marker = *out.NextMarker
	}
}
