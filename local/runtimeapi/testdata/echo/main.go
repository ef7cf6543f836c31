// Command echo is a Lambda handler used by the runtimeapi tests. The event
// selects what it does; see the mode switch. ECHO_INIT selects misbehaviour
// before lambda.Start.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Mode   string   `json:"mode"`
	Env    []string `json:"env,omitempty"`
	Sleep  string   `json:"sleep,omitempty"`
	Code   int      `json:"code,omitempty"`
	Size   int      `json:"size,omitempty"`
	Output string   `json:"output,omitempty"`
}

type customError struct{ msg string }

func (e *customError) Error() string { return e.msg }

// failingReader makes aws-lambda-go report an error in the response
// trailers while streaming the response body.
type failingReader struct{ done bool }

func (r *failingReader) Read(p []byte) (int, error) {
	if !r.done {
		r.done = true
		return copy(p, "partial"), nil
	}
	return 0, errors.New("stream broke")
}

func handle(ctx context.Context, payload json.RawMessage) (any, error) {
	var ev event
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	switch ev.Mode {
	case "echo":
		return payload, nil
	case "error":
		return nil, &customError{msg: "handler failed on purpose"}
	case "panic":
		panic("boom")
	case "exit":
		os.Exit(ev.Code)
	case "sleep":
		d, err := time.ParseDuration(ev.Sleep)
		if err != nil {
			return nil, err
		}
		time.Sleep(d) // ignores ctx, like a stuck handler
		return "slept", nil
	case "pid":
		return os.Getpid(), nil
	case "env":
		out := map[string]*string{}
		for _, k := range ev.Env {
			if v, ok := os.LookupEnv(k); ok {
				out[k] = &v
			} else {
				out[k] = nil
			}
		}
		return out, nil
	case "context":
		lc, _ := lambdacontext.FromContext(ctx)
		dl, _ := ctx.Deadline()
		return map[string]any{
			"requestId":  lc.AwsRequestID,
			"arn":        lc.InvokedFunctionArn,
			"tenant":     lc.TenantID,
			"identity":   lc.Identity,
			"custom":     lc.ClientContext.Custom,
			"traceEnv":   os.Getenv("_X_AMZN_TRACE_ID"),
			"deadlineMs": dl.UnixMilli(),
			"pid":        os.Getpid(),
		}, nil
	case "big":
		return strings.Repeat("x", ev.Size), nil
	case "stream-error":
		return &failingReader{}, nil
	case "log":
		fmt.Fprintln(os.Stdout, "stdout:"+ev.Output)
		fmt.Fprintln(os.Stderr, "stderr:"+ev.Output)
		return "logged", nil
	}
	return nil, errors.New("unknown mode " + ev.Mode)
}

func main() {
	switch os.Getenv("ECHO_INIT") {
	case "exit":
		fmt.Fprintln(os.Stderr, "init: exiting")
		os.Exit(3)
	case "hang":
		time.Sleep(time.Hour)
	case "init-error":
		body := []byte(`{"errorMessage":"cannot load config","errorType":"Runtime.ConfigError"}`)
		url := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/init/error"
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Lambda-Runtime-Function-Error-Type", "Runtime.ConfigError")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		time.Sleep(time.Hour) // the sandbox must be killed
	case "sigterm":
		file := os.Getenv("ECHO_SIGTERM_FILE")
		lambda.StartWithOptions(handle, lambda.WithEnableSIGTERM(func() {
			_ = os.WriteFile(file, []byte("sigterm"), 0o644)
		}))
		return
	}
	lambda.Start(handle)
}
