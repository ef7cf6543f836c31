package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/local/historyview"
)

// The client commands talk to a running `durable serve` over HTTP with the
// AWS SDK's Lambda client, exactly as a program would talk to AWS.

// defaultEndpoint is where the client commands find the service.
const defaultEndpoint = "http://127.0.0.1:9014"

// endpointEnv overrides defaultEndpoint.
const endpointEnv = "DURABLE_ENDPOINT"

// pollEvery is how often start follows an execution's history.
const pollEvery = 200 * time.Millisecond

func init() {
	register(&command{
		name:    "start",
		args:    "FUNCTION [--input JSON|@FILE] [--name NAME] [--async]",
		summary: "Start an execution and follow its events until it ends.",
		run:     runStart,
	})
	register(&command{
		name:    "list",
		args:    "FUNCTION [--status STATUS,...] [--name NAME] [--json]",
		summary: "List the executions of a function, newest first.",
		run:     runList,
	})
	register(&command{
		name:    "get",
		args:    "ARN [--json]",
		summary: "Describe an execution: status, input, result or error.",
		run:     runGet,
	})
	register(&command{
		name:    "history",
		args:    "ARN [--json]",
		summary: "Print the history events of an execution as a table.",
		run:     runHistory,
	})
	register(&command{
		name:    "callback",
		args:    "succeed|fail|heartbeat ID [--result PAYLOAD|@FILE] [--error-type T] [--error-message M]",
		summary: "Complete a callback with a result or an error, or send it a heartbeat.",
		run:     runCallback,
	})
	register(&command{
		name:    "stop",
		args:    "ARN [--error-type T] [--error-message M]",
		summary: "Stop a running execution.",
		run:     runStop,
	})
}

// endpointFlag adds --endpoint to fs.
func endpointFlag(fs *flag.FlagSet) *string {
	def := defaultEndpoint
	if v := os.Getenv(endpointEnv); v != "" {
		def = v
	}
	return fs.String("endpoint", def, "`URL` of the service started by durable serve ($"+endpointEnv+" changes the default)")
}

// newClient returns the AWS SDK's Lambda client for the service at endpoint,
// with dummy credentials: the local service does not check signatures.
func newClient(endpoint string) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

// apiError makes a connection failure say what to do.
func apiError(err error, endpoint string) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return fmt.Errorf("cannot reach the service at %s (is `durable serve` running?): %w", endpoint, err)
	}
	return err
}

func runStart(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := commands["start"]
	fs := newFlagSet(c, stderr)
	endpoint := endpointFlag(fs)
	input := fs.String("input", "{}", "the event: `JSON` text, @FILE for a file's contents, @- for standard input")
	name := fs.String("name", "", "the execution name (default: a new UUID); starting a name again with the same input returns the existing execution")
	async := fs.Bool("async", false, "print the execution ARN and return at once")
	wait := fs.Bool("wait", true, "follow the execution until it ends; --wait=false is --async")
	jsonOut := fs.Bool("json", false, "print each event as a line of JSON instead of text")
	pos, err := exactArgs(fs, args, "FUNCTION")
	if err != nil {
		return err
	}
	payload, err := payloadArg(*input)
	if err != nil {
		return err
	}
	if !json.Valid(payload) {
		return usagef("--input is not valid JSON")
	}
	client := newClient(*endpoint)
	in := &lambda.InvokeInput{
		FunctionName:   aws.String(pos[0]),
		InvocationType: types.InvocationTypeEvent,
		Payload:        payload,
	}
	if *name != "" {
		in.DurableExecutionName = name
	}
	out, err := client.Invoke(ctx, in)
	if err != nil {
		return apiError(err, *endpoint)
	}
	arn := aws.ToString(out.DurableExecutionArn)
	if arn == "" {
		return fmt.Errorf("%s is not a durable function: the service returned no execution ARN", pos[0])
	}
	if *async || !*wait {
		fmt.Fprintln(stdout, arn)
		return nil
	}
	fmt.Fprintf(stderr, "Following %s (Ctrl-C stops following, not the execution)\n", arn)
	if err := follow(ctx, client, arn, stdout, *jsonOut); err != nil {
		return apiError(err, *endpoint)
	}
	exec, err := client.GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: &arn})
	if err != nil {
		return apiError(err, *endpoint)
	}
	if exec.Status != types.ExecutionStatusSucceeded {
		return errNotSucceeded
	}
	return nil
}

