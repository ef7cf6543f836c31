package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"time"

	lambdago "github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/local"
)

// greeter is a durable function written by hand against the protocol; real
// functions use the durable SDK (middleware.Durable) instead.
func greeter(api *local.Client) lambdago.Handler {
	return lambdago.NewHandler(func(ctx context.Context, in struct {
		DurableExecutionArn   string
		CheckpointToken       string
		InitialExecutionState struct{ Operations []json.RawMessage }
	}) (map[string]any, error) {
		if len(in.InitialExecutionState.Operations) == 1 { // first invocation
			_, err := api.CheckpointDurableExecution(ctx, &lambda.CheckpointDurableExecutionInput{
				DurableExecutionArn: &in.DurableExecutionArn,
				CheckpointToken:     &in.CheckpointToken,
				Updates: []types.OperationUpdate{{
					Id: aws.String("nap"), Type: types.OperationTypeWait, Action: types.OperationActionStart,
					WaitOptions: &types.WaitOptions{WaitSeconds: aws.Int32(3600)},
				}},
			})
			if err != nil {
				return nil, err
			}
			return map[string]any{"Status": "PENDING"}, nil
		}
		return map[string]any{"Status": "SUCCEEDED", "Result": `"hello"`}, nil
	})
}

// A service on a virtual clock, driven by the test: an hour-long wait passes
// at once.
func Example() {
	clock := local.NewVirtualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s, err := local.New(local.WithClock(clock))
	if err != nil {
		panic(err)
	}
	defer s.Close()
	s.Register("greeter", greeter(s.API()))

	ctx := context.Background()
	arn, err := s.Start(ctx, "greeter", []byte(`{}`))
	if err != nil {
		panic(err)
	}
	out, err := s.RunUntilTerminal(ctx, arn)
	if err != nil {
		panic(err)
	}
	fmt.Println(out.Status, *out.Result, out.EndTimestamp.Sub(*out.StartTimestamp))
	// Output: SUCCEEDED "hello" 1h0m0s
}

// The HTTP API, used with the real Lambda client.
func ExampleService_Handler() {
	s, err := local.New(local.WithAutoAdvance())
	if err != nil {
		panic(err)
	}
	defer s.Close()
	s.Register("greeter", greeter(s.API()))
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	client := lambda.New(lambda.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	out, err := client.Invoke(context.Background(), &lambda.InvokeInput{
		FunctionName:         aws.String("greeter"),
		DurableExecutionName: aws.String("first"),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(out.StatusCode, string(out.Payload))
	// Output: 200 "hello"
}

func ExampleVirtualClock() {
	clock := local.NewVirtualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	clock.AfterFunc(time.Hour, func() { fmt.Println("fired at", clock.Now().Format(time.TimeOnly)) })
	clock.Advance(30 * time.Minute)
	fmt.Println("now", clock.Now().Format(time.TimeOnly))
	clock.AdvanceToNext()
	// Output:
	// now 00:30:00
	// fired at 01:00:00
}
