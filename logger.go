package durable

import (
	"context"
	"log/slog"

	"github.com/durablectx/durable/ctxstate"
)

// Logger returns a logger for durable code running with ctx. It writes
// nothing while the code replays (so each line appears once across all
// invocations) and adds the execution ARN (durableExecutionArn), and inside a
// step the operation id and name and the attempt. The base logger is the
// one given to the middleware (middleware.WithLogger), else slog.Default.
// Outside a durable execution it returns slog.Default().
func Logger(ctx context.Context) *slog.Logger {
	f, ok := ctxstate.FromContext(ctx)
	if !ok {
		return slog.Default()
	}
	exec := f.Execution()
	base := exec.Logger()
	h := &boundHandler{next: ReplayAware(base.Handler()), ctx: ctx}
	attrs := []slog.Attr{slog.String("durableExecutionArn", exec.ARN())}
	if s, ok := f.Step(); ok {
		attrs = append(attrs,
			slog.String("operationId", s.ID),
			slog.String("operationName", s.Name),
			slog.Int("attempt", s.Attempt))
	} else if id := f.ID(); id != "" {
		attrs = append(attrs, slog.String("parentId", id))
	}
	return slog.New(h.WithAttrs(attrs))
}

// ReplayAware is slog handler middleware that drops records logged with a
// context whose durable code is replaying. It re-wraps on WithAttrs and
// WithGroup, so it composes with slog-multi's Pipe and any other handler
// chain. Records logged with a context that carries no execution pass.
func ReplayAware(next slog.Handler) slog.Handler {
	if r, ok := next.(*replayHandler); ok {
		return r
	}
	return &replayHandler{next: next}
}

type replayHandler struct{ next slog.Handler }

func (h *replayHandler) Enabled(ctx context.Context, l slog.Level) bool {
	if f, ok := ctxstate.FromContext(ctx); ok && f.Replaying() {
		return false
	}
	return h.next.Enabled(ctx, l)
}

func (h *replayHandler) Handle(ctx context.Context, r slog.Record) error {
	if f, ok := ctxstate.FromContext(ctx); ok && f.Replaying() {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *replayHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &replayHandler{next: h.next.WithAttrs(as)}
}

func (h *replayHandler) WithGroup(name string) slog.Handler {
	return &replayHandler{next: h.next.WithGroup(name)}
}

// boundHandler hands its own context to the next handler when a record comes
// without a durable one (logger.Info rather than logger.InfoContext).
type boundHandler struct {
	next slog.Handler
	ctx  context.Context
}

func (h *boundHandler) pick(ctx context.Context) context.Context {
	if _, ok := ctxstate.FromContext(ctx); ok {
		return ctx
	}
	return h.ctx
}

func (h *boundHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(h.pick(ctx), l)
}

func (h *boundHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.next.Handle(h.pick(ctx), r)
}

func (h *boundHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &boundHandler{next: h.next.WithAttrs(as), ctx: h.ctx}
}

func (h *boundHandler) WithGroup(name string) slog.Handler {
	return &boundHandler{next: h.next.WithGroup(name), ctx: h.ctx}
}
