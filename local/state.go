package local

import (
	"context"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// The state the handler reads (the invocation input and
// GetDurableExecutionState) lists the operations in start order, the
// EXECUTION operation first, without the descendants of completed contexts
// whose children are not replayed (protocol.md §3.8).
//
// Pages are cut by count (MaxItems) and by size (pageBytes, 5 MiB by
// default, like the official emulator's invocation input). A marker is the
// start sequence number of the next operation, so it stays valid while the
// execution grows.

// opSize estimates the encoded size of o.
func opSize(o *operation) int {
	n := 256 + len(o.ID) + len(o.ParentID) + len(o.Name) + len(o.CallbackID)
	if o.Input != nil {
		n += len(*o.Input)
	}
	if o.Result != nil {
		n += len(*o.Result)
	}
	return n + errorSize(o.Error)
}

// page returns up to max visible operations starting at sequence from, and
// the marker of the next page ("" if none). e.mu must be held.
func (s *Service) page(e *execution, from int64, max int) ([]*operation, string) {
	var out []*operation
	size := 0
	i := sort.Search(len(e.ops), func(i int) bool { return e.ops[i].Seq >= from })
	for ; i < len(e.ops); i++ {
		o := e.ops[i]
		if o.hidden() {
			continue
		}
		n := opSize(o)
		if len(out) > 0 && (len(out) >= max || size+n > s.cfg.pageBytes) {
			return out, strconv.FormatInt(o.Seq, 10)
		}
		out = append(out, o)
		size += n
	}
	return out, ""
}

// envelope builds the invocation input (protocol.md §1.1) and marks every
// operation as seen by the handler. e.mu must be held.
func (s *Service) envelope(e *execution, token string) []byte {
	ops, next := s.page(e, 0, 1<<30)
	var updated []string
	for _, o := range e.takeDirty() {
		if o.Seq != 0 {
			updated = append(updated, o.ID)
		}
	}
	b := make([]byte, 0, 512)
	b = append(b, `{"DurableExecutionArn":`...)
	b = appendString(b, e.ARN)
	b = append(b, `,"CheckpointToken":`...)
	b = appendString(b, token)
	b = append(b, `,"InitialExecutionState":{"Operations":[`...)
	for i, o := range ops {
		if i > 0 {
			b = append(b, ',')
		}
		api := o.api()
		b = appendJSON(b, &api, epochMillis)
	}
	b = append(b, `],"NextMarker":`...)
	b = appendString(b, next)
	b = append(b, '}')
	if len(updated) > 0 {
		b = append(b, `,"UpdatedOperationIds":`...)
		b = appendJSON(b, updated, epochMillis)
	}
	return append(b, '}')
}

// state implements GetDurableExecutionState. It validates the token but does
// not rotate it.
func (s *Service) state(_ context.Context, in *lambda.GetDurableExecutionStateInput) (*lambda.GetDurableExecutionStateOutput, error) {
	if in == nil || in.DurableExecutionArn == nil || *in.DurableExecutionArn == "" {
		return nil, invalidParam("DurableExecutionArn is required.")
	}
	if in.CheckpointToken == nil || *in.CheckpointToken == "" {
		return nil, invalidParam("CheckpointToken is required.")
	}
	max, err := pageSize(in.MaxItems)
	if err != nil {
		return nil, err
	}
	var from int64
	if in.Marker != nil && *in.Marker != "" {
		from, err = strconv.ParseInt(*in.Marker, 10, 64)
		if err != nil || from < 0 {
			return nil, invalidParam("Invalid marker.")
		}
	}
	e, err := s.lookup(*in.DurableExecutionArn)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.validToken(*in.CheckpointToken) {
		return nil, invalidToken()
	}
	ops, next := s.page(e, from, max)
	out := &lambda.GetDurableExecutionStateOutput{Operations: make([]types.Operation, len(ops))}
	for i, o := range ops {
		out.Operations[i] = o.api()
	}
	if next != "" {
		out.NextMarker = ptr(next)
	}
	return out, nil
}
