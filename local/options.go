package local

import (
	"log/slog"
	"time"
)

// An Option configures a [Service].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	clock           Clock
	autoAdvance     bool
	store           Store
	path            string
	region          string
	accountID       string
	logger          *slog.Logger
	onIdle          func()
	maxFailures     int
	failureBackoff  time.Duration
	pageBytes       int
	functionDefault functionConfig
}

func defaultConfig() config {
	return config{
		region:         DefaultRegion,
		accountID:      DefaultAccountID,
		maxFailures:    DefaultMaxFailedInvocations,
		failureBackoff: DefaultFailedInvocationBackoff,
		pageBytes:      5 << 20,
		functionDefault: functionConfig{
			executionTimeout: DefaultExecutionTimeout,
			retentionDays:    DefaultRetentionPeriodInDays,
			timeout:          DefaultFunctionTimeout,
		},
	}
}

// Defaults of the service and of registered functions.
const (
	// DefaultExecutionTimeout is the DurableConfig.ExecutionTimeout of a
	// function registered without [WithExecutionTimeout]: the maximum AWS
	// allows (366 days), so that a local run times out only when asked to.
	DefaultExecutionTimeout = 31622400 * time.Second
	// DefaultRetentionPeriodInDays is how long a finished execution is kept,
	// as on AWS.
	DefaultRetentionPeriodInDays = 14
	// DefaultFunctionTimeout bounds one invocation, like a Lambda function
	// timeout. It is measured on the wall clock, even under a VirtualClock.
	DefaultFunctionTimeout = 15 * time.Minute
	// DefaultMaxFailedInvocations is the number of consecutive failed
	// invocations after which the execution fails.
	DefaultMaxFailedInvocations = 5
	// DefaultFailedInvocationBackoff is the delay, on the service clock,
	// before a failed invocation is retried.
	DefaultFailedInvocationBackoff = 5 * time.Second
	// DefaultAddr is the address [Service.ListenAndServe] binds when given "".
	DefaultAddr = "127.0.0.1:9014"
)

// WithClock makes the service read time and run its timers on c. With a
// [*VirtualClock] the service never moves the clock by itself unless
// [WithAutoAdvance] is given: call [Service.AdvanceToNextTimer] or
// [Service.RunUntilTerminal], or advance the clock directly.
func WithClock(c Clock) Option { return optionFunc(func(cfg *config) { cfg.clock = c }) }

// WithAutoAdvance makes a virtual clock jump to the next wait, step retry or
// invocation back-off whenever the service is idle (no invocation running or
// queued), so executions run to the end without anyone moving time. Timeouts
// (of callbacks, heartbeats and executions) fire when time passes them but
// never make it jump by themselves: an execution waiting for a callback
// stays waiting, at the same instant, until the callback is sent (or the
// test moves time with [Service.AdvanceToNextTimer] or
// [Service.RunUntilTerminal]). Without [WithClock] it creates a
// [VirtualClock] starting at the current wall-clock time. With a real clock
// it does nothing.
func WithAutoAdvance() Option { return optionFunc(func(cfg *config) { cfg.autoAdvance = true }) }

// WithStore makes the service persist its state in st, which it closes on
// [Service.Close]. The default is a [MemoryStore].
func WithStore(st Store) Option { return optionFunc(func(cfg *config) { cfg.store = st }) }

// WithDatabase makes the service persist its state in the SQLite database
// file at path, created if needed (see [OpenSQLite]). A service opened on the
// file of an earlier one resumes its running executions.
func WithDatabase(path string) Option { return optionFunc(func(cfg *config) { cfg.path = path }) }

// WithRegion sets the region used in ARNs (default [DefaultRegion]).
func WithRegion(region string) Option { return optionFunc(func(cfg *config) { cfg.region = region }) }

// WithAccountID sets the account id used in ARNs (default [DefaultAccountID]).
func WithAccountID(id string) Option { return optionFunc(func(cfg *config) { cfg.accountID = id }) }

