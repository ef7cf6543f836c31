package local

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// Client is the in-process client of a [Service], returned by
// [Service.API]. Its methods have the signatures of the corresponding
// methods of [*lambda.Client], so it satisfies checkpointer.API and any
// interface written against the real client's durable subset; the option
// functions are accepted and ignored. Calls go straight to the service, with
// no HTTP and no JSON.
//
// Errors look like the real client's: an [*smithy.OperationError] wrapping an
// [*awshttp.ResponseError] (with the HTTP status code) wrapping the SDK's
// typed exception, e.g. [*types.InvalidParameterValueException], which
// implements [smithy.APIError]. A stale or foreign checkpoint token gives
// InvalidParameterValueException "Invalid Checkpoint Token".
//
// [*smithy.OperationError]: https://pkg.go.dev/github.com/aws/smithy-go#OperationError
// [*awshttp.ResponseError]: https://pkg.go.dev/github.com/aws/aws-sdk-go-v2/aws/transport/http#ResponseError
// [*types.InvalidParameterValueException]: https://pkg.go.dev/github.com/aws/aws-sdk-go-v2/service/lambda/types#InvalidParameterValueException
// [smithy.APIError]: https://pkg.go.dev/github.com/aws/smithy-go#APIError
type Client struct{ s *Service }

// CheckpointDurableExecution applies a batch of operation updates for the
// running invocation and returns the next checkpoint token with the
// operations changed since the handler last saw them.
func (c *Client) CheckpointDurableExecution(ctx context.Context, in *lambda.CheckpointDurableExecutionInput, _ ...func(*lambda.Options)) (*lambda.CheckpointDurableExecutionOutput, error) {
	out, err := c.s.checkpoint(ctx, in)
	if err != nil {
		return nil, clientError("CheckpointDurableExecution", err)
	}
	return out, nil
}

// GetDurableExecutionState returns a page of the execution's operations, for
// the running invocation.
func (c *Client) GetDurableExecutionState(ctx context.Context, in *lambda.GetDurableExecutionStateInput, _ ...func(*lambda.Options)) (*lambda.GetDurableExecutionStateOutput, error) {
	out, err := c.s.state(ctx, in)
	if err != nil {
		return nil, clientError("GetDurableExecutionState", err)
	}
	return out, nil
}

// GetDurableExecution describes an execution.
func (c *Client) GetDurableExecution(ctx context.Context, in *lambda.GetDurableExecutionInput, _ ...func(*lambda.Options)) (*lambda.GetDurableExecutionOutput, error) {
	out, err := c.s.getExecution(ctx, in)
	if err != nil {
		return nil, clientError("GetDurableExecution", err)
	}
	return out, nil
}

// GetDurableExecutionHistory returns a page of an execution's history events.
func (c *Client) GetDurableExecutionHistory(ctx context.Context, in *lambda.GetDurableExecutionHistoryInput, _ ...func(*lambda.Options)) (*lambda.GetDurableExecutionHistoryOutput, error) {
	out, err := c.s.history(ctx, in)
	if err != nil {
		return nil, clientError("GetDurableExecutionHistory", err)
	}
	return out, nil
}

// ListDurableExecutionsByFunction lists a function's executions, newest first.
func (c *Client) ListDurableExecutionsByFunction(ctx context.Context, in *lambda.ListDurableExecutionsByFunctionInput, _ ...func(*lambda.Options)) (*lambda.ListDurableExecutionsByFunctionOutput, error) {
	out, err := c.s.listExecutions(ctx, in)
	if err != nil {
		return nil, clientError("ListDurableExecutionsByFunction", err)
	}
	return out, nil
}

// StopDurableExecution stops a running execution.
func (c *Client) StopDurableExecution(ctx context.Context, in *lambda.StopDurableExecutionInput, _ ...func(*lambda.Options)) (*lambda.StopDurableExecutionOutput, error) {
	out, err := c.s.stop(ctx, in)
	if err != nil {
		return nil, clientError("StopDurableExecution", err)
	}
	return out, nil
}

// SendDurableExecutionCallbackSuccess completes a callback with a result.
func (c *Client) SendDurableExecutionCallbackSuccess(ctx context.Context, in *lambda.SendDurableExecutionCallbackSuccessInput, _ ...func(*lambda.Options)) (*lambda.SendDurableExecutionCallbackSuccessOutput, error) {
	out, err := c.s.callbackSuccess(ctx, in)
	if err != nil {
		return nil, clientError("SendDurableExecutionCallbackSuccess", err)
	}
	return out, nil
}

// SendDurableExecutionCallbackFailure completes a callback with an error.
func (c *Client) SendDurableExecutionCallbackFailure(ctx context.Context, in *lambda.SendDurableExecutionCallbackFailureInput, _ ...func(*lambda.Options)) (*lambda.SendDurableExecutionCallbackFailureOutput, error) {
	out, err := c.s.callbackFailure(ctx, in)
	if err != nil {
		return nil, clientError("SendDurableExecutionCallbackFailure", err)
	}
	return out, nil
}

// SendDurableExecutionCallbackHeartbeat restarts a callback's heartbeat
// timeout.
func (c *Client) SendDurableExecutionCallbackHeartbeat(ctx context.Context, in *lambda.SendDurableExecutionCallbackHeartbeatInput, _ ...func(*lambda.Options)) (*lambda.SendDurableExecutionCallbackHeartbeatOutput, error) {
	out, err := c.s.callbackHeartbeat(ctx, in)
	if err != nil {
		return nil, clientError("SendDurableExecutionCallbackHeartbeat", err)
	}
	return out, nil
}

// Invoke starts an execution of a registered durable function. With
// InvocationType RequestResponse (the default) it waits for the execution to
// end and returns its result as Payload (a function error document, with
// FunctionError "Unhandled", if it did not succeed); with Event it returns
// at once with StatusCode 202. DurableExecutionArn names the execution.
func (c *Client) Invoke(ctx context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	out, err := c.s.invokeFunction(ctx, in)
	if err != nil {
		return nil, clientError("Invoke", err)
	}
	return out, nil
}
