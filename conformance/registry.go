package conformance

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"go.opentelemetry.io/otel/trace"

	"github.com/durablectx/durable/local"
	"github.com/durablectx/durable/middleware"
)

// The registry is the Go analogue of the SAM template's TestingMetadata
// (README §2.2, §4.1 item 2): which handler serves which requirement, with
// which function configuration, and which requirements are deliberate gaps.

// DefaultExecutionTimeout is the DurableConfig.ExecutionTimeout of a function
// that sets none: 300 s, as in the reference templates.
const DefaultExecutionTimeout = 300 * time.Second

// HandlerFunc builds the handler of a function for one requirement run.
// env connects it to that run's service, log sink and tracer provider.
// It is called once per run and function.
type HandlerFunc func(env *Env) lambda.Handler

// Function is a deployed durable function: its handler and configuration.
type Function struct {
	// Handler builds the handler.
	Handler HandlerFunc
	// ExecutionTimeout is DurableConfig.ExecutionTimeout; 0 means
	// [DefaultExecutionTimeout].
	ExecutionTimeout time.Duration
	// RetentionPeriodInDays is DurableConfig.RetentionPeriodInDays; 0 means
	// the service's default.
	RetentionPeriodInDays int
	// Environment is the function's environment, read by the handler through
	// [Env.Getenv]. OTEL_PLUGIN_MODE (invocation or execution) selects the
	// OpenTelemetry view; the driver sets it for the execution-view run of
	// the long-running suite.
	Environment map[string]string
}

// Registry maps requirement IDs to the functions serving them, hosts
// auxiliary functions (chained-invoke targets) by name, and records the
// requirements deliberately not implemented. The zero value is not usable;
// call [NewRegistry].
type Registry struct {
	functions      map[string]*Function
	aux            map[string]*Function
	notImplemented map[string]string
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{functions: map[string]*Function{}, aux: map[string]*Function{}, notImplemented: map[string]string{}}
}

// Handle maps the requirement ids to fn, replacing earlier mappings. One
// function may serve several IDs, as TestingMetadata.TestDescription lists
// several.
func (r *Registry) Handle(fn Function, ids ...string) {
	f := fn
	for _, id := range ids {
		r.functions[id] = &f
	}
}

// HandleFunc maps the requirement ids to a function running h with the
// default configuration.
func (r *Registry) HandleFunc(h HandlerFunc, ids ...string) {
	r.Handle(Function{Handler: h}, ids...)
}

// Aux hosts fn under name in every run: a chained-invoke target, with no
// requirement of its own. Handlers resolve it with [Env.FunctionName].
// name must be a valid Lambda function name (1 to 64 of [a-zA-Z0-9-_]).
func (r *Registry) Aux(name string, fn Function) {
	f := fn
	r.aux[name] = &f
}

// NotImplemented declares id a deliberate gap, with the reason reports give.
// The first reason wins.
func (r *Registry) NotImplemented(id, reason string) {
	if _, ok := r.notImplemented[id]; !ok {
		r.notImplemented[id] = reason
	}
}

// Lookup returns the function mapped to id.
func (r *Registry) Lookup(id string) (Function, bool) {
	f, ok := r.functions[id]
	if !ok {
		return Function{}, false
	}
	return *f, true
}

// IDs returns the mapped requirement IDs, sorted.
func (r *Registry) IDs() []string {
	return slices.Sorted(maps.Keys(r.functions))
}

// Clone returns an independent copy of r, e.g. to replace one handler in a
// test.
func (r *Registry) Clone() *Registry {
	c := NewRegistry()
	for id, f := range r.functions {
		c.functions[id] = f
	}
	maps.Copy(c.aux, r.aux)
	maps.Copy(c.notImplemented, r.notImplemented)
	return c
}

// For returns a copy of r that maps only the given requirements (auxiliary
// functions are kept), for a run of a selection: the IDs left out are then
// not reported as "test file not found".
func (r *Registry) For(reqs []*Requirement) *Registry {
	c := NewRegistry()
	maps.Copy(c.aux, r.aux)
	for _, req := range reqs {
		if f, ok := r.functions[req.ID]; ok {
			c.functions[req.ID] = f
		}
		if reason, ok := r.notImplemented[req.ID]; ok {
			c.notImplemented[req.ID] = reason
		}
	}
	return c
}

// Env is what a [HandlerFunc] receives: the run's service and capture sinks.
type Env struct {
	// ID is the requirement being run.
	ID string
	// API is the in-process client of the run's service: the durable API
	// the handler checkpoints through, and the Lambda API for anything else
	// a handler needs from the service.
	API *local.Client
	// Logger is the base logger for durable.Logger: Lambda's JSON log format
	// (adapters.NewLogger) written to the run's log sink.
	Logger *slog.Logger
	// Logs is the log sink itself. Plugins write raw JSON lines to it, one
	// object a line, as they would to stdout on Lambda.
	Logs io.Writer
	// TracerProvider exports to the run's in-memory span exporter, with the
	// durable ID generator and the service.name resource.
	TracerProvider trace.TracerProvider
	// ServiceName is the OpenTelemetry service name.
	ServiceName string

	environment map[string]string
	functions   map[string]string
}

// Getenv returns the function's environment variable key.
func (e *Env) Getenv(key string) string { return e.environment[key] }

// FunctionName returns the name to invoke the auxiliary function aux by.
// It panics if the registry hosts no such function, a setup error.
func (e *Env) FunctionName(aux string) string {
	name, ok := e.functions[aux]
	if !ok {
		panic(fmt.Sprintf("conformance: no auxiliary function %q is registered", aux))
	}
	return name
}

// Wrap makes h durable on the run's service: middleware.Wrap with the
// service's API and the run's logger, then opts.
func (e *Env) Wrap(h lambda.Handler, opts ...middleware.Option) lambda.Handler {
	base := []middleware.Option{middleware.WithAPI(e.API), middleware.WithLogger(e.Logger)}
	return middleware.Wrap(h, append(base, opts...)...)
}
