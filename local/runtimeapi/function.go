package runtimeapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Request describes one invocation for [Function.InvokeRequest].
type Request struct {
	// Payload is the event, delivered verbatim as the body of the /next
	// response.
	Payload []byte
	// RequestID is sent as Lambda-Runtime-Aws-Request-Id. A random UUID is
	// used if empty.
	RequestID string
	// InvokedFunctionARN is sent as Lambda-Runtime-Invoked-Function-Arn
	// (e.g. a qualified ARN). The Function's ARN is used if empty.
	InvokedFunctionARN string
	// TraceID is sent as Lambda-Runtime-Trace-Id (an X-Ray trace header,
	// "Root=1-...;Parent=...;Sampled=0"), if set.
	TraceID string
	// ClientContext is sent as Lambda-Runtime-Client-Context, if set. It
	// must be JSON (the decoded X-Amz-Client-Context of the Invoke API).
	ClientContext string
	// CognitoIdentity is sent as Lambda-Runtime-Cognito-Identity, if set. It
	// must be JSON, e.g. {"CognitoIdentityID":"...","CognitoIdentityPoolID":"..."}.
	CognitoIdentity string
	// TenantID is sent as Lambda-Runtime-Aws-Tenant-Id, if set.
	TenantID string
}

// Function runs one Lambda handler binary behind the Lambda Runtime API.
// See the package documentation. A Function is safe for concurrent use;
// invocations are serialized. Call [Function.Close] to release it.
type Function struct {
	path string
	cfg  config

	sem       chan struct{} // holds one token while an operation owns sb
	closing   chan struct{}
	closeOnce sync.Once

	sb *sandbox // guarded by sem
}

// New returns a Function for the handler binary at path. The binary is not
// started until the first invocation (or [Function.Start]).
func New(path string, opts ...Option) (*Function, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("runtimeapi: %w", err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("runtimeapi: handler binary: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("runtimeapi: handler binary %s is a directory", abs)
	}
	cfg := defaultConfig(abs)
	for _, o := range opts {
		o(&cfg)
	}
	for _, kv := range cfg.env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return nil, fmt.Errorf("runtimeapi: WithEnv: %q is not of the form KEY=value", kv)
		}
	}
	if cfg.name == "" {
		return nil, errors.New("runtimeapi: empty function name")
	}
	if cfg.timeout <= 0 || cfg.initTimeout <= 0 {
		return nil, fmt.Errorf("runtimeapi: invalid timeout %v / init timeout %v", cfg.timeout, cfg.initTimeout)
	}
	if cfg.arn == "" {
		cfg.arn = fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", cfg.region, DefaultAccountID, cfg.name)
	}
	return &Function{
		path:    abs,
		cfg:     cfg,
		sem:     make(chan struct{}, 1),
		closing: make(chan struct{}),
	}, nil
}

// Name returns the function name (AWS_LAMBDA_FUNCTION_NAME).
func (f *Function) Name() string { return f.cfg.name }

// ARN returns the function ARN sent as Lambda-Runtime-Invoked-Function-Arn.
func (f *Function) ARN() string { return f.cfg.arn }

// Invoke runs one invocation with payload as the event and returns the
// handler's response. It implements the lambda.Handler interface of
// aws-lambda-go.
//
// If ctx carries a lambdacontext.LambdaContext, its AwsRequestID,
// InvokedFunctionArn, ClientContext, Identity and TenantID are passed to the
// handler (empty fields get defaults); likewise a trace header stored under
// the "x-amzn-trace-id" context key, as aws-lambda-go does. Otherwise a
// request id is generated. See [Function.InvokeRequest] for the errors.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	req := Request{Payload: payload}
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc != nil {
		req.RequestID = lc.AwsRequestID
		req.InvokedFunctionARN = lc.InvokedFunctionArn
		req.TenantID = lc.TenantID
		if cc := lc.ClientContext; cc.Client != (lambdacontext.ClientApplication{}) || len(cc.Env) > 0 || len(cc.Custom) > 0 {
			if b, err := json.Marshal(cc); err == nil {
				req.ClientContext = string(b)
			}
		}
		if lc.Identity != (lambdacontext.CognitoIdentity{}) {
			if b, err := json.Marshal(lc.Identity); err == nil {
				req.CognitoIdentity = string(b)
			}
		}
	}
	if s, ok := ctx.Value("x-amzn-trace-id").(string); ok {
		req.TraceID = s
	}
	return f.InvokeRequest(ctx, req)
}

