package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/local"
	"github.com/durablectx/durable/local/historyview"
	"github.com/durablectx/durable/middleware"
)

// functionName is the name the workflow is registered under.
const functionName = "orders"

// pollEvery is how often the progress display reads the history.
const pollEvery = 100 * time.Millisecond

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	out, err := run(ctx, os.Stdout, filepath.Join(".durable", "durable.db"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "orders:", err)
		os.Exit(1)
	}
	if out.Status != types.ExecutionStatusSucceeded {
		os.Exit(1)
	}
}

// outcome is what a run of the demo produced.
type outcome struct {
	ARN     string
	Status  types.ExecutionStatus
	Result  string
	Error   *types.ErrorObject
	History []types.Event
}

// run starts the service on the database at dbPath, runs one execution of
// the workflow to its end and reports on w.
func run(ctx context.Context, w io.Writer, dbPath string) (*outcome, error) {
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o755); err != nil {
		return nil, err
	}
	svc, err := local.New(local.WithDatabase(dbPath))
	if err != nil {
		return nil, err
	}
	defer svc.Close()
	api := svc.API()

	// The handler is the same one a Lambda binary would start with
	// adapters.Start(..., middleware.Durable()); here it checkpoints through
	// the service's in-process client instead of the AWS SDK.
	approvals := make(chan string, 1)
	svc.Register(functionName, middleware.Wrap(adapters.Handler(workflow(approvals)), middleware.WithAPI(api)))

	ctx, cancel := context.WithCancel(ctx)
	var managers sync.WaitGroup
	defer managers.Wait()
	defer cancel()
	managers.Go(func() { manager(ctx, api, approvals, w) })

	name := executionName()
	input, err := json.Marshal(demoOrder(name))
	if err != nil {
		return nil, err
	}
	arn, err := svc.Start(ctx, functionName, input, local.WithExecutionName(name))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "Started execution %s of %q (database %s)\n\n", name, functionName, dbPath)

	history, err := follow(ctx, api, arn, w)
	if err != nil {
		return nil, err
	}
	exec, err := api.GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: &arn})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "\nHistory of %s:\n\n", arn)
	if err := historyview.WriteTable(w, history); err != nil {
		return nil, err
	}
	out := &outcome{ARN: arn, Status: exec.Status, Result: aws.ToString(exec.Result), Error: exec.Error, History: history}
	fmt.Fprintln(w)
	if out.Result != "" {
		fmt.Fprintf(w, "Result: %s\n", out.Result)
	}
	if out.Error != nil {
		fmt.Fprintf(w, "Error: %s\n", historyview.ErrorText(out.Error))
	}
	fmt.Fprintf(w, "Status: %s\n", out.Status)
	fmt.Fprintf(w, "\nBrowse the executions: go run ./cmd/durable serve --db %s, then go run ./cmd/durable list %s\n", dbPath, functionName)
	return out, nil
}

// manager stands for the person who approves orders: it reads callback ids
// from its inbox and answers each through the durable API, as any other
// system would with SendDurableExecutionCallbackSuccess.
func manager(ctx context.Context, api *local.Client, inbox <-chan string, w io.Writer) {
	for {
		var id string
		select {
		case id = <-inbox:
		case <-ctx.Done():
			return
		}
		select {
		case <-time.After(500 * time.Millisecond): // reading the email
		case <-ctx.Done():
			return
		}
		answer, _ := json.Marshal(Approval{Approver: "dana", Note: "ok to ship"})
		_, err := api.SendDurableExecutionCallbackSuccess(ctx, &lambda.SendDurableExecutionCallbackSuccessInput{
			CallbackId: &id, Result: answer,
		})
		if err != nil && ctx.Err() == nil {
			// A submitter that ran twice sends the id twice; the second
			// answer is refused, which is fine.
			fmt.Fprintf(w, "          manager: %v\n", err)
		}
	}
}

// follow prints the progress of the execution arn until it ends and returns
// its history.
func follow(ctx context.Context, api *local.Client, arn string, w io.Writer) ([]types.Event, error) {
	p := historyview.NewProgress(w)
	for {
		events, err := historyview.Read(ctx, api, arn)
		if err != nil {
			return nil, err
		}
		for _, ev := range events[min(p.Seen(), len(events)):] {
			if err := p.Print(ev); err != nil {
				return nil, err
			}
		}
		if p.Done() {
			return events, nil
		}
		select {
		case <-time.After(pollEvery):
		case <-ctx.Done():
			return nil, fmt.Errorf("interrupted: execution %s goes on the next time the service runs on this database: %w",
				arn, context.Cause(ctx))
		}
	}
}

// executionName is unique per run, so that runs on one database never meet.
func executionName() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return "order-" + time.Now().Format("20060102-150405") + "-" + hex.EncodeToString(b)
}

func demoOrder(name string) Order {
	return Order{
		ID:       name[len("order-"):],
		Customer: "ada@example.com",
		Items: []Item{
			{SKU: "BOOK-GO", Quantity: 2, PriceCents: 3999},
			{SKU: "MUG", Quantity: 1, PriceCents: 1250},
			{SKU: "STICKERS", Quantity: 3, PriceCents: 199},
		},
	}
}
