package conformance

import (
	"context"
	"time"

	"github.com/durablectx/durable"
)

// Suite wait (2-x): durable waits.

func registerWait(r *Registry) {
	r.HandleFunc(durableFunc(waitTwoSeconds), "2-1")
	r.HandleFunc(durableFunc(namedWait), "2-2")
	r.HandleFunc(durableFunc(waitOneMinute), "2-4")
}

// 2-1: one 2-second wait.
func waitTwoSeconds(ctx context.Context, _ any) (any, error) {
	return nil, durable.Wait(ctx, "", 2*time.Second)
}

// 2-2: one 2-second wait named custom_wait_name.
func namedWait(ctx context.Context, _ any) (any, error) {
	return nil, durable.Wait(ctx, "custom_wait_name", 2*time.Second)
}

// 2-4: a wait of one minute, recorded as 60 seconds.
func waitOneMinute(ctx context.Context, _ any) (any, error) {
	return nil, durable.Wait(ctx, "", time.Minute)
}