// follow prints the events of the execution arn as they are recorded, until
// it ends or ctx is done.
func follow(ctx context.Context, client *lambda.Client, arn string, w io.Writer, asJSON bool) error {
	p := historyview.NewProgress(w)
	for {
		events, err := historyview.Read(ctx, client, arn)
		if err != nil {
			return err
		}
		for _, ev := range events[min(p.Seen(), len(events)):] {
			if asJSON {
				p.Line(ev)
				err = json.NewEncoder(w).Encode(ev)
			} else {
				err = p.Print(ev)
			}
			if err != nil {
				return err
			}
			if p.Done() {
				return nil
			}
		}
		select {
		case <-time.After(pollEvery):
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

func runList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := commands["list"]
	fs := newFlagSet(c, stderr)
	endpoint := endpointFlag(fs)
	statuses := &listFlag{split: true}
	fs.Var(statuses, "status", "only executions in these `STATUS`es: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, STOPPED (comma-separated or repeated)")
	name := fs.String("name", "", "only the executions with this name")
	max := fs.Int("max", 100, "list at most this many executions (0: all)")
	jsonOut := fs.Bool("json", false, "print the executions as JSON")
	pos, err := exactArgs(fs, args, "FUNCTION")
	if err != nil {
		return err
	}
	in := &lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String(pos[0])}
	for _, s := range statuses.values {
		st := types.ExecutionStatus(strings.ToUpper(s))
		if !validStatus(st) {
			return usagef("unknown status %q", s)
		}
		in.Statuses = append(in.Statuses, st)
	}
	if *name != "" {
		in.DurableExecutionName = name
	}
	client := newClient(*endpoint)
	var execs []types.Execution
	for {
		out, err := client.ListDurableExecutionsByFunction(ctx, in)
		if err != nil {
			return apiError(err, *endpoint)
		}
		execs = append(execs, out.DurableExecutions...)
		if aws.ToString(out.NextMarker) == "" || (*max > 0 && len(execs) >= *max) {
			break
		}
		in.Marker = out.NextMarker
	}
	if *max > 0 && len(execs) > *max {
		execs = execs[:*max]
	}
	if *jsonOut {
		return writeJSON(stdout, execs)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATUS\tSTARTED\tDURATION\tARN")
	for _, e := range execs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", aws.ToString(e.DurableExecutionName), e.Status,
			timestamp(e.StartTimestamp), took(e.StartTimestamp, e.EndTimestamp), aws.ToString(e.DurableExecutionArn))
	}
	return tw.Flush()
}

func validStatus(s types.ExecutionStatus) bool {
	for _, v := range s.Values() {
		if v == s {
			return true
		}
	}
	return false
}

func runGet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := commands["get"]
	fs := newFlagSet(c, stderr)
	endpoint := endpointFlag(fs)
	jsonOut := fs.Bool("json", false, "print the execution as JSON")
	pos, err := exactArgs(fs, args, "ARN")
	if err != nil {
		return err
	}
	out, err := newClient(*endpoint).GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{
		DurableExecutionArn: aws.String(pos[0]), IncludeExecutionData: aws.Bool(true),
	})
	if err != nil {
		return apiError(err, *endpoint)
	}
	if *jsonOut {
		return writeJSON(stdout, executionJSON(out))
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("ARN", aws.ToString(out.DurableExecutionArn))
	row("Name", aws.ToString(out.DurableExecutionName))
	row("Function", aws.ToString(out.FunctionArn))
	row("Status", string(out.Status))
	row("Started", timestamp(out.StartTimestamp))
	if out.EndTimestamp != nil {
		row("Ended", timestamp(out.EndTimestamp)+" (after "+took(out.StartTimestamp, out.EndTimestamp)+")")
	}
	row("Input", aws.ToString(out.InputPayload))
	row("Result", aws.ToString(out.Result))
	row("Error", historyview.ErrorText(out.Error))
	if out.Error != nil && len(out.Error.StackTrace) > 0 {
		row("Stack", strings.Join(out.Error.StackTrace, "\n\t"))
	}
	return tw.Flush()
}

