package durable_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/durabletest"
)

// Go starts a branch in a child context of its own; Await returns its
// result. The handler's own context stays free meanwhile.
func ExampleGo() {
	handler := func(ctx context.Context, _ any) (string, error) {
		quote := durable.Go(ctx, "quote", func(ctx context.Context) (int, error) {
			return durable.Step(ctx, "price", func(ctx context.Context) (int, error) { return 42, nil })
		})
		user, err := durable.Step(ctx, "user", func(ctx context.Context) (string, error) { return "ada", nil })
		if err != nil {
			return "", err
		}
		price, err := quote.Await(ctx)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s pays %d", user, price), nil
	}
	t := newT()
	defer t.cleanup()
	res := durabletest.Run(t, handler, nil)
	fmt.Println(res.Status, res.Output)
	// Output: SUCCEEDED ada pays 42
}

// All waits for every future and returns their results in order, or the
// first error in argument order.
func ExampleAll() {
	handler := func(ctx context.Context, cities []string) ([]string, error) {
		var forecasts []*durable.Future[string]
		for _, city := range cities {
			forecasts = append(forecasts, durable.Go(ctx, city, func(ctx context.Context) (string, error) {
				return durable.Step(ctx, "fetch", func(ctx context.Context) (string, error) {
					return city + ": sunny", nil
				})
			}))
		}
		return durable.All(ctx, forecasts...)
	}
	t := newT()
	defer t.cleanup()
	res := durabletest.Run(t, handler, []string{"Lisbon", "Oslo"})
	fmt.Println(res.Status, res.Output)
	// Output: SUCCEEDED [Lisbon: sunny Oslo: sunny]
}

// Race returns the outcome of the first future to finish, and records
// which one it was, so that replay returns the same.
func ExampleRace() {
	var winners []string // the race's outcome, on each invocation
	handler := func(ctx context.Context, _ any) (string, error) {
		late := make(chan struct{}) // the primary answers once the race is over
		defer close(late)
		primary := durable.Go(ctx, "primary", func(ctx context.Context) (string, error) {
			<-late
			return "primary", nil
		})
		replica := durable.Go(ctx, "replica", func(ctx context.Context) (string, error) {
			return "replica", nil
		})
		winner, err := durable.Race(ctx, "first answer", primary, replica)
		if err != nil {
			return "", err
		}
		winners = append(winners, winner)
		if err := durable.Wait(ctx, "pause", time.Minute); err != nil {
			return "", err // suspended: the next invocation replays the race
		}
		return winner, nil
	}

	t := newT()
	defer t.cleanup()
	res := durabletest.Run(t, handler, nil)
	fmt.Println(res.Status, res.Output, "on each invocation:", winners)
	// Output: SUCCEEDED replica on each invocation: [replica replica]
}

// Map runs a function over items, concurrently, each item in a child
// context of its own. A failed item does not fail the map: the result
// records it.
func ExampleMap() {
	handler := func(ctx context.Context, files []string) (string, error) {
		r, err := durable.Map(ctx, "resize", files, func(ctx context.Context, file string, i int) (string, error) {
			return durable.Step(ctx, "resize", func(ctx context.Context) (string, error) {
				if !strings.HasSuffix(file, ".png") {
					return "", errors.New("not a png: " + file)
				}
				return "small-" + file, nil
			}, durable.WithRetry(durable.NoRetry))
		}, durable.WithMaxConcurrency(2))
		if err != nil {
			return "", err // suspension or an invalid option
		}
		return fmt.Sprintf("%s: %v, %d failed", r.CompletionReason, r.Values(), r.FailureCount()), nil
	}
	t := newT()
	defer t.cleanup()
	res := durabletest.Run(t, handler, []string{"a.png", "b.txt", "c.png"})
	fmt.Println(res.Status, res.Output)
	// Output: SUCCEEDED ALL_COMPLETED: [small-a.png small-c.png], 1 failed
}

// WithMinSuccessful completes a map early: items not started by then
// never run.
func ExampleWithMinSuccessful() {
	handler := func(ctx context.Context, _ any) (string, error) {
		mirrors := []string{"eu", "us", "ap"}
		r, err := durable.Map(ctx, "download", mirrors, func(ctx context.Context, m string, _ int) (string, error) {
			return "from " + m, nil
		}, durable.WithMinSuccessful(1), durable.WithMaxConcurrency(1))
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s %v (%d of %d started)", r.CompletionReason, r.Values(), r.TotalCount(), len(mirrors)), nil
	}
	t := newT()
	defer t.cleanup()
	res := durabletest.Run(t, handler, nil)
	fmt.Println(res.Status, res.Output)
	// Output: SUCCEEDED MIN_SUCCESSFUL_REACHED [from eu] (1 of 3 started)
}

// Parallel runs different branches concurrently. Err turns item failures
// into an error when the handler needs every branch.
func ExampleParallel() {
	handler := func(ctx context.Context, orderID string) ([]string, error) {
		r, err := durable.Parallel(ctx, "fulfil", []durable.Branch[string]{
			{Name: "ship", Fn: func(ctx context.Context) (string, error) {
				return durable.Step(ctx, "label", func(ctx context.Context) (string, error) { return "shipped " + orderID, nil })
			}},
			{Name: "bill", Fn: func(ctx context.Context) (string, error) {
				return durable.Step(ctx, "invoice", func(ctx context.Context) (string, error) { return "billed " + orderID, nil })
			}},
		})
		if err != nil {
			return nil, err
		}
		if err := r.Err(); err != nil {
			return nil, err
		}
		return r.Values(), nil
	}
	t := newT()
	defer t.cleanup()
	res := durabletest.Run(t, handler, "o-7")
	fmt.Println(res.Status, res.Output)
	// Output: SUCCEEDED [shipped o-7 billed o-7]
}

// Retry runs a group of operations again after a durable wait when it
// fails: here a reservation and its confirmation, retried together.
func ExampleRetry() {
	tries := 0 // attempts that ran; a recorded attempt does not run again
	handler := func(ctx context.Context, _ any) (string, error) {
		return durable.Retry(ctx, "book", func(ctx context.Context) (string, error) {
			tries++
			seat, err := durable.Step(ctx, "reserve", func(ctx context.Context) (string, error) { return "12A", nil })
			if err != nil {
				return "", err
			}
			return durable.Step(ctx, "confirm", func(ctx context.Context) (string, error) {
				if tries == 1 {
					return "", errors.New("seat taken")
				}
				return "confirmed " + seat, nil
			}, durable.WithRetry(durable.NoRetry))
		}, durable.RetryPolicy{MaxAttempts: 3, InitialDelay: time.Minute, Jitter: durable.NoJitter})
	}
	t := newT()
	defer t.cleanup()
	res := durabletest.Run(t, handler, nil)
	fmt.Println(res.Status, res.Output)
	fmt.Println("after", tries, "attempts and", res.Invocations(), "invocations")
	// Output:
	// SUCCEEDED confirmed 12A
	// after 2 attempts and 2 invocations
}
