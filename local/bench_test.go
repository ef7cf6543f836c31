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
// step (START+SUCCEED) per call, as the SDK sends it, in executions of 100
// steps.
func BenchmarkCheckpoint(b *testing.B) {
	s, _ := newTestService(b)
	ready := make(chan testEnvelope)
	release := make(chan struct{})
	s.Register("bench", handlerFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
		ready <- decodeEnvelope(b, payload)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return []byte(`{"Status":"SUCCEEDED"}`), nil
	}))
	api := s.API()
	ctx := context.Background()
	in := &lambda.CheckpointDurableExecutionInput{ClientToken: aws.String("c")}
	var tok string
	next := func() {
		if in.DurableExecutionArn != nil {
			release <- struct{}{}
		}
		if _, err := s.Start(ctx, "bench", nil); err != nil {
			b.Fatal(err)
		}
		env := <-ready
		in.DurableExecutionArn = aws.String(env.DurableExecutionArn)
		tok = env.CheckpointToken
	}
	const steps = 100
	ids := make([]string, steps)
	for i := range ids {
		ids[i] = fmt.Sprintf("op-%d", i)
	}
	next()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%steps == 0 && i > 0 {
			b.StopTimer()
			next()
			b.StartTimer()
		}
		id := &ids[i%steps]
		in.CheckpointToken = &tok
		in.Updates = []types.OperationUpdate{
			{Id: id, Type: types.OperationTypeStep, Action: types.OperationActionStart, SubType: aws.String("Step")},
			{Id: id, Type: types.OperationTypeStep, Action: types.OperationActionSucceed, SubType: aws.String("Step"), Payload: aws.String(`"ok"`)},
		}
		out, err := api.CheckpointDurableExecution(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		tok = *out.CheckpointToken
	}
	b.StopTimer()
	close(release)
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