// executionJSON is GetDurableExecution's answer without the SDK's
// metadata, for get --json.
func executionJSON(o *lambda.GetDurableExecutionOutput) any {
	return struct {
		DurableExecutionArn   *string
		DurableExecutionName  *string
		FunctionArn           *string
		Status                types.ExecutionStatus
		StartTimestamp        *time.Time
		EndTimestamp          *time.Time           `json:",omitempty"`
		InputPayload          *string              `json:",omitempty"`
		Result                *string              `json:",omitempty"`
		Error                 *types.ErrorObject   `json:",omitempty"`
		DurableConfig         *types.DurableConfig `json:",omitempty"`
		Version               *string              `json:",omitempty"`
		ExecutionDataIncluded *bool                `json:",omitempty"`
	}{o.DurableExecutionArn, o.DurableExecutionName, o.FunctionArn, o.Status, o.StartTimestamp, o.EndTimestamp,
		o.InputPayload, o.Result, o.Error, o.DurableConfig, o.Version, o.ExecutionDataIncluded}
}

func runHistory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := commands["history"]
	fs := newFlagSet(c, stderr)
	endpoint := endpointFlag(fs)
	jsonOut := fs.Bool("json", false, "print the events as a JSON array, in the API's field names")
	pos, err := exactArgs(fs, args, "ARN")
	if err != nil {
		return err
	}
	events, err := historyview.Read(ctx, newClient(*endpoint), pos[0])
	if err != nil {
		return apiError(err, *endpoint)
	}
	if *jsonOut {
		return writeJSON(stdout, events)
	}
	return historyview.WriteTable(stdout, events)
}

func runCallback(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := commands["callback"]
	fs := newFlagSet(c, stderr)
	endpoint := endpointFlag(fs)
	result := fs.String("result", "", "succeed: the result, sent as is (JSON for most callbacks; @FILE for a file's contents, @- for standard input)")
	errType := fs.String("error-type", "", "fail: the error type")
	errMsg := fs.String("error-message", "", "fail: the error message")
	errData := fs.String("error-data", "", "fail: machine-readable error data")
	pos, err := exactArgs(fs, args, "succeed|fail|heartbeat", "ID")
	if err != nil {
		return err
	}
	action, id := pos[0], pos[1]
	client := newClient(*endpoint)
	switch action {
	case "succeed", "success":
		payload, err := payloadArg(*result)
		if err != nil {
			return err
		}
		_, err = client.SendDurableExecutionCallbackSuccess(ctx, &lambda.SendDurableExecutionCallbackSuccessInput{CallbackId: &id, Result: payload})
		if err != nil {
			return apiError(err, *endpoint)
		}
	case "fail", "failure":
		e := &types.ErrorObject{}
		if *errType != "" {
			e.ErrorType = errType
		}
		if *errMsg != "" {
			e.ErrorMessage = errMsg
		}
		if *errData != "" {
			e.ErrorData = errData
		}
		_, err = client.SendDurableExecutionCallbackFailure(ctx, &lambda.SendDurableExecutionCallbackFailureInput{CallbackId: &id, Error: e})
		if err != nil {
			return apiError(err, *endpoint)
		}
	case "heartbeat":
		_, err = client.SendDurableExecutionCallbackHeartbeat(ctx, &lambda.SendDurableExecutionCallbackHeartbeatInput{CallbackId: &id})
		if err != nil {
			return apiError(err, *endpoint)
		}
	default:
		return usagef("unknown callback action %q: use succeed, fail or heartbeat", action)
	}
	fmt.Fprintf(stdout, "callback %s: %s sent\n", id, action)
	return nil
}

func runStop(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := commands["stop"]
	fs := newFlagSet(c, stderr)
	endpoint := endpointFlag(fs)
	errType := fs.String("error-type", "", "the error type recorded for the stop")
	errMsg := fs.String("error-message", "", "the error message recorded for the stop")
	pos, err := exactArgs(fs, args, "ARN")
	if err != nil {
		return err
	}
	in := &lambda.StopDurableExecutionInput{DurableExecutionArn: aws.String(pos[0])}
	if *errType != "" || *errMsg != "" {
		in.Error = &types.ErrorObject{}
		if *errType != "" {
			in.Error.ErrorType = errType
		}
		if *errMsg != "" {
			in.Error.ErrorMessage = errMsg
		}
	}
	out, err := newClient(*endpoint).StopDurableExecution(ctx, in)
	if err != nil {
		return apiError(err, *endpoint)
	}
	fmt.Fprintf(stdout, "stopped %s at %s\n", pos[0], timestamp(out.StopTimestamp))
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func timestamp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05.000")
}

func took(start, end *time.Time) string {
	if start == nil || end == nil {
		return ""
	}
	return elapsed(end.Sub(*start))
}

// elapsed formats a duration as the history views do: seconds with
// milliseconds under a minute, a Go duration above.
func elapsed(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.3fs", d.Seconds())
	}
	return d.Round(time.Millisecond).String()
}