// InvokeRequest runs one invocation and returns the handler's response.
// It waits for earlier invocations on f to finish, starts the handler
// process if none is running (or the previous one died) and waits for it to
// initialize, hands the event to the process's pending /next long-poll and
// waits for its /response or /error.
//
// The invocation's deadline, sent as Lambda-Runtime-Deadline-Ms, is the
// earlier of the context deadline and the hand-over time plus the
// [WithTimeout] duration; as in Lambda, a cold start does not count towards
// the timeout but is bounded by [WithInitTimeout] (and the context). The
// errors are:
//
//   - [*InvocationError] if the handler reported an error; the process is
//     kept unless it exits by itself (as aws-lambda-go does after a panic);
//   - [*ExitError] if the process exited before responding, or could not be
//     started or initialized;
//   - [*TimeoutError] if the deadline passed (or initialization took too
//     long); the process is killed;
//   - an error wrapping ctx.Err() (and its cause) if ctx was canceled; a
//     process that had already received the event is killed, one still
//     initializing is left to finish;
//   - [ErrClosed] if f is or gets closed.
func (f *Function) InvokeRequest(ctx context.Context, req Request) ([]byte, error) {
	if err := f.acquire(ctx); err != nil {
		return nil, err
	}
	defer f.release()

	if req.RequestID == "" {
		req.RequestID = newUUID()
	}
	if req.InvokedFunctionARN == "" {
		req.InvokedFunctionARN = f.cfg.arn
	}

	// Phase 1: wait for the runtime to poll /next.
	sb, slot, err := f.waitReady(ctx, req.RequestID)
	if err != nil {
		return nil, err
	}

	// Hand the event over; the deadline starts now.
	start := time.Now()
	deadline := start.Add(f.cfg.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	timeout := deadline.Sub(start)
	inv := &invocation{req: req, deadline: deadline, result: make(chan result, 1)}
	slot <- inv
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()

	// Phase 2: wait for /response or /error.
	select {
	case r := <-inv.result:
		return r.payload, r.err
	case <-sb.exited:
		select {
		case r := <-inv.result: // posted just before exiting
			return r.payload, r.err
		default:
		}
		f.discard(sb)
		return nil, sb.failure(req.RequestID)
	case <-timer.C:
		f.discard(sb)
		return nil, newTimeoutError(req.RequestID, timeout, false)
	case <-ctx.Done():
		f.discard(sb)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, newTimeoutError(req.RequestID, timeout, false)
		}
		return nil, canceled(ctx, req.RequestID)
	case <-f.closing:
		f.discard(sb)
		return nil, ErrClosed
	}
}

// waitReady returns a sandbox and the slot of its pending /next long-poll,
// starting a sandbox if needed. The caller must send exactly one invocation
// to the slot right away. Must hold sem.
func (f *Function) waitReady(ctx context.Context, requestID string) (*sandbox, chan<- *invocation, error) {
	start := time.Now()
	initTimer := time.NewTimer(f.cfg.initTimeout)
	defer initTimer.Stop()
	for attempt := 0; ; attempt++ {
		sb, err := f.sandbox(requestID)
		if err != nil {
			return nil, nil, err
		}
		select {
		case slot := <-sb.next:
			select {
			case <-sb.exited:
				// A long-poll left over by a process that just died.
				slot <- nil
			default:
				return sb, slot, nil
			}
			f.discard(sb)
			if attempt < 2 {
				continue
			}
			return nil, nil, sb.failure(requestID)
		case <-sb.initFailed:
			f.discard(sb)
			return nil, nil, sb.failure(requestID)
		case <-sb.exited:
			f.discard(sb)
			if sb.isReady() && attempt < 2 {
				// The process died while idle (aws-lambda-go exits after
				// reporting a panic): like Lambda, use a fresh sandbox.
				continue
			}
			return nil, nil, sb.failure(requestID)
		case <-initTimer.C:
			f.discard(sb)
			return nil, nil, newTimeoutError(requestID, f.cfg.initTimeout, true)
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				if !sb.isReady() {
					f.discard(sb) // stuck in init
				}
				return nil, nil, newTimeoutError(requestID, time.Since(start), true)
			}
			if requestID == "" {
				return nil, nil, fmt.Errorf("runtimeapi: start %s: %w", f.cfg.name, ctx.Err())
			}
			return nil, nil, canceled(ctx, requestID)
		case <-f.closing:
			return nil, nil, ErrClosed
		}
	}
}

