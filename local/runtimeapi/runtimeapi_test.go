package runtimeapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/durablectx/durable/local/runtimeapi"
)

// *Function must be usable as an aws-lambda-go handler.
var _ lambda.Handler = (*runtimeapi.Function)(nil)

// echoBin is the handler binary built from testdata/echo by TestMain.
var echoBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "runtimeapi-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := buildEcho(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func buildEcho(dir string) error {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	echoBin = filepath.Join(dir, "echo")
	if runtime.GOOS == "windows" {
		echoBin += ".exe"
	}
	cmd := exec.Command("go", "build", "-o", echoBin, "./local/runtimeapi/testdata/echo")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build testdata/echo: %v\n%s", err, out)
	}
	return nil
}

// syncBuffer is a goroutine-safe output sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newFunction(t *testing.T, opts ...runtimeapi.Option) (*runtimeapi.Function, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	all := append([]runtimeapi.Option{
		runtimeapi.WithStdout(logs),
		runtimeapi.WithStderr(logs),
		runtimeapi.WithTimeout(10 * time.Second),
	}, opts...)
	f, err := runtimeapi.New(echoBin, all...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = f.Close()
		if t.Failed() {
			t.Logf("handler output:\n%s", logs.String())
		}
	})
	return f, logs
}

func invoke(t *testing.T, f *runtimeapi.Function, ev map[string]any) ([]byte, error) {
	t.Helper()
	return invokeCtx(context.Background(), t, f, ev)
}

func invokeCtx(ctx context.Context, t *testing.T, f *runtimeapi.Function, ev map[string]any) ([]byte, error) {
	t.Helper()
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return f.Invoke(ctx, payload)
}

func pid(t *testing.T, f *runtimeapi.Function) int {
	t.Helper()
	out, err := invoke(t, f, map[string]any{"mode": "pid"})
	if err != nil {
		t.Fatalf("pid invoke: %v", err)
	}
	var p int
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("pid %q: %v", out, err)
	}
	return p
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func assertDead(t *testing.T, pid int) {
	t.Helper()
	alive, ok := processAlive(pid)
	if !ok {
		return
	}
	if alive {
		t.Errorf("process %d is still alive", pid)
	}
}

func TestEchoRoundTrip(t *testing.T) {
	t.Parallel()
	f, _ := newFunction(t)
	first := pid(t, f)
	for i := range 3 {
		payload := fmt.Sprintf(`{"mode":"echo","i":%d,"text":"héllo \u2603","nested":{"a":[1,2,3]}}`, i)
		out, err := f.Invoke(context.Background(), []byte(payload))
		if err != nil {
			t.Fatalf("invoke %d: %v", i, err)
		}
		if string(out) != payload {
			t.Fatalf("invoke %d: got %s, want %s", i, out, payload)
		}
	}
	if again := pid(t, f); again != first {
		t.Errorf("process not reused between invocations: pid %d then %d", first, again)
	}
}

func TestHandlerError(t *testing.T) {
	t.Parallel()
	f, _ := newFunction(t)
	before := pid(t, f)
	_, err := invoke(t, f, map[string]any{"mode": "error"})
	var ie *runtimeapi.InvocationError
	if !errors.As(err, &ie) {
		t.Fatalf("got %T %v, want *InvocationError", err, err)
	}
	if ie.Type != "customError" || ie.ErrorType() != "customError" {
		t.Errorf("Type = %q, want customError", ie.Type)
	}
	if ie.Message != "handler failed on purpose" {
		t.Errorf("Message = %q", ie.Message)
	}
	if ie.Init || ie.RequestID == "" {
		t.Errorf("Init = %v, RequestID = %q", ie.Init, ie.RequestID)
	}
	if got := err.Error(); got != "customError: handler failed on purpose" {
		t.Errorf("Error() = %q", got)
	}
	var doc map[string]any
	if err := json.Unmarshal(ie.ErrorPayload(), &doc); err != nil || doc["errorType"] != "customError" || doc["errorMessage"] != "handler failed on purpose" {
		t.Errorf("ErrorPayload() = %s (%v)", ie.ErrorPayload(), err)
	}
	var fe runtimeapi.FunctionError
	if !errors.As(err, &fe) {
		t.Error("not a FunctionError")
	}
	if after := pid(t, f); after != before {
		t.Errorf("a handler error must not replace the process: pid %d then %d", before, after)
	}
}

