package ctxstate

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/checkpointer"
)

// idleAPI is a durable API that is never called.
type idleAPI struct{ checkpointer.API }

func TestResumed(t *testing.T) {
	at := func(s int) *time.Time { v := time.Unix(1767225600+int64(s), 0); return &v }
	op := func(id string, typ types.OperationType, status types.OperationStatus, start, end int) types.Operation {
		o := types.Operation{Id: &id, Type: typ, Status: status, StartTimestamp: at(start)}
		if end > 0 {
			o.EndTimestamp = at(end)
		}
		return o
	}
	history := []types.Operation{
		op("w1", types.OperationTypeWait, types.OperationStatusSucceeded, 1, 10), // seen by a later invocation: s2 started after it
		op("s2", types.OperationTypeStep, types.OperationStatusSucceeded, 11, 12),
		op("cb", types.OperationTypeCallback, types.OperationStatusSucceeded, 13, 30), // completed while suspended
		op("s3", types.OperationTypeStep, types.OperationStatusSucceeded, 14, 15),
		op("w2", types.OperationTypeWait, types.OperationStatusStarted, 16, 0),
		op("ctx", types.OperationTypeContext, types.OperationStatusSucceeded, 17, 40),
	}
	tests := []struct {
		name    string
		updated []string
		want    map[string]bool
	}{
		{"from timestamps", nil, map[string]bool{"w1": false, "s2": false, "cb": true, "s3": false, "w2": false, "ctx": false, "unknown": false}},
		{"from UpdatedOperationIds", []string{"w1", "ctx"}, map[string]bool{"w1": true, "cb": false, "ctx": false, "w2": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(context.Background(), Config{API: idleAPI{}, ARN: "arn:x", Operations: history, UpdatedOperationIDs: tt.updated})
			defer e.Close()
			for id, want := range tt.want {
				if got := e.Resumed(id); got != want {
					t.Errorf("Resumed(%s) = %v", id, got)
				}
			}
		})
	}
}