// WithLogger sets the logger for the service's own diagnostics (failed
// invocations, store errors). The default discards them.
func WithLogger(l *slog.Logger) Option { return optionFunc(func(cfg *config) { cfg.logger = l }) }

// WithIdleFunc registers f to be called each time the service becomes idle:
// the last running invocation ended and none is queued. f runs in the
// goroutine that ended the invocation, after the service released its locks;
// it must not block for long.
func WithIdleFunc(f func()) Option { return optionFunc(func(cfg *config) { cfg.onIdle = f }) }

// WithFailedInvocationPolicy sets how the service treats invocations that
// fail (the handler returned an error, panicked, crashed, timed out or
// answered something invalid): the execution fails after max consecutive
// failures, and each failure is retried after backoff on the service clock.
// The defaults are [DefaultMaxFailedInvocations] and
// [DefaultFailedInvocationBackoff].
func WithFailedInvocationPolicy(max int, backoff time.Duration) Option {
	return optionFunc(func(cfg *config) {
		if max > 0 {
			cfg.maxFailures = max
		}
		if backoff >= 0 {
			cfg.failureBackoff = backoff
		}
	})
}

// A FunctionOption configures a function registered with [Service.Register]
// or [Service.RegisterBinary].
type FunctionOption interface{ applyFunction(*functionConfig) }

type functionOptionFunc func(*functionConfig)

func (f functionOptionFunc) applyFunction(c *functionConfig) { f(c) }

type functionConfig struct {
	executionTimeout time.Duration
	retentionDays    int
	timeout          time.Duration
	env              map[string]string
}

// WithExecutionTimeout sets the function's DurableConfig.ExecutionTimeout:
// an execution still running d after it started ends TIMED_OUT. d is rounded
// up to whole seconds, between 1 s and 366 days.
func WithExecutionTimeout(d time.Duration) FunctionOption {
	return functionOptionFunc(func(c *functionConfig) { c.executionTimeout = d })
}

// WithRetentionPeriod sets the function's DurableConfig.RetentionPeriodInDays
// (1..90): how long a finished execution stays visible.
func WithRetentionPeriod(days int) FunctionOption {
	return functionOptionFunc(func(c *functionConfig) { c.retentionDays = days })
}

// WithFunctionTimeout sets the function timeout: how long one invocation may
// run, on the wall clock (default [DefaultFunctionTimeout]). An invocation that
// outlives it is abandoned and counts as failed (Sandbox.Timedout).
func WithFunctionTimeout(d time.Duration) FunctionOption {
	return functionOptionFunc(func(c *functionConfig) { c.timeout = d })
}

// WithEnv adds environment variables for a function registered with
// [Service.RegisterBinary]. It has no effect on in-process handlers.
func WithEnv(env map[string]string) FunctionOption {
	return functionOptionFunc(func(c *functionConfig) {
		if c.env == nil {
			c.env = map[string]string{}
		}
		for k, v := range env {
			c.env[k] = v
		}
	})
}

// A StartOption configures one execution started with [Service.Start].
type StartOption interface{ applyStart(*startConfig) }

type startOptionFunc func(*startConfig)

func (f startOptionFunc) applyStart(c *startConfig) { f(c) }

type startConfig struct {
	name      string
	qualifier string
	tenantID  string
}

// WithExecutionName names the execution (1..64 of [a-zA-Z0-9-_]), like the
// X-Amz-Durable-Execution-Name header of Invoke: starting a name again with
// the same input returns the existing execution, with another input fails
// with DurableExecutionAlreadyStartedException.
func WithExecutionName(name string) StartOption {
	return startOptionFunc(func(c *startConfig) { c.name = name })
}

// WithTenantID sets the tenant id of the execution, passed to the handler in
// its lambdacontext.
func WithTenantID(id string) StartOption {
	return startOptionFunc(func(c *startConfig) { c.tenantID = id })
}
