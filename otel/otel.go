package otel

import (
	"strconv"
	"sync"

	otelapi "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"github.com/durablectx/durable/ctxstate"
)

// ScopeName is the instrumentation scope of the spans: the tracer's name.
const ScopeName = "github.com/durablectx/durable/otel"

// Version is the version of this instrumentation, given to the tracer.
const Version = "0.1.0"

// View selects how spans are laid out over the invocations of an execution.
// See the package documentation.
type View int

const (
	// InvocationView gives each invocation its own tree: an Invocation span
	// holding the operations that ran in it, each linked to the execution's
	// Workflow span. An operation that spans invocations has a STARTED span
	// in the first and a terminal span in the last.
	InvocationView View = iota
	// ExecutionView gives the execution one tree: the Workflow span holding
	// one span per operation, from its start to its completion, each linked
	// to the Invocation span in which it completed.
	ExecutionView
)

// String returns "invocation" or "execution".
func (v View) String() string {
	switch v {
	case InvocationView:
		return "invocation"
	case ExecutionView:
		return "execution"
	}
	return "View(" + strconv.Itoa(int(v)) + ")"
}

// Option configures [Hooks].
type Option interface{ apply(*config) }

type config struct {
	provider trace.TracerProvider
	view     View
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithTracerProvider sets the tracer provider; the default is the global one
// (go.opentelemetry.io/otel.GetTracerProvider), looked up at each
// invocation so that it may be set after the hooks are built. The provider
// should use [IDGenerator]. If it has a ForceFlush(context.Context) error
// method, as the SDK's does, it is flushed before each invocation answers.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) { c.provider = tp })
}

// WithView selects the span layout; the default is [InvocationView].
func WithView(v View) Option {
	return optionFunc(func(c *config) { c.view = v })
}

// Hooks returns lifecycle hooks that trace durable executions, for
// middleware.WithHooks:
//
//	middleware.Durable(middleware.WithHooks(otel.Hooks()))
//
// One value serves any number of executions and concurrent invocations.
func Hooks(opts ...Option) *ctxstate.Hooks {
	t := &tracer{runs: make(map[string]*run)}
	for _, o := range opts {
		o.apply(&t.cfg)
	}
	return &ctxstate.Hooks{
		InvocationStart: t.invocationStart,
		InvocationEnd:   t.invocationEnd,
		OperationStart:  t.operationStart,
		OperationEnd:    t.operationEnd,
		AttemptStart:    t.attemptStart,
		AttemptEnd:      t.attemptEnd,
		AttemptContext:  t.attemptContext,
	}
}

// tracer holds the state of the invocations in progress, by execution ARN:
// Lambda runs one invocation of an execution at a time.
type tracer struct {
	cfg config

	mu   sync.Mutex
	runs map[string]*run

	warnOnce sync.Once
}

func (t *tracer) provider() trace.TracerProvider {
	if t.cfg.provider != nil {
		return t.cfg.provider
	}
	return otelapi.GetTracerProvider()
}

func (t *tracer) run(arn string) *run {
	t.mu.Lock()
	r := t.runs[arn]
	t.mu.Unlock()
	return r
}
