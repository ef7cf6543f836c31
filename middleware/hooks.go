package middleware

import (
	"context"

	"github.com/durablectx/durable/ctxstate"
)

// combineHooks fans hooks out, each isolated from the others' panics. It
// returns nil when there is nothing to call, so the hot path stays free.
func combineHooks(hs []*ctxstate.Hooks) *ctxstate.Hooks {
	if len(hs) == 0 {
		return nil
	}
	var c ctxstate.Hooks
	c.InvocationStart = fanOut(hs, func(h *ctxstate.Hooks) func(ctxstate.InvocationInfo) { return h.InvocationStart })
	c.InvocationEnd = fanOut(hs, func(h *ctxstate.Hooks) func(ctxstate.InvocationInfo) { return h.InvocationEnd })
	c.OperationStart = fanOut(hs, func(h *ctxstate.Hooks) func(ctxstate.OperationInfo) { return h.OperationStart })
	c.OperationEnd = fanOut(hs, func(h *ctxstate.Hooks) func(ctxstate.OperationInfo) { return h.OperationEnd })
	c.AttemptStart = fanOut(hs, func(h *ctxstate.Hooks) func(ctxstate.OperationInfo) { return h.AttemptStart })
	c.AttemptEnd = fanOut(hs, func(h *ctxstate.Hooks) func(ctxstate.OperationInfo) { return h.AttemptEnd })
	c.FunctionStart = fanOut(hs, func(h *ctxstate.Hooks) func(ctxstate.OperationInfo) { return h.FunctionStart })
	c.FunctionEnd = fanOut(hs, func(h *ctxstate.Hooks) func(ctxstate.OperationInfo) { return h.FunctionEnd })
	c.OperationChange = fanOut(hs, func(h *ctxstate.Hooks) func(ctxstate.OperationChangeInfo) { return h.OperationChange })
	c.AttemptContext = chainContexts(hs)
	if c.InvocationStart == nil && c.InvocationEnd == nil && c.OperationStart == nil && c.OperationEnd == nil &&
		c.AttemptStart == nil && c.AttemptEnd == nil && c.FunctionStart == nil && c.FunctionEnd == nil &&
		c.OperationChange == nil && c.AttemptContext == nil {
		return nil
	}
	return &c
}

// chainContexts applies every AttemptContext in order; one that panics or
// returns nil leaves the context as it was.
func chainContexts(hs []*ctxstate.Hooks) func(context.Context, ctxstate.OperationInfo) context.Context {
	var fns []func(context.Context, ctxstate.OperationInfo) context.Context
	for _, h := range hs {
		if h.AttemptContext != nil {
			fns = append(fns, h.AttemptContext)
		}
	}
	if len(fns) == 0 {
		return nil
	}
	return func(ctx context.Context, info ctxstate.OperationInfo) context.Context {
		for _, f := range fns {
			ctx = safeContext(f, ctx, info)
		}
		return ctx
	}
}

func safeContext(f func(context.Context, ctxstate.OperationInfo) context.Context, ctx context.Context, info ctxstate.OperationInfo) (out context.Context) {
	out = ctx
	defer func() {
		if recover() != nil {
			out = ctx
		}
	}()
	if c := f(ctx, info); c != nil {
		out = c
	}
	return out
}

func fanOut[I any](hs []*ctxstate.Hooks, pick func(*ctxstate.Hooks) func(I)) func(I) {
	var fns []func(I)
	for _, h := range hs {
		if f := pick(h); f != nil {
			fns = append(fns, f)
		}
	}
	if len(fns) == 0 {
		return nil
	}
	return func(info I) {
		for _, f := range fns {
			safeCall(f, info)
		}
	}
}

func safeCall[I any](f func(I), info I) {
	defer func() { _ = recover() }()
	f(info)
}
