package checkpointer

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// API is the part of the Lambda durable API the SDK calls. Its methods have the
// signatures of [*lambda.Client], so the real client satisfies it as it is; the
// embedded local service and test fakes implement it too.
type API interface {
	CheckpointDurableExecution(ctx context.Context, params *lambda.CheckpointDurableExecutionInput, optFns ...func(*lambda.Options)) (*lambda.CheckpointDurableExecutionOutput, error)
	GetDurableExecutionState(ctx context.Context, params *lambda.GetDurableExecutionStateInput, optFns ...func(*lambda.Options)) (*lambda.GetDurableExecutionStateOutput, error)
}

var _ API = (*lambda.Client)(nil)
