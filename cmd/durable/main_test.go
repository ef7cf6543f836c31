package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/durablectx/durable/local/historyview"
)

// The tests run the test binary itself as the durable command (TestMain
// calls main when runAsCLI is set), and a handler binary built from
// testdata/handler as the function greet.
const runAsCLI = "DURABLE_TEST_RUN_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(runAsCLI) == "1" {
		main()
		return
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	binDir      string
	buildOnce   sync.Once
	handlerPath string
	buildErr    error
)

// handlerBinary builds testdata/handler once per test run.
func handlerBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a handler binary and runs the service as a process")
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "durable-cli-test-")
		if buildErr != nil {
			return
		}
		handlerPath = filepath.Join(binDir, "greet")
		args := []string{"build", "-o", handlerPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, "./testdata/handler")...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./testdata/handler: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return handlerPath
}

// server is a `durable serve` process.
type server struct {
	cmd *exec.Cmd
	url string
	log *logBuffer
}

// startServer runs `durable serve` on a free port with the database db and
// the handler binary as function greet, which appends its steps to stepLog.
func startServer(t *testing.T, db, stepLog string) *server {
	t.Helper()
	bin := handlerBinary(t)
	log := &logBuffer{url: make(chan string, 1)}
	cmd := exec.Command(os.Args[0], "serve", "--addr", "127.0.0.1:0", "--db", db, "-v",
		"--function", "greet="+bin, "--env", "STEP_LOG="+stepLog)
	cmd.Env = append(os.Environ(), runAsCLI+"=1")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, log: log}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("durable serve (%s):\n%s", db, log.String())
		}
	})
	select {
	case s.url = <-log.url:
	case <-time.After(60 * time.Second):
		t.Fatalf("durable serve did not start:\n%s", log.String())
	}
	return s
}

// stop ends the server with SIGTERM, as Ctrl-C would.
func (s *server) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// kill ends the server with SIGKILL: no chance to clean up.
func (s *server) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = s.cmd.Wait()
}

// logBuffer collects the output of durable serve and finds its URL.
type logBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	line []byte
	url  chan string
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	for _, c := range p {
		if c != '\n' {
			b.line = append(b.line, c)
			continue
		}
		const marker = "serving the Lambda durable API on "
		if _, after, ok := strings.Cut(string(b.line), marker); ok {
			url, _, _ := strings.Cut(after, ",")
			select {
			case b.url <- url:
			default:
			}
		}
		b.line = b.line[:0]
	}
	return len(p), nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func invokeEvent(t *testing.T, c *lambda.Client, name, payload string) string {
	t.Helper()
	in := &lambda.InvokeInput{FunctionName: aws.String("greet"), InvocationType: types.InvocationTypeEvent, Payload: []byte(payload)}
	if name != "" {
		in.DurableExecutionName = aws.String(name)
	}
	out, err := c.Invoke(t.Context(), in)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if out.StatusCode != 202 || aws.ToString(out.DurableExecutionArn) == "" {
		t.Fatalf("Invoke (Event): status %d, ARN %q", out.StatusCode, aws.ToString(out.DurableExecutionArn))
	}
	return aws.ToString(out.DurableExecutionArn)
}

