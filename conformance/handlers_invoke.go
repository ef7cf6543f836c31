package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/durablectx/durable"
)

// Suite invoke (5-x): chained invokes of auxiliary functions hosted by the
// driver: "echo" returns its input, "fail" fails, "measure" reports the size
// of its input.

// Names of the chained-invoke targets.
const (
	echoFunction    = "echo"
	failFunction    = "fail"
	measureFunction = "measure"
)

func registerInvoke(r *Registry) {
	r.Aux(echoFunction, Function{Handler: durableFunc(echoTarget)})
	r.Aux(failFunction, Function{Handler: durableFunc(failingTarget)})
	r.Aux(measureFunction, Function{Handler: durableFunc(measureTarget)})

	r.HandleFunc(envFunc(invokeEcho), "5-1", "5-3")
	r.HandleFunc(envFunc(invokeNamed), "5-2")
	r.HandleFunc(envFunc(invokeFailingTarget), "5-5")
	r.HandleFunc(envFunc(invokeFailureCaught), "5-6")
	r.HandleFunc(envFunc(invokeLargePayload), "5-7")
	r.HandleFunc(envFunc(invokeThenWait), "5-9")
	r.HandleFunc(envFunc(stepThenInvoke), "5-11")
	r.HandleFunc(envFunc(invokeThenStep), "5-12")
	r.HandleFunc(envFunc(twoInvokes), "5-14")
	r.HandleFunc(envFunc(invokeWithPayloadSerdes), "5-15")
}

// echoTarget returns its input.
func echoTarget(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
	if len(in) == 0 {
		return json.RawMessage("null"), nil
	}
	return in, nil
}

// failingTarget always fails.
func failingTarget(context.Context, json.RawMessage) (any, error) {
	return nil, errors.New("the invoked function failed")
}

type measurement struct {
	Length int `json:"length"`
}

// measureTarget reports the length of the string it receives.
func measureTarget(_ context.Context, in string) (measurement, error) {
	return measurement{Length: len(in)}, nil
}

// 5-1, 5-3: invoke echo with the input and return its result.
func invokeEcho(env *Env) func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
	return func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
		return durable.Invoke[json.RawMessage](ctx, "echo", env.FunctionName(echoFunction), in)
	}
}

type namedPayload struct {
	Name    string `json:"name"`
	Payload string `json:"payload"`
}

// 5-2: the invoke is named after the input's name and sends its payload.
func invokeNamed(env *Env) func(ctx context.Context, in namedPayload) (string, error) {
	return func(ctx context.Context, in namedPayload) (string, error) {
		return durable.Invoke[string](ctx, in.Name, env.FunctionName(echoFunction), in.Payload)
	}
}

// 5-5: the target fails; the execution fails with the InvokeError.
func invokeFailingTarget(env *Env) func(ctx context.Context, _ any) (any, error) {
	return func(ctx context.Context, _ any) (any, error) {
		return durable.Invoke[any](ctx, "failing-invoke", env.FunctionName(failFunction), nil)
	}
}

// 5-6: the target fails; the InvokeError is caught and a fallback returned.
func invokeFailureCaught(env *Env) func(ctx context.Context, _ any) (string, error) {
	return func(ctx context.Context, _ any) (string, error) {
		_, err := durable.Invoke[any](ctx, "failing-invoke", env.FunctionName(failFunction), nil)
		var ie *durable.InvokeError
		if errors.As(err, &ie) {
			return "fallback", nil
		}
		if err != nil {
			return "", err
		}
		return "", errors.New("the failing target succeeded")
	}
}

// largePayloadSize is the size of 5-7's payload: near the 256 KiB payload
// limit of asynchronous Lambda invocations, well under the service's 1 MiB
// operation limit.
const largePayloadSize = 250 * 1024

// 5-7: invoke a target with a large payload; it reports the size.
func invokeLargePayload(env *Env) func(ctx context.Context, _ any) (measurement, error) {
	return func(ctx context.Context, _ any) (measurement, error) {
		m, err := durable.Invoke[measurement](ctx, "large-invoke", env.FunctionName(measureFunction), strings.Repeat("x", largePayloadSize))
		if err != nil {
			return measurement{}, err
		}
		if m.Length != largePayloadSize {
			return m, fmt.Errorf("the target received %d bytes, want %d", m.Length, largePayloadSize)
		}
		return m, nil
	}
}

// 5-9: an invoke, then a 1-second wait; replay returns the recorded result.
func invokeThenWait(env *Env) func(ctx context.Context, _ any) (string, error) {
	return func(ctx context.Context, _ any) (string, error) {
		v, err := durable.Invoke[string](ctx, "invoke", env.FunctionName(echoFunction), "cached")
		if err != nil {
			return "", err
		}
		if err := durable.Wait(ctx, "wait", time.Second); err != nil {
			return "", err
		}
		return v, nil
	}
}

// 5-11: a step, then an invoke of its result.
func stepThenInvoke(env *Env) func(ctx context.Context, _ any) (string, error) {
	return func(ctx context.Context, _ any) (string, error) {
		v, err := echoStep(ctx, "prepare", "prepared")
		if err != nil {
			return "", err
		}
		return durable.Invoke[string](ctx, "invoke", env.FunctionName(echoFunction), v)
	}
}

// 5-12: an invoke, then a step processing its result.
func invokeThenStep(env *Env) func(ctx context.Context, _ any) (string, error) {
	return func(ctx context.Context, _ any) (string, error) {
		v, err := durable.Invoke[string](ctx, "invoke", env.FunctionName(echoFunction), "invoked")
		if err != nil {
			return "", err
		}
		return durable.Step(ctx, "process", func(context.Context) (string, error) { return "processed:" + v, nil })
	}
}

// 5-14: two invokes, one after the other.
func twoInvokes(env *Env) func(ctx context.Context, _ any) ([]string, error) {
	return func(ctx context.Context, _ any) ([]string, error) {
		a, err := durable.Invoke[string](ctx, "first", env.FunctionName(echoFunction), "one")
		if err != nil {
			return nil, err
		}
		b, err := durable.Invoke[string](ctx, "second", env.FunctionName(echoFunction), "two")
		if err != nil {
			return nil, err
		}
		return []string{a, b}, nil
	}
}

// upperSerdes serializes a payload as upper-cased JSON.
type upperSerdes struct{}

func (upperSerdes) Serialize(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return strings.ToUpper(string(b)), nil
}

func (upperSerdes) Deserialize(data string, ptr any) error {
	return json.Unmarshal([]byte(data), ptr)
}

// 5-15: the payload goes through a custom serdes that upper-cases it; the
// echo target returns what it received.
func invokeWithPayloadSerdes(env *Env) func(ctx context.Context, in map[string]any) (map[string]any, error) {
	return func(ctx context.Context, in map[string]any) (map[string]any, error) {
		return durable.Invoke[map[string]any](ctx, "upper-invoke", env.FunctionName(echoFunction), in, durable.WithPayloadSerdes(upperSerdes{}))
	}
}