func TestPanicThenFreshProcess(t *testing.T) {
	t.Parallel()
	f, _ := newFunction(t)
	before := pid(t, f)
	_, err := invoke(t, f, map[string]any{"mode": "panic"})
	var ie *runtimeapi.InvocationError
	if !errors.As(err, &ie) {
		t.Fatalf("got %T %v, want *InvocationError", err, err)
	}
	if ie.Type != "string" || ie.Message != "boom" {
		t.Errorf("got Type %q Message %q, want string/boom", ie.Type, ie.Message)
	}
	if len(ie.StackTrace) == 0 || ie.StackTrace[0].Path == "" || ie.StackTrace[0].Line == 0 {
		t.Errorf("StackTrace = %+v, want frames", ie.StackTrace)
	}
	// aws-lambda-go exits after reporting a panic; the next invocation gets
	// a fresh process.
	after := pid(t, f)
	if after == before {
		t.Errorf("expected a fresh process after panic, pid still %d", after)
	}
	assertDead(t, before)
}

func TestCrashIsExitErrorAndRecovers(t *testing.T) {
	t.Parallel()
	f, _ := newFunction(t)
	before := pid(t, f)
	_, err := invoke(t, f, map[string]any{"mode": "exit", "code": 2})
	var ee *runtimeapi.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("got %T %v, want *ExitError", err, err)
	}
	if ee.Type != runtimeapi.ErrorTypeExit || ee.ErrorType() != "Runtime.ExitError" {
		t.Errorf("Type = %q", ee.Type)
	}
	if ee.ExitCode != 2 || ee.Status != "exit status 2" || ee.Init {
		t.Errorf("ExitCode %d Status %q Init %v", ee.ExitCode, ee.Status, ee.Init)
	}
	if !strings.Contains(ee.Message, "exit status 2") || !strings.Contains(ee.Message, "RequestId: "+ee.RequestID) || ee.RequestID == "" {
		t.Errorf("Message = %q (RequestID %q)", ee.Message, ee.RequestID)
	}
	if !strings.HasPrefix(err.Error(), "Runtime.ExitError: ") {
		t.Errorf("Error() = %q", err.Error())
	}
	after := pid(t, f)
	if after == before {
		t.Errorf("expected a fresh process after the crash, pid still %d", after)
	}
	assertDead(t, before)
	out, err := invoke(t, f, map[string]any{"mode": "echo"})
	if err != nil || string(out) != `{"mode":"echo"}` {
		t.Fatalf("echo after crash: %s, %v", out, err)
	}
}

func TestTimeoutKillsProcess(t *testing.T) {
	t.Parallel()
	f, _ := newFunction(t, runtimeapi.WithTimeout(500*time.Millisecond))
	before := pid(t, f)
	start := time.Now()
	_, err := invoke(t, f, map[string]any{"mode": "sleep", "sleep": "30s"})
	elapsed := time.Since(start)
	var te *runtimeapi.TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("got %T %v, want *TimeoutError", err, err)
	}
	if te.Type != "Sandbox.Timedout" || te.ErrorType() != runtimeapi.ErrorTypeTimeout {
		t.Errorf("Type = %q", te.Type)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Error("errors.Is(err, context.DeadlineExceeded) is false")
	}
	if !strings.Contains(te.Message, "Task timed out after 0.50 seconds") {
		t.Errorf("Message = %q", te.Message)
	}
	if elapsed < 450*time.Millisecond || elapsed > 5*time.Second {
		t.Errorf("timeout took %v", elapsed)
	}
	assertDead(t, before)
	if after := pid(t, f); after == before {
		t.Errorf("expected a fresh process after the timeout")
	}
}

