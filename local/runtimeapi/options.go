package runtimeapi

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Defaults applied by [New].
const (
	// DefaultTimeout is the per-invocation timeout when neither
	// [WithTimeout] nor the context sets one; it is Lambda's default.
	DefaultTimeout = 3 * time.Second
	// DefaultInitTimeout bounds the start-up of a handler process (until it
	// polls for its first event), as Lambda's 10s init phase limit.
	DefaultInitTimeout = 10 * time.Second
	// DefaultMemorySize is the AWS_LAMBDA_FUNCTION_MEMORY_SIZE, in MB.
	DefaultMemorySize = 128
	// DefaultRegion is AWS_REGION and AWS_DEFAULT_REGION.
	DefaultRegion = "us-east-1"
	// DefaultAccountID is the account used in the default function ARN.
	DefaultAccountID = "000000000000"
	// MaxResponseSize is the largest response payload accepted from a
	// handler, as for a synchronous Lambda invocation (6 MiB). Larger
	// responses fail with [ErrorTypeResponseTooLarge].
	MaxResponseSize = 6 << 20
)

// Dummy credentials given to the handler unless [WithCredentials] is used.
const (
	DummyAccessKeyID     = "LOCALDURABLEACCESSKEY"
	DummySecretAccessKey = "local-durable-secret-access-key"
	DummySessionToken    = "local-durable-session-token"
)

// Option configures a [Function].
type Option func(*config)

type config struct {
	name        string
	arn         string
	region      string
	handler     string
	memoryMB    int
	timeout     time.Duration
	initTimeout time.Duration
	env         []string
	inheritEnv  bool
	stdout      io.Writer
	stderr      io.Writer
	accessKey   string
	secretKey   string
	token       string
}

func defaultConfig(path string) config {
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	handler := filepath.Base(path)
	if name == "bootstrap" {
		// provided.* runtimes call every binary "bootstrap"; the directory
		// name says more.
		if dir := filepath.Base(filepath.Dir(path)); dir != "" && dir != "." && dir != string(filepath.Separator) {
			name = dir
		}
	}
	return config{
		name:        name,
		region:      DefaultRegion,
		handler:     handler,
		memoryMB:    DefaultMemorySize,
		timeout:     DefaultTimeout,
		initTimeout: DefaultInitTimeout,
		stdout:      os.Stderr,
		stderr:      os.Stderr,
		accessKey:   DummyAccessKeyID,
		secretKey:   DummySecretAccessKey,
		token:       DummySessionToken,
	}
}

// WithFunctionName sets AWS_LAMBDA_FUNCTION_NAME (and the log group name and
// default ARN). The default is the binary's file name without extension, or
// the name of its directory if the binary is called "bootstrap".
func WithFunctionName(name string) Option { return func(c *config) { c.name = name } }

// WithFunctionARN sets the Lambda-Runtime-Invoked-Function-Arn sent with
// each invocation. The default is
// arn:aws:lambda:<region>:000000000000:function:<name>.
func WithFunctionARN(arn string) Option { return func(c *config) { c.arn = arn } }

// WithRegion sets AWS_REGION and AWS_DEFAULT_REGION (default us-east-1).
func WithRegion(region string) Option { return func(c *config) { c.region = region } }

// WithMemorySize sets AWS_LAMBDA_FUNCTION_MEMORY_SIZE in MB (default 128).
// It is informational only; no limit is enforced.
func WithMemorySize(mb int) Option { return func(c *config) { c.memoryMB = mb } }

// WithHandler sets _HANDLER (default: the binary's file name).
func WithHandler(handler string) Option { return func(c *config) { c.handler = handler } }

// WithTimeout sets the per-invocation timeout (default [DefaultTimeout]).
// The effective deadline of an invocation is the earlier of the context
// deadline and the moment the event is handed to the runtime plus this
// timeout; it is passed to the handler as Lambda-Runtime-Deadline-Ms.
// Starting a fresh process does not count towards it (see [WithInitTimeout]).
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithInitTimeout bounds how long a fresh handler process may take to
// initialize, i.e. until it polls for its first event (default
// [DefaultInitTimeout]). Exceeding it fails the invocation with a
// [*TimeoutError] whose Init field is true.
func WithInitTimeout(d time.Duration) Option { return func(c *config) { c.initTimeout = d } }

// WithEnv adds environment variables, as "KEY=value" entries, to the
// handler's environment. They override the Lambda defaults set by this
// package, except AWS_LAMBDA_RUNTIME_API. May be given several times.
func WithEnv(env ...string) Option {
	return func(c *config) { c.env = append(c.env, env...) }
}

// WithInheritEnv makes the handler inherit the whole environment of the
// current process (beneath the Lambda variables and [WithEnv]). By default
// only PATH, TMPDIR, GOCOVERDIR and, on Windows, the variables the OS needs
// are inherited, so that the developer's own AWS configuration does not leak
// into the handler.
func WithInheritEnv() Option { return func(c *config) { c.inheritEnv = true } }

// WithStdout sets where the handler's standard output goes (default
// os.Stderr of the current process; nil discards it). Writes come from a
// single goroutine; if the same writer is given to [WithStderr], writes to it
// are not concurrent.
func WithStdout(w io.Writer) Option { return func(c *config) { c.stdout = w } }

// WithStderr sets where the handler's standard error goes (default
// os.Stderr of the current process; nil discards it).
func WithStderr(w io.Writer) Option { return func(c *config) { c.stderr = w } }

// WithCredentials replaces the dummy AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN given to the handler. An empty
// sessionToken leaves AWS_SESSION_TOKEN unset.
func WithCredentials(accessKeyID, secretAccessKey, sessionToken string) Option {
	return func(c *config) {
		c.accessKey, c.secretKey, c.token = accessKeyID, secretAccessKey, sessionToken
	}
}
