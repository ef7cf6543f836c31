package durable

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Now returns the current time, recorded: the first invocation that reaches
// it records the time of the execution's clock as a step (named
// "durable.Now"), and every replay returns that same time. Use it instead of
// time.Now in durable code, where a different time on each replay would
// steer the code down a different path. The time is in UTC.
//
// Inside a step function Now returns the clock's time without recording it:
// the step's result is what is recorded.
func Now(ctx context.Context) (time.Time, error) {
	f, err := frameOf(ctx)
	if err != nil {
		return time.Time{}, err
	}
	exec := f.Execution()
	if _, inStep := f.Step(); inStep {
		return exec.Now().UTC(), nil
	}
	return Step(ctx, "durable.Now", func(context.Context) (time.Time, error) {
		return exec.Now().UTC(), nil
	}, WithRetry(NoRetry))
}

// UUID returns a version 5 (name-based) UUID that is the same on every
// replay and different for every call in every execution. It needs no
// checkpoint: it is derived from the execution ARN, the durable context ctx
// belongs to, and the number of replay-safe values ([UUID], [Rand]) drawn in
// that context before it. It does not take an operation position, so adding
// or removing UUID calls does not disturb the ids of operations.
//
// Values stay the same across replays as long as the code draws them in the
// same order, like operations: draw them on the goroutine of their durable
// context. Inside a step function values derive from the step and are the
// same on every attempt, which makes them idempotency keys.
func UUID(ctx context.Context) (string, error) {
	seed, err := valueSeed(ctx)
	if err != nil {
		return "", err
	}
	return uuidV5(seed), nil
}

// Rand returns a random number generator seeded the same way on every
// replay, for durable code that needs random choices: it draws the same
// numbers on every invocation. Its seed is derived like [UUID]'s, without a
// checkpoint or an operation position. The generator is not safe for
// concurrent use and is not suitable for secrets.
func Rand(ctx context.Context) (*rand.Rand, error) {
	seed, err := valueSeed(ctx)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(seed))
	return rand.New(rand.NewPCG(binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:16]))), nil
}

// valueSeed names the next replay-safe value of the frame ctx carries:
// execution ARN, scope and number. The scope is the frame's positional id,
// or the step's operation id inside a step function, whose frame shares its
// parent's position.
func valueSeed(ctx context.Context) (string, error) {
	f, err := frameOf(ctx)
	if err != nil {
		return "", err
	}
	scope := "context:" + f.Path()
	if s, ok := f.Step(); ok {
		scope = "step:" + s.ID
	}
	return f.Execution().ARN() + "\x00" + scope + "\x00" + strconv.Itoa(f.NextValue()), nil
}

// uuidNamespace is the namespace of the name-based UUIDs of UUID.
var uuidNamespace = uuid.UUID{0x6b, 0x1c, 0x4f, 0x0e, 0x9a, 0x2d, 0x4b, 0x57, 0x8e, 0x13, 0x0c, 0x5d, 0x77, 0x1a, 0x3e, 0x90}

// uuidV5 returns the RFC 9562 version 5 UUID of name in uuidNamespace.
func uuidV5(name string) string {
	return uuid.NewSHA1(uuidNamespace, []byte(name)).String()
}
