package middleware

import (
	"testing"

	"github.com/durablectx/durable/ctxstate"
)

// Hooks without callbacks are no hooks: the execution gets nil, and every
// hook site is one comparison.
func TestHooksWithoutCallbacksAreNoHooks(t *testing.T) {
	if combineHooks(nil) != nil || combineHooks([]*ctxstate.Hooks{{}, {}}) != nil {
		t.Fatal("empty hooks were combined into hooks")
	}
	c := combineHooks([]*ctxstate.Hooks{{}, {OperationEnd: func(ctxstate.OperationInfo) {}}})
	if c == nil || c.OperationEnd == nil || c.OperationStart != nil || c.AttemptContext != nil {
		t.Fatalf("combined %+v", c)
	}
}
