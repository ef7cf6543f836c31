package checkpointer_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/checkpointer"
)

// printAPI accepts every checkpoint, prints it and returns the next token.
// A *lambda.Client takes its place in a real invocation.
type printAPI struct{ n int }

func (a *printAPI) CheckpointDurableExecution(_ context.Context, in *lambda.CheckpointDurableExecutionInput, _ ...func(*lambda.Options)) (*lambda.CheckpointDurableExecutionOutput, error) {
	var updates []string
	for _, u := range in.Updates {
		updates = append(updates, *u.Id+":"+string(u.Action))
	}
	fmt.Printf("checkpoint with %s: %s\n", *in.CheckpointToken, strings.Join(updates, " "))
	a.n++
	token := fmt.Sprint("token-", a.n)
	return &lambda.CheckpointDurableExecutionOutput{CheckpointToken: &token, NewExecutionState: &types.CheckpointUpdatedExecutionState{}}, nil
}

func (a *printAPI) GetDurableExecutionState(context.Context, *lambda.GetDurableExecutionStateInput, ...func(*lambda.Options)) (*lambda.GetDurableExecutionStateOutput, error) {
	return &lambda.GetDurableExecutionStateOutput{}, nil
}

// A quick at-least-once step costs one call: its START is queued without
// waiting and leaves with the awaited SUCCEED.
func ExampleBatcher() {
	ctx := context.Background()
	b := checkpointer.New(ctx, checkpointer.Config{
		API:          &printAPI{},
		ExecutionARN: "arn:aws:lambda:us-east-1:123456789012:function:orders:1/durable-execution/order-42/6f1c",
		Token:        "token-0",
		Linger:       time.Second,
	})
	defer b.Close()

	id, result := "c4ca4238a0b92382", `"reserved"`
	b.Enqueue(types.OperationUpdate{Id: &id, Type: types.OperationTypeStep, Action: types.OperationActionStart})
	// ... the step runs ...
	succeed := b.Enqueue(types.OperationUpdate{Id: &id, Type: types.OperationTypeStep, Action: types.OperationActionSucceed, Payload: &result})
	if err := succeed.Wait(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%+v\n", b.Stats())
	// Output:
	// checkpoint with token-0: c4ca4238a0b92382:START c4ca4238a0b92382:SUCCEED
	// {Calls:1 Updates:2}
}