func TestContextDeadlineIsTimeout(t *testing.T) {
	t.Parallel()
	f, _ := newFunction(t)
	before := pid(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := invokeCtx(ctx, t, f, map[string]any{"mode": "sleep", "sleep": "30s"})
	var te *runtimeapi.TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("got %T %v, want *TimeoutError", err, err)
	}
	if te.Timeout > 300*time.Millisecond || te.Timeout < 200*time.Millisecond {
		t.Errorf("Timeout = %v, want ~300ms", te.Timeout)
	}
	assertDead(t, before)
}

func TestCancelKillsProcess(t *testing.T) {
	t.Parallel()
	f, _ := newFunction(t)
	before := pid(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	_, err := invokeCtx(ctx, t, f, map[string]any{"mode": "sleep", "sleep": "30s"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	var fe runtimeapi.FunctionError
	if errors.As(err, &fe) {
		t.Errorf("cancellation reported as function error %v", fe)
	}
	assertDead(t, before)
	if after := pid(t, f); after == before {
		t.Errorf("expected a fresh process after cancellation")
	}
	// Canceled before anything happens: no invocation, no kill.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := invokeCtx(ctx, t, f, map[string]any{"mode": "echo"}); !errors.Is(err, context.Canceled) {
		t.Errorf("pre-canceled ctx: got %v", err)
	}
}

func TestEnvironment(t *testing.T) {
	t.Setenv("RUNTIMEAPI_TEST_PARENT_ONLY", "leak")
	f, _ := newFunction(t,
		runtimeapi.WithFunctionName("my-func"),
		runtimeapi.WithRegion("eu-west-1"),
		runtimeapi.WithMemorySize(256),
		runtimeapi.WithEnv("AWS_ENDPOINT_URL_LAMBDA=http://127.0.0.1:9999", "CUSTOM_VAR=a=b"),
		runtimeapi.WithEnv("AWS_LAMBDA_RUNTIME_API=ignored:1"),
	)
	keys := []string{
		"AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "_HANDLER", "LAMBDA_TASK_ROOT",
		"TZ", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_ENDPOINT_URL_LAMBDA", "CUSTOM_VAR", "PATH", "RUNTIMEAPI_TEST_PARENT_ONLY",
	}
	out, err := invoke(t, f, map[string]any{"mode": "env", "env": keys})
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]*string
	if err := json.Unmarshal(out, &env); err != nil {
		t.Fatal(err)
	}
	get := func(k string) string {
		if v := env[k]; v != nil {
			return *v
		}
		return "<unset>"
	}
	want := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "my-func",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_REGION":                      "eu-west-1",
		"AWS_DEFAULT_REGION":              "eu-west-1",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/my-func",
		"_HANDLER":                        filepath.Base(echoBin),
		"LAMBDA_TASK_ROOT":                filepath.Dir(echoBin),
		"TZ":                              ":UTC",
		"AWS_ACCESS_KEY_ID":               runtimeapi.DummyAccessKeyID,
		"AWS_SECRET_ACCESS_KEY":           runtimeapi.DummySecretAccessKey,
		"AWS_SESSION_TOKEN":               runtimeapi.DummySessionToken,
		"AWS_ENDPOINT_URL_LAMBDA":         "http://127.0.0.1:9999",
		"CUSTOM_VAR":                      "a=b",
		"PATH":                            os.Getenv("PATH"),
		"RUNTIMEAPI_TEST_PARENT_ONLY":     "<unset>",
	}
	for k, v := range want {
		if got := get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if got := get("AWS_LAMBDA_RUNTIME_API"); !strings.HasPrefix(got, "127.0.0.1:") {
		t.Errorf("AWS_LAMBDA_RUNTIME_API = %q, want 127.0.0.1:port", got)
	}
	if got := get("AWS_LAMBDA_LOG_STREAM_NAME"); !strings.Contains(got, "/[$LATEST]") {
		t.Errorf("AWS_LAMBDA_LOG_STREAM_NAME = %q", got)
	}

	g, _ := newFunction(t, runtimeapi.WithInheritEnv(), runtimeapi.WithCredentials("AK", "SK", ""))
	out, err = invoke(t, g, map[string]any{"mode": "env", "env": []string{"RUNTIMEAPI_TEST_PARENT_ONLY", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "AWS_LAMBDA_FUNCTION_NAME"}})
	if err != nil {
		t.Fatal(err)
	}
	env = nil
	if err := json.Unmarshal(out, &env); err != nil {
		t.Fatal(err)
	}
	wantEcho := filepath.Base(echoBin)
	wantEcho = strings.TrimSuffix(wantEcho, filepath.Ext(wantEcho))
	for k, v := range map[string]string{"RUNTIMEAPI_TEST_PARENT_ONLY": "leak", "AWS_ACCESS_KEY_ID": "AK", "AWS_SESSION_TOKEN": "<unset>", "AWS_LAMBDA_FUNCTION_NAME": wantEcho} {
		if got := get(k); got != v {
			t.Errorf("inherit: %s = %q, want %q", k, got, v)
		}
	}
}

func TestLambdaContextAndHeaders(t *testing.T) {
	t.Parallel()
	f, _ := newFunction(t)
	lc := &lambdacontext.LambdaContext{
		AwsRequestID: "req-ctx-1",
		Identity:     lambdacontext.CognitoIdentity{CognitoIdentityID: "id-1", CognitoIdentityPoolID: "pool-1"},
		ClientContext: lambdacontext.ClientContext{
			Custom: map[string]string{"k": "v"},
		},
		TenantID: "tenant-1",
	}
	ctx := lambdacontext.NewContext(context.Background(), lc)
	//lint:ignore SA1029 aws-lambda-go itself stores the trace header under this plain string key
	ctx = context.WithValue(ctx, "x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0")
	ctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	dl, _ := ctx.Deadline()

	out, err := invokeCtx(ctx, t, f, map[string]any{"mode": "context"})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		RequestID  string                        `json:"requestId"`
		ARN        string                        `json:"arn"`
		Tenant     string                        `json:"tenant"`
		Identity   lambdacontext.CognitoIdentity `json:"identity"`
		Custom     map[string]string             `json:"custom"`
		TraceEnv   string                        `json:"traceEnv"`
		DeadlineMS int64                         `json:"deadlineMs"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got.RequestID != "req-ctx-1" || got.ARN != f.ARN() || got.Tenant != "tenant-1" {
		t.Errorf("requestId %q arn %q tenant %q", got.RequestID, got.ARN, got.Tenant)
	}
	if f.ARN() != "arn:aws:lambda:us-east-1:000000000000:function:"+f.Name() {
		t.Errorf("ARN() = %q", f.ARN())
	}
	if got.Identity != lc.Identity || got.Custom["k"] != "v" {
		t.Errorf("identity %+v custom %v", got.Identity, got.Custom)
	}
	if got.TraceEnv != "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0" {
		t.Errorf("_X_AMZN_TRACE_ID = %q", got.TraceEnv)
	}
	if d := got.DeadlineMS - dl.UnixMilli(); d < -2 || d > 2 {
		t.Errorf("deadline %d, ctx deadline %d", got.DeadlineMS, dl.UnixMilli())
	}

	// Explicit request: generated id, custom ARN, option-based deadline.
	before := time.Now()
	out, err = f.InvokeRequest(context.Background(), runtimeapi.Request{
		Payload:            []byte(`{"mode":"context"}`),
		InvokedFunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:echo:live",
	})
	if err != nil {
		t.Fatal(err)
	}
	got.RequestID, got.ARN = "", ""
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.RequestID) != 36 || got.RequestID == "req-ctx-1" {
		t.Errorf("generated request id %q", got.RequestID)
	}
	if got.ARN != "arn:aws:lambda:us-east-1:000000000000:function:echo:live" {
		t.Errorf("arn %q", got.ARN)
	}
	if lo, hi := before.Add(10*time.Second).UnixMilli(), time.Now().Add(10*time.Second).UnixMilli(); got.DeadlineMS < lo || got.DeadlineMS > hi {
		t.Errorf("deadline %d not in [%d, %d]", got.DeadlineMS, lo, hi)
	}
}

func TestSerializedConcurrentInvokes(t *testing.T) {
	t.Parallel()
	f, _ := newFunction(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			payload := fmt.Sprintf(`{"mode":"echo","i":%d}`, i)
			out, err := f.Invoke(context.Background(), []byte(payload))
			if err != nil {
				errs <- err
			} else if string(out) != payload {
				errs <- fmt.Errorf("got %s want %s", out, payload)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestInitExit(t *testing.T) {
	t.Parallel()
	f, logs := newFunction(t, runtimeapi.WithEnv("ECHO_INIT=exit"))
	err := f.Start(context.Background())
	var ee *runtimeapi.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("Start: got %T %v, want *ExitError", err, err)
	}
	if ee.Type != runtimeapi.ErrorTypeExit || !ee.Init || ee.ExitCode != 3 || ee.RequestID != "" {
		t.Errorf("Start: %+v", ee)
	}
	_, err = invoke(t, f, map[string]any{"mode": "echo"})
	if !errors.As(err, &ee) {
		t.Fatalf("Invoke: got %T %v, want *ExitError", err, err)
	}
	if !ee.Init || ee.ExitCode != 3 || !strings.Contains(ee.Message, "Runtime exited with error: exit status 3") || ee.RequestID == "" {
		t.Errorf("Invoke: %+v", ee)
	}
	waitFor(t, 2*time.Second, "init output", func() bool { return strings.Contains(logs.String(), "init: exiting") })
}

func TestInitErrorPosted(t *testing.T) {
	t.Parallel()
	f, _ := newFunction(t, runtimeapi.WithEnv("ECHO_INIT=init-error"))
	start := time.Now()
	_, err := invoke(t, f, map[string]any{"mode": "echo"})
	var ie *runtimeapi.InvocationError
	if !errors.As(err, &ie) {
		t.Fatalf("got %T %v, want *InvocationError", err, err)
	}
	if !ie.Init || ie.Type != "Runtime.ConfigError" || ie.Message != "cannot load config" || ie.RequestID == "" {
		t.Errorf("%+v", ie)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("init error took %v", time.Since(start))
	}
}

func TestInitHangTimesOut(t *testing.T) {
	t.Parallel()
	f, _ := newFunction(t, runtimeapi.WithEnv("ECHO_INIT=hang"), runtimeapi.WithInitTimeout(300*time.Millisecond))
	_, err := invoke(t, f, map[string]any{"mode": "echo"})
	var te *runtimeapi.TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("got %T %v, want *TimeoutError", err, err)
	}
	if !te.Init || te.Timeout != 300*time.Millisecond || !strings.Contains(te.Message, "initialization timed out") {
		t.Errorf("%+v", te)
	}
	// The context deadline also bounds initialization.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := f.Start(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Start: got %v, want DeadlineExceeded", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = invokeCtx(ctx, t, f, map[string]any{"mode": "echo"})
	if !errors.As(err, &te) || !te.Init {
		t.Fatalf("got %T %v, want init *TimeoutError", err, err)
	}
}

func TestInvalidEntrypoint(t *testing.T) {
	t.Parallel()
	if _, err := runtimeapi.New(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("New with a missing binary succeeded")
	}
	path := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(path, []byte("not a program"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := runtimeapi.New(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Name() != filepath.Base(filepath.Dir(path)) {
		t.Errorf("Name() = %q, want the directory name for a bootstrap binary", f.Name())
	}
	_, err = f.Invoke(context.Background(), []byte(`{}`))
	var ee *runtimeapi.ExitError
	if !errors.As(err, &ee) || ee.Type != runtimeapi.ErrorTypeInvalidEntrypoint || ee.Err == nil {
		t.Fatalf("got %T %v, want *ExitError Runtime.InvalidEntrypoint", err, err)
	}
}

func TestResponseTooLarge(t *testing.T) {
	t.Parallel()
	f, _ := newFunction(t)
	_, err := invoke(t, f, map[string]any{"mode": "big", "size": runtimeapi.MaxResponseSize + 10})
	var ie *runtimeapi.InvocationError
	if !errors.As(err, &ie) || ie.Type != runtimeapi.ErrorTypeResponseTooLarge {
		t.Fatalf("got %T %v, want Function.ResponseSizeTooLarge", err, err)
	}
	out, err := invoke(t, f, map[string]any{"mode": "big", "size": 1000})
	if err != nil || len(out) != 1002 {
		t.Fatalf("after too-large response: %d bytes, %v", len(out), err)
	}
}

func TestStreamingErrorTrailer(t *testing.T) {
	t.Parallel()
	f, _ := newFunction(t)
	_, err := invoke(t, f, map[string]any{"mode": "stream-error"})
	var ie *runtimeapi.InvocationError
	if !errors.As(err, &ie) {
		t.Fatalf("got %T %v, want *InvocationError", err, err)
	}
	if ie.Type != "errorString" || ie.Message != "stream broke" {
		t.Errorf("%+v", ie)
	}
}

func TestOutputWriters(t *testing.T) {
	t.Parallel()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	f, err := runtimeapi.New(echoBin, runtimeapi.WithStdout(stdout), runtimeapi.WithStderr(stderr))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := invoke(t, f, map[string]any{"mode": "log", "output": "hello"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "stdout", func() bool { return strings.Contains(stdout.String(), "stdout:hello") })
	waitFor(t, 2*time.Second, "stderr", func() bool { return strings.Contains(stderr.String(), "stderr:hello") })
	if strings.Contains(stdout.String(), "stderr:") || strings.Contains(stderr.String(), "stdout:") {
		t.Errorf("streams mixed: stdout %q stderr %q", stdout.String(), stderr.String())
	}
}

func TestSIGTERMOnClose(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM on windows")
	}
	t.Parallel()
	marker := filepath.Join(t.TempDir(), "sigterm")
	f, _ := newFunction(t, runtimeapi.WithEnv("ECHO_INIT=sigterm", "ECHO_SIGTERM_FILE="+marker))
	p := pid(t, f)
	start := time.Now()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %v", d)
	}
	if b, err := os.ReadFile(marker); err != nil || string(b) != "sigterm" {
		t.Errorf("SIGTERM handler did not run: %q %v", b, err)
	}
	assertDead(t, p)
}

// TestCloseNoLeaks is not parallel: it counts goroutines.
func TestCloseNoLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	f, err := runtimeapi.New(echoBin, runtimeapi.WithStdout(&syncBuffer{}), runtimeapi.WithStderr(&syncBuffer{}))
	if err != nil {
		t.Fatal(err)
	}
	p1 := pid(t, f)
	if _, err := invoke(t, f, map[string]any{"mode": "exit", "code": 1}); err == nil {
		t.Fatal("crash not reported")
	}
	p2 := pid(t, f)

	// Close while an invocation is in flight.
	done := make(chan error, 1)
	go func() {
		_, err := invoke(t, f, map[string]any{"mode": "sleep", "sleep": "30s"})
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, runtimeapi.ErrClosed) {
			t.Errorf("in-flight invoke: got %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("in-flight invoke did not return after Close")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %v", d)
	}
	assertDead(t, p1)
	assertDead(t, p2)
	if _, err := invoke(t, f, map[string]any{"mode": "echo"}); !errors.Is(err, runtimeapi.ErrClosed) {
		t.Errorf("invoke after Close: got %v, want ErrClosed", err)
	}
	if err := f.Start(context.Background()); !errors.Is(err, runtimeapi.ErrClosed) {
		t.Errorf("Start after Close: got %v, want ErrClosed", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			var buf bytes.Buffer
			_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
			t.Fatalf("goroutines: %d before, %d after Close\n%s", before, runtime.NumGoroutine(), buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
