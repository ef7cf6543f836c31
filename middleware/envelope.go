package middleware

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Envelope is the event Lambda sends a durable function
// (DurableExecutionInvocationInput). Timestamps in it are epoch
// milliseconds; DecodeEnvelope turns them into the API's types.
type Envelope struct {
	DurableExecutionArn   string
	CheckpointToken       string
	InitialExecutionState struct {
		Operations []types.Operation
		NextMarker string
	}
	UpdatedOperationIds []string
}

type wireError struct {
	ErrorType    *string
	ErrorMessage *string
	ErrorData    *string
	StackTrace   []string
}

// ErrNotDurable is returned for a payload that is not a durable envelope.
var ErrNotDurable = fmt.Errorf("durable: the event is not a durable execution envelope (no DurableExecutionArn and CheckpointToken): " +
	"the function is probably not configured as durable; enable durable execution in its configuration " +
	"(DurableConfig in the CreateFunction API, SAM or CDK), or remove middleware.Durable")

// DecodeEnvelope parses a durable invocation event. A payload that is not
// a durable envelope gives an error wrapping [ErrNotDurable].
func DecodeEnvelope(payload []byte) (*Envelope, error) {
	var env Envelope
	d := decoder{data: payload, src: string(payload)}
	d.skipSpace()
	if d.peek() != '{' {
		return nil, ErrNotDurable
	}
	it := d.beginObject()
	for it.next() {
		var err error
		var s *string
		switch string(it.key) {
		case "DurableExecutionArn":
			if s, err = d.str(); s != nil {
				env.DurableExecutionArn = *s
			}
		case "CheckpointToken":
			if s, err = d.str(); s != nil {
				env.CheckpointToken = *s
			}
		case "InitialExecutionState":
			state := d.beginObject()
			for state.next() {
				switch string(state.key) {
				case "Operations":
					env.InitialExecutionState.Operations, err = d.operations()
				case "NextMarker":
					if s, err = d.str(); s != nil {
						env.InitialExecutionState.NextMarker = *s
					}
				default:
					err = d.skip()
				}
				state.fail(err)
			}
			err = state.err
		case "UpdatedOperationIds":
			env.UpdatedOperationIds, err = d.stringList()
		default:
			err = d.skip()
		}
		it.fail(err)
	}
	err := it.err
	if err == nil {
		err = d.end()
	}
	if err != nil {
		if env.DurableExecutionArn == "" {
			return nil, fmt.Errorf("%w: %v", ErrNotDurable, err)
		}
		return nil, fmt.Errorf("durable: malformed durable execution envelope: %w", err)
	}
	if env.DurableExecutionArn == "" || env.CheckpointToken == "" {
		return nil, ErrNotDurable
	}
	return &env, nil
}

// Output is the answer of a durable invocation (DurableExecutionInvocationOutput).
type Output struct {
	Status string     `json:"Status"`
	Result *string    `json:"Result,omitempty"`
	Error  *wireError `json:"Error,omitempty"`
}
