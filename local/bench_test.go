package local

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// BenchmarkCheckpoint measures the in-process checkpoint call: one quick
// step (START+SUCCEED) per call, as the SDK sends it.
func BenchmarkCheckpoint(b *testing.B) {
	s, _ := newTestService(b)
	ready := make(chan testEnvelope)
	release := make(chan struct{})
	s.Register("bench", handlerFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
		ready <- decodeEnvelope(b, payload)
		<-release
		return []byte(`{"Status":"SUCCEEDED"}`), nil
	}))
	if _, err := s.Start(context.Background(), "bench", nil); err != nil {
		b.Fatal(err)
	}
	env := <-ready
	defer close(release)
	api := s.API()
	ctx := context.Background()
	in := &lambda.CheckpointDurableExecutionInput{DurableExecutionArn: aws.String(env.DurableExecutionArn), ClientToken: aws.String("c")}
	tok := env.CheckpointToken
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = fmt.Sprintf("op-%d", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in.CheckpointToken = &tok
		in.Updates = []types.OperationUpdate{
			{Id: &ids[i], Type: types.OperationTypeStep, Action: types.OperationActionStart, SubType: aws.String("Step")},
			{Id: &ids[i], Type: types.OperationTypeStep, Action: types.OperationActionSucceed, SubType: aws.String("Step"), Payload: aws.String(`"ok"`)},
		}
		out, err := api.CheckpointDurableExecution(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		tok = *out.CheckpointToken
	}
}

// BenchmarkExecution measures a whole execution of a one-step handler on the
// in-process path: start, one invocation with its envelope, one checkpoint,
// completion.
func BenchmarkExecution(b *testing.B) {
	s, _ := newTestService(b)
	api := s.API()
	s.Register("bench", handlerFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
		env := decodeEnvelope(b, payload)
		_, err := api.CheckpointDurableExecution(ctx, &lambda.CheckpointDurableExecutionInput{
			DurableExecutionArn: aws.String(env.DurableExecutionArn), CheckpointToken: aws.String(env.CheckpointToken),
			Updates: []types.OperationUpdate{stepStart("s", "step"), stepSucceed("s", `"ok"`)}})
		if err != nil {
			return nil, err
		}
		return []byte(`{"Status":"SUCCEEDED","Result":"\"ok\""}`), nil
	}))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		arn, err := s.Start(ctx, "bench", []byte(`{"n":1}`))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Wait(ctx, arn); err != nil {
			b.Fatal(err)
		}
	}
}
