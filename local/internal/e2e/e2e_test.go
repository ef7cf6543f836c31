// Package e2e runs the project's SDK (package durable and its middleware) on
// the local service, in process and over HTTP. It lives apart from package
// local so that local's own tests do not depend on the SDK.
package e2e

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	lambdaapi "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/checkpointer"
	"github.com/durablectx/durable/local"
	"github.com/durablectx/durable/middleware"
)

type order struct {
	ID string `json:"id"`
}

type receipt struct {
	Reservation string `json:"reservation"`
	Charged     bool   `json:"charged"`
	Approval    string `json:"approval"`
}

// handler is the design's example: a step, a day-long wait, a callback and a
// chained invoke.
func handler(ctx context.Context, o order) (receipt, error) {
	id, err := durable.Step(ctx, "reserve", func(ctx context.Context) (string, error) {
		return "r-" + o.ID, nil
	})
	if err != nil {
		return receipt{}, err
	}
	if err := durable.Wait(ctx, "cool-off", 24*time.Hour); err != nil {
		return receipt{}, err
	}
	approval, err := durable.WaitForCallback[string](ctx, "approve", func(ctx context.Context, callbackID string) error {
		callbacks <- callbackID
		return nil
	})
	if err != nil {
		return receipt{}, err
	}
	charged, err := durable.Invoke[bool](ctx, "charge", "payments", o)
	if err != nil {
		return receipt{}, err
	}
	return receipt{Reservation: id, Charged: charged, Approval: approval}, nil
}

var callbacks = make(chan string, 10)

func payments(ctx context.Context, o order) (bool, error) {
	return durable.Step(ctx, "charge-card", func(ctx context.Context) (bool, error) { return o.ID != "", nil })
}

func wrap(api checkpointer.API, h lambda.Handler) lambda.Handler {
	return middleware.Wrap(h, middleware.WithAPI(api))
}

func run(t *testing.T, api func(s *local.Service) checkpointer.API) {
	vc := local.NewVirtualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s, err := local.New(local.WithClock(vc))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Register("orders", wrap(api(s), adapters.Handler(handler)))
	s.Register("payments", wrap(api(s), adapters.Handler(payments)))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	arn, err := s.Start(ctx, "orders", []byte(`{"id":"42"}`))
	if err != nil {
		t.Fatal(err)
	}
	// Run to the callback: the day-long wait passes on the virtual clock.
	var cbID string
	for cbID == "" {
		if err := s.WaitIdle(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case cbID = <-callbacks:
		default:
			if _, err := s.AdvanceToNextTimer(ctx); err != nil {
				t.Fatalf("advance: %v", err)
			}
		}
	}
	if _, err := s.API().SendDurableExecutionCallbackSuccess(ctx, &lambdaapi.SendDurableExecutionCallbackSuccessInput{
		CallbackId: aws.String(cbID), Result: []byte(`"ok"`)}); err != nil {
		t.Fatal(err)
	}
	out, err := s.RunUntilTerminal(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != types.ExecutionStatusSucceeded || aws.ToString(out.Result) != `{"reservation":"r-42","charged":true,"approval":"\"ok\""}` { // callbacks pass results through raw
		t.Fatalf("execution = %s %v %+v", out.Status, aws.ToString(out.Result), out.Error)
	}
	h, err := s.API().GetDurableExecutionHistory(ctx, &lambdaapi.GetDurableExecutionHistoryInput{DurableExecutionArn: aws.String(arn), MaxItems: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range h.Events {
		got = append(got, string(ev.EventType))
	}
	want := []string{"ExecutionStarted", "StepStarted", "StepSucceeded", "WaitStarted", "InvocationCompleted",
		"WaitSucceeded", "ContextStarted", "CallbackStarted", "StepStarted", "StepSucceeded", "InvocationCompleted",
		"CallbackSucceeded", "ContextSucceeded", "ChainedInvokeStarted", "InvocationCompleted",
		"ChainedInvokeSucceeded", "InvocationCompleted", "ExecutionSucceeded"}
	if !slices.Equal(got, want) {
		t.Errorf("history:\n got %v\nwant %v", got, want)
	}
	if d := out.EndTimestamp.Sub(*out.StartTimestamp); d < 24*time.Hour {
		t.Errorf("took %v of virtual time", d)
	}
}

// TestSDKInProcess runs the SDK with the in-process client.
func TestSDKInProcess(t *testing.T) {
	run(t, func(s *local.Service) checkpointer.API { return s.API() })
}

// TestSDKOverHTTP runs the SDK with the real Lambda client over HTTP.
func TestSDKOverHTTP(t *testing.T) {
	run(t, func(s *local.Service) checkpointer.API {
		srv := httptest.NewServer(s.Handler())
		t.Cleanup(srv.Close)
		return lambdaapi.New(lambdaapi.Options{
			Region:       "us-east-1",
			BaseEndpoint: aws.String(srv.URL),
			Credentials:  credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		})
	})
}