// waitStatus polls the execution until it ends.
func waitStatus(t *testing.T, c *lambda.Client, arn string) *lambda.GetDurableExecutionOutput {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := c.GetDurableExecution(t.Context(), &lambda.GetDurableExecutionInput{DurableExecutionArn: &arn})
		if err != nil {
			t.Fatalf("GetDurableExecution: %v", err)
		}
		if out.Status != types.ExecutionStatusRunning {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s still RUNNING after a minute", arn)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitEvent polls the history until an event of type typ is recorded.
func waitEvent(t *testing.T, c *lambda.Client, arn string, typ types.EventType) types.Event {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		events, err := historyview.Read(t.Context(), c, arn)
		if err != nil {
			t.Fatalf("GetDurableExecutionHistory: %v", err)
		}
		for _, ev := range events {
			if ev.EventType == typ {
				return ev
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event after a minute in %s", typ, eventTypes(events))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func eventTypes(events []types.Event) string {
	var s []string
	for _, ev := range events {
		s = append(s, string(ev.EventType)+"("+aws.ToString(ev.Name)+")")
	}
	return strings.Join(s, " ")
}

func history(t *testing.T, c *lambda.Client, arn string) string {
	t.Helper()
	events, err := historyview.Read(t.Context(), c, arn)
	if err != nil {
		t.Fatalf("GetDurableExecutionHistory: %v", err)
	}
	return eventTypes(events)
}

// TestServe drives `durable serve` with the AWS SDK's Lambda client over
// HTTP, as a program would drive AWS, and with the client commands.
func TestServe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := startServer(t, filepath.Join(dir, "state", "durable.db"), filepath.Join(dir, "steps.log"))
	c := newClient(srv.url)

	t.Run("Invoke", func(t *testing.T) {
		arn := invokeEvent(t, c, "ada", `{"name":"ada","waitSeconds":1}`)
		out := waitStatus(t, c, arn)
		if out.Status != types.ExecutionStatusSucceeded || aws.ToString(out.Result) != `"hello ada!"` {
			t.Fatalf("execution: %s %s %+v", out.Status, aws.ToString(out.Result), out.Error)
		}
		if aws.ToString(out.DurableExecutionName) != "ada" {
			t.Errorf("name %q", aws.ToString(out.DurableExecutionName))
		}
		want := "ExecutionStarted(ada) StepStarted(greet) StepSucceeded(greet) WaitStarted(pause) InvocationCompleted() " +
			"WaitSucceeded(pause) StepStarted(finish) StepSucceeded(finish) InvocationCompleted() ExecutionSucceeded(ada)"
		if got := history(t, c, arn); got != want {
			t.Errorf("history:\n got %s\nwant %s", got, want)
		}

		// The same name and input again: the same execution.
		if again := invokeEvent(t, c, "ada", `{"name":"ada","waitSeconds":1}`); again != arn {
			t.Errorf("starting ada again gave %s, want %s", again, arn)
		}

		sync, err := c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("greet"), Payload: []byte(`{"name":"sync"}`)})
		if err != nil {
			t.Fatal(err)
		}
		if string(sync.Payload) != `"hello sync!"` || sync.FunctionError != nil {
			t.Errorf("RequestResponse: %s %v", sync.Payload, aws.ToString(sync.FunctionError))
		}

		list, err := c.ListDurableExecutionsByFunction(t.Context(), &lambda.ListDurableExecutionsByFunctionInput{
			FunctionName: aws.String("greet"), Statuses: []types.ExecutionStatus{types.ExecutionStatusSucceeded},
		})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range list.DurableExecutions {
			found = found || aws.ToString(e.DurableExecutionArn) == arn
		}
		if !found || len(list.DurableExecutions) != 2 {
			t.Errorf("ListDurableExecutionsByFunction(SUCCEEDED) = %d executions, ada among them: %v", len(list.DurableExecutions), found)
		}
		running, err := c.ListDurableExecutionsByFunction(t.Context(), &lambda.ListDurableExecutionsByFunctionInput{
			FunctionName: aws.String("greet"), Statuses: []types.ExecutionStatus{types.ExecutionStatusRunning},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(running.DurableExecutions) != 0 {
			t.Errorf("%d RUNNING executions, want none", len(running.DurableExecutions))
		}
	})

	t.Run("Callbacks", func(t *testing.T) {
		arn := invokeEvent(t, c, "", `{"name":"bob","callback":true}`)
		id := aws.ToString(waitEvent(t, c, arn, types.EventTypeCallbackStarted).CallbackStartedDetails.CallbackId)
		if _, err := c.SendDurableExecutionCallbackHeartbeat(t.Context(), &lambda.SendDurableExecutionCallbackHeartbeatInput{CallbackId: &id}); err != nil {
			t.Fatalf("heartbeat: %v", err)
		}
		if _, err := c.SendDurableExecutionCallbackSuccess(t.Context(), &lambda.SendDurableExecutionCallbackSuccessInput{CallbackId: &id, Result: []byte("yes")}); err != nil {
			t.Fatalf("success: %v", err)
		}
		if out := waitStatus(t, c, arn); out.Status != types.ExecutionStatusSucceeded || aws.ToString(out.Result) != `"hello bob, yes!"` {
			t.Fatalf("execution: %s %s %+v", out.Status, aws.ToString(out.Result), out.Error)
		}
		// A completed callback cannot be completed again.
		if _, err := c.SendDurableExecutionCallbackSuccess(t.Context(), &lambda.SendDurableExecutionCallbackSuccessInput{CallbackId: &id, Result: []byte("again")}); err == nil {
			t.Error("a second success was accepted")
		}

		arn = invokeEvent(t, c, "", `{"name":"eve","callback":true}`)
		id = aws.ToString(waitEvent(t, c, arn, types.EventTypeCallbackStarted).CallbackStartedDetails.CallbackId)
		_, err := c.SendDurableExecutionCallbackFailure(t.Context(), &lambda.SendDurableExecutionCallbackFailureInput{
			CallbackId: &id, Error: &types.ErrorObject{ErrorType: aws.String("Rejected"), ErrorMessage: aws.String("not eve")},
		})
		if err != nil {
			t.Fatalf("failure: %v", err)
		}
		out := waitStatus(t, c, arn)
		if out.Status != types.ExecutionStatusFailed || out.Error == nil || !strings.Contains(aws.ToString(out.Error.ErrorMessage), "not eve") {
			t.Fatalf("execution: %s %+v", out.Status, out.Error)
		}
		if h := history(t, c, arn); !strings.Contains(h, "CallbackFailed(approval create callback id)") {
			t.Errorf("history: %s", h)
		}
	})

	t.Run("Stop", func(t *testing.T) {
		arn := invokeEvent(t, c, "", `{"name":"zed","waitSeconds":3600}`)
		waitEvent(t, c, arn, types.EventTypeWaitStarted)
		if _, err := c.StopDurableExecution(t.Context(), &lambda.StopDurableExecutionInput{DurableExecutionArn: &arn}); err != nil {
			t.Fatal(err)
		}
		if out := waitStatus(t, c, arn); out.Status != types.ExecutionStatusStopped {
			t.Fatalf("execution: %s", out.Status)
		}
	})

	t.Run("Commands", func(t *testing.T) {
		cli := func(wantCode int, args ...string) string {
			t.Helper()
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), append(args, "--endpoint", srv.url), &stdout, &stderr)
			if code != wantCode {
				t.Fatalf("durable %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantCode, stdout.String(), stderr.String())
			}
			return stdout.String()
		}
		out := cli(0, "start", "greet", "--input", `{"name":"cli"}`, "--name", "cli-1")
		for _, want := range []string{"execution started", "step greet succeeded: \"hello cli\"", "execution SUCCEEDED, result \"hello cli!\""} {
			if !strings.Contains(out, want) {
				t.Errorf("start: output lacks %q:\n%s", want, out)
			}
		}
		if out := cli(0, "list", "greet", "--status", "succeeded"); !strings.Contains(out, "cli-1 ") || !strings.Contains(out, "SUCCEEDED") {
			t.Errorf("list:\n%s", out)
		}

		arn := strings.TrimSpace(cli(0, "start", "greet", "--input", `{"name":"cb","callback":true}`, "--async"))
		waitEvent(t, c, arn, types.EventTypeCallbackStarted)
		if out := cli(0, "history", arn); !strings.Contains(out, "CallbackStarted") || !strings.Contains(out, "callback approval") {
			t.Errorf("history:\n%s", out)
		}
		var events []map[string]any
		if err := json.Unmarshal([]byte(cli(0, "history", arn, "--json")), &events); err != nil {
			t.Fatal(err)
		}
		var id string
		for _, ev := range events {
			if d, ok := ev["CallbackStartedDetails"].(map[string]any); ok {
				id, _ = d["CallbackId"].(string)
			}
		}
		if id == "" {
			t.Fatalf("history --json has no callback id: %v", events)
		}
		cli(0, "callback", "heartbeat", id)
		cli(0, "callback", "succeed", id, "--result", "ok")
		waitStatus(t, c, arn)
		if out := cli(0, "get", arn); !strings.Contains(out, "SUCCEEDED") || !strings.Contains(out, `"hello cb, ok!"`) {
			t.Errorf("get:\n%s", out)
		}

		arn = strings.TrimSpace(cli(0, "start", "greet", "--input", `{"name":"no","callback":true}`, "--async"))
		ev := waitEvent(t, c, arn, types.EventTypeCallbackStarted)
		cli(0, "callback", "fail", aws.ToString(ev.CallbackStartedDetails.CallbackId), "--error-type", "Rejected", "--error-message", "no way")
		if out := waitStatus(t, c, arn); out.Status != types.ExecutionStatusFailed {
			t.Errorf("after callback fail: %s", out.Status)
		}

		arn = strings.TrimSpace(cli(0, "start", "greet", "--input", `{"waitSeconds":3600}`, "--wait=false"))
		waitEvent(t, c, arn, types.EventTypeWaitStarted)
		cli(0, "stop", arn)
		var got map[string]any
		if err := json.Unmarshal([]byte(cli(0, "get", arn, "--json")), &got); err != nil || got["Status"] != "STOPPED" {
			t.Errorf("get --json after stop: %v %v", got, err)
		}

		cli(2, "start")
		cli(2, "callback", "approve", "x")
		cli(1, "get", "arn:aws:lambda:us-east-1:123456789012:function:greet:$LATEST/durable-execution/nope/nope")
	})

	for _, want := range []string{"function greet = ", "greet/ada execution started", "invocation ", "greet/ada execution SUCCEEDED", "step greet succeeded"} {
		if !strings.Contains(srv.log.String(), want) {
			t.Errorf("serve log lacks %q:\n%s", want, srv.log.String())
		}
	}
}

// TestServeRestart kills `durable serve` during a wait and starts it again on
// the same database: the execution completes and each step ran once.
func TestServeRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, stepLog := filepath.Join(dir, "durable.db"), filepath.Join(dir, "steps.log")
	srv := startServer(t, db, stepLog)
	c := newClient(srv.url)
	arn := invokeEvent(t, c, "restart", `{"name":"phoenix","waitSeconds":5}`)
	waitEvent(t, c, arn, types.EventTypeWaitStarted)
	srv.kill(t)

	srv = startServer(t, db, stepLog)
	c = newClient(srv.url)
	out := waitStatus(t, c, arn)
	if out.Status != types.ExecutionStatusSucceeded || aws.ToString(out.Result) != `"hello phoenix!"` {
		t.Fatalf("execution after restart: %s %s %+v\nhistory: %s", out.Status, aws.ToString(out.Result), out.Error, history(t, c, arn))
	}
	if took := aws.ToTime(out.EndTimestamp).Sub(aws.ToTime(out.StartTimestamp)); took < 5*time.Second {
		t.Errorf("the execution took %s, less than its 5 s wait", took)
	}
	b, err := os.ReadFile(stepLog)
	if err != nil {
		t.Fatal(err)
	}
	runs := map[string]int{}
	for line := range strings.Lines(string(b)) {
		step, execARN, _ := strings.Cut(strings.TrimSpace(line), " ")
		if execARN == arn {
			runs[step]++
		}
	}
	if runs["greet"] != 1 || runs["finish"] != 1 || len(runs) != 2 {
		t.Errorf("step runs %v, want greet and finish once each\n%s", runs, b)
	}
	if !strings.Contains(srv.log.String(), "greet/restart resumed") {
		t.Errorf("the new server did not log the resumed execution:\n%s", srv.log.String())
	}
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args    []string
		pos     []string
		input   string
		async   bool
		wantErr bool
	}{
		{args: []string{"greet"}, pos: []string{"greet"}},
		{args: []string{"greet", "--input", "{}", "--async"}, pos: []string{"greet"}, input: "{}", async: true},
		{args: []string{"--async", "greet", "--input={}"}, pos: []string{"greet"}, input: "{}", async: true},
		{args: []string{"a", "b", "--input", "x", "c"}, pos: []string{"a", "b", "c"}, input: "x"},
		{args: []string{"a", "--", "--input", "x"}, pos: []string{"a", "--input", "x"}},
		{args: []string{"a", "--nope"}, wantErr: true},
	}
	for _, tt := range tests {
		fs := newFlagSet(&command{name: "test"}, new(bytes.Buffer))
		input := fs.String("input", "", "")
		async := fs.Bool("async", false, "")
		pos, err := parseArgs(fs, tt.args)
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: error %v", tt.args, err)
			continue
		}
		var ue *usageError
		if err != nil && !errors.As(err, &ue) {
			t.Errorf("%q: %v is not a usage error", tt.args, err)
		}
		if tt.wantErr {
			continue
		}
		if strings.Join(pos, "|") != strings.Join(tt.pos, "|") || *input != tt.input || *async != tt.async {
			t.Errorf("%q: got %q input=%q async=%v", tt.args, pos, *input, *async)
		}
	}
}

func TestConformanceCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"conformance", "--requirements", "../../conformance/testdata/core", "--suite", "step", "--id", "1-1,1-2",
		"--json", filepath.Join(t.TempDir(), "report.json")}, &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), "PASSED           step/1-2") || !strings.Contains(stdout.String(), "2 passed, 0 failed") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if code := run(t.Context(), []string{"conformance"}, &stdout, &stderr); code != 2 {
		t.Errorf("without --requirements: exit %d, want 2", code)
	}
}