// Start starts the handler process, if it is not running, and waits until
// it has initialized (is polling for its first event). It is optional:
// Invoke starts the process lazily. Start returns the errors described for
// [Function.InvokeRequest] for a failed or timed-out initialization.
func (f *Function) Start(ctx context.Context) error {
	if err := f.acquire(ctx); err != nil {
		return err
	}
	defer f.release()
	sb, err := f.sandbox("")
	if err != nil {
		return err
	}
	if sb.isReady() {
		return nil
	}
	initTimer := time.NewTimer(f.cfg.initTimeout)
	defer initTimer.Stop()
	select {
	case <-sb.ready:
		return nil
	case <-sb.initFailed:
		f.discard(sb)
		return sb.failure("")
	case <-sb.exited:
		f.discard(sb)
		return sb.failure("")
	case <-initTimer.C:
		f.discard(sb)
		return newTimeoutError("", f.cfg.initTimeout, true)
	case <-ctx.Done():
		return fmt.Errorf("runtimeapi: start %s: %w", f.cfg.name, ctx.Err())
	case <-f.closing:
		return ErrClosed
	}
}

// Close stops the handler process and the Runtime API server and waits for
// all goroutines of f to end. An invocation in flight returns [ErrClosed].
// If the handler registered for SIGTERM (aws-lambda-go's
// lambda.WithEnableSIGTERM), it is sent SIGTERM and given 500ms before it is
// killed. Close is idempotent and always returns nil.
func (f *Function) Close() error {
	f.closeOnce.Do(func() { close(f.closing) })
	f.sem <- struct{}{}
	defer f.release()
	if f.sb != nil {
		f.sb.shutdown(true)
		f.sb = nil
	}
	return nil
}

func (f *Function) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-f.closing:
		return ErrClosed
	default:
	}
	select {
	case f.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-f.closing:
		return ErrClosed
	}
	select {
	case <-f.closing:
		f.release()
		return ErrClosed
	default:
		return nil
	}
}

func (f *Function) release() { <-f.sem }

// sandbox returns the current sandbox, starting one if needed. Must hold sem.
func (f *Function) sandbox(requestID string) (*sandbox, error) {
	if f.sb != nil {
		return f.sb, nil
	}
	sb, err := startSandbox(f)
	if err != nil {
		return nil, &ExitError{
			Type:      ErrorTypeInvalidEntrypoint,
			Message:   requestPrefix(requestID) + "Error: " + err.Error(),
			RequestID: requestID,
			Init:      true,
			ExitCode:  -1,
			Err:       err,
		}
	}
	f.sb = sb
	return sb, nil
}

// discard kills sb and forgets it. Must hold sem.
func (f *Function) discard(sb *sandbox) {
	sb.shutdown(false)
	if f.sb == sb {
		f.sb = nil
	}
}

// env builds the environment of a new sandbox.
func (f *Function) env(runtimeAPI, logStream string) []string {
	c := &f.cfg
	var env []string
	if c.inheritEnv {
		env = os.Environ()
	} else {
		for _, k := range passthroughEnv {
			if v, ok := os.LookupEnv(k); ok {
				env = append(env, k+"="+v)
			}
		}
	}
	env = append(env,
		"AWS_LAMBDA_FUNCTION_NAME="+c.name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(c.memoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/"+c.name,
		"AWS_LAMBDA_LOG_STREAM_NAME="+logStream,
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023",
		"AWS_REGION="+c.region,
		"AWS_DEFAULT_REGION="+c.region,
		"_HANDLER="+c.handler,
		"LAMBDA_TASK_ROOT="+filepath.Dir(f.path),
		"TZ=:UTC",
		"LANG=en_US.UTF-8",
		"AWS_ACCESS_KEY_ID="+c.accessKey,
		"AWS_SECRET_ACCESS_KEY="+c.secretKey,
	)
	if c.token != "" {
		env = append(env, "AWS_SESSION_TOKEN="+c.token)
	}
	env = append(env, c.env...)
	// Last, so that nothing overrides it (exec keeps the last duplicate).
	return append(env, "AWS_LAMBDA_RUNTIME_API="+runtimeAPI)
}

func canceled(ctx context.Context, requestID string) error {
	err, cause := ctx.Err(), context.Cause(ctx)
	if cause != nil && cause != err {
		return fmt.Errorf("runtimeapi: invocation %s aborted: %w (%w)", requestID, err, cause)
	}
	return fmt.Errorf("runtimeapi: invocation %s aborted: %w", requestID, err)
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
