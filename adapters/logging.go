package adapters

import (
	"context"
	"io"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambdacontext"
	slogmulti "github.com/samber/slog-multi"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/ctxstate"
)

// LogOption configures [NewLogger] and [NewLogHandler].
type LogOption interface{ applyLog(*logConfig) }

type logConfig struct {
	w        io.Writer
	level    slog.Leveler
	handlers []slog.Handler
}

type logOptionFunc func(*logConfig)

func (f logOptionFunc) applyLog(c *logConfig) { f(c) }

// WithLogWriter sets where the JSON lines go; the default is os.Stdout,
// which Lambda sends to CloudWatch Logs.
func WithLogWriter(w io.Writer) LogOption {
	return logOptionFunc(func(c *logConfig) { c.w = w })
}

// WithLogLevel sets the least level of the JSON lines; the default is
// Lambda's AWS_LAMBDA_LOG_LEVEL (DEBUG, INFO, WARN or ERROR), else INFO.
func WithLogLevel(l slog.Leveler) LogOption {
	return logOptionFunc(func(c *logConfig) { c.level = l })
}

// WithLogHandlers adds handlers that receive every record too, with the
// same attributes: a handler for another destination, an OpenTelemetry
// log bridge.
func WithLogHandlers(hs ...slog.Handler) LogOption {
	return logOptionFunc(func(c *logConfig) { c.handlers = append(c.handlers, hs...) })
}

// NewLogger returns the production logger of a durable function, for
// middleware.WithLogger or slog.SetDefault:
//
//	middleware.Durable(middleware.WithLogger(adapters.NewLogger()))
//
// See [NewLogHandler].
func NewLogger(opts ...LogOption) *slog.Logger { return slog.New(NewLogHandler(opts...)) }

// NewLogHandler returns the handler of [NewLogger]. It writes one JSON object
// a line in Lambda's format (timestamp, level, message, requestId: the
// format of lambdacontext.NewLogHandler, which it uses when Lambda's log
// format is JSON), fanned out with slog-multi to the handlers of
// [WithLogHandlers]. Records logged with a durable context carry, at the top
// level of the object, durableExecutionArn and, inside a step, operationId,
// operationName and attempt: the fields CloudWatch filters on, e.g.
// { $.durableExecutionArn = "arn:..." }. [durable.Logger] adds them itself;
// this handler adds them to records logged with the context directly
// (slog.InfoContext(ctx, ...)), unless the logger has groups. Records logged
// while durable code replays are dropped ([durable.ReplayAware]), so each
// line appears once across invocations.
func NewLogHandler(opts ...LogOption) slog.Handler {
	var c logConfig
	for _, o := range opts {
		o.applyLog(&c)
	}
	var lambda slog.Handler
	if c.w == nil && c.level == nil && os.Getenv("AWS_LAMBDA_LOG_FORMAT") == "JSON" {
		lambda = lambdacontext.NewLogHandler()
	} else {
		lambda = jsonHandler(c.w, c.level)
	}
	return slogmulti.
		Pipe(durable.ReplayAware, executionAttrs).
		Handler(slogmulti.Fanout(append([]slog.Handler{lambda}, c.handlers...)...))
}

// jsonHandler writes Lambda's JSON log format with lambdacontext's keys
// (timestamp, message) and request id.
func jsonHandler(w io.Writer, level slog.Leveler) slog.Handler {
	if w == nil {
		w = os.Stdout
	}
	if level == nil {
		level = lambdaLevel(os.Getenv("AWS_LAMBDA_LOG_LEVEL"))
	}
	return &requestIDHandler{next: slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: lambdacontext.ReplaceAttr})}
}

func lambdaLevel(s string) slog.Level {
	switch s {
	case "DEBUG":
		return slog.LevelDebug
	case "WARN":
		return slog.LevelWarn
	case "ERROR":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// requestIDHandler adds Lambda's request id, as lambdacontext's handler does.
type requestIDHandler struct{ next slog.Handler }

func (h *requestIDHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
	}
	return h.next.Handle(ctx, r)
}

func (h *requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &requestIDHandler{next: h.next.WithAttrs(as)}
}

func (h *requestIDHandler) WithGroup(name string) slog.Handler {
	return &requestIDHandler{next: h.next.WithGroup(name)}
}

// executionAttrs adds the durable fields to records logged with a durable
// context, unless the logger carries them already (durable.Logger) or has
// groups (the fields would not be at the top level).
func executionAttrs(next slog.Handler) slog.Handler { return &executionHandler{next: next} }

type executionHandler struct {
	next    slog.Handler
	bound   bool // the fields came with WithAttrs
	grouped bool
}

func (h *executionHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *executionHandler) Handle(ctx context.Context, r slog.Record) error {
	if !h.bound && !h.grouped {
		if f, ok := ctxstate.FromContext(ctx); ok {
			r.AddAttrs(slog.String("durableExecutionArn", f.Execution().ARN()))
			if s, ok := f.Step(); ok {
				r.AddAttrs(slog.String("operationId", s.ID), slog.String("operationName", s.Name), slog.Int("attempt", s.Attempt))
			}
		}
	}
	return h.next.Handle(ctx, r)
}

func (h *executionHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(as)
	if !h.grouped {
		for _, a := range as {
			if a.Key == "durableExecutionArn" {
				c.bound = true
			}
		}
	}
	return &c
}

func (h *executionHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	if name != "" {
		c.grouped = true
	}
	return &c
}
