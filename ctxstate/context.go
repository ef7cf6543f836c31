package ctxstate

import "context"

type frameKey struct{}

// NewContext returns a copy of parent that carries f. Durable operations find
// their frame in it at any depth.
func NewContext(parent context.Context, f *Frame) context.Context {
	return context.WithValue(parent, frameKey{}, f)
}

// FromContext returns the frame ctx carries, if any.
func FromContext(ctx context.Context) (*Frame, bool) {
	f, ok := ctx.Value(frameKey{}).(*Frame)
	return f, ok && f != nil
}
