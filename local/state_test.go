package local

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestReplayChildren: the descendants of a completed context are left out of
// the state unless the context asked for ReplayChildren (protocol.md §3.8,
// gotcha 8); the history keeps them.
func TestReplayChildren(t *testing.T) {
	for _, replay := range []bool{false, true} {
		t.Run(fmt.Sprint("ReplayChildren=", replay), func(t *testing.T) {
			s, _ := newTestService(t)
			var n atomic.Int32
			s.Register("ctx", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
				if n.Add(1) == 1 {
					c := update("c", types.OperationTypeContext, types.OperationActionStart)
					c.SubType = aws.String("Map")
					inner := update("c-1", types.OperationTypeContext, types.OperationActionStart)
					inner.SubType, inner.ParentId = aws.String("MapIteration"), aws.String("c")
					step := stepSucceed("c-1-1", `"x"`)
					step.ParentId = aws.String("c-1")
					innerDone := update("c-1", types.OperationTypeContext, types.OperationActionSucceed)
					innerDone.ParentId = aws.String("c")
					done := update("c", types.OperationTypeContext, types.OperationActionSucceed)
					done.Payload = aws.String(`{"type":"MapResult"}`)
					done.ContextOptions = &types.ContextOptions{ReplayChildren: aws.Bool(replay)}
					cp.must(ctx, c, inner, step, innerDone, done, waitStart("w", 1))
					return pending()
				}
				var ids []string
				for _, o := range env.InitialExecutionState.Operations[1:] {
					ids = append(ids, o["Id"].(string))
				}
				want := "c w"
				if replay {
					want = "c c-1 w" // c-1 did not ask for its own children
				}
				if got := strings.Join(ids, " "); got != want {
					t.Errorf("envelope ops = %q, want %q", got, want)
				}
				if got := env.op("c")["ContextDetails"].(map[string]any)["ReplayChildren"]; replay != (got == true) {
					t.Errorf("ReplayChildren = %v", got)
				}
				st, err := s.API().GetDurableExecutionState(ctx, &lambda.GetDurableExecutionStateInput{
					DurableExecutionArn: aws.String(env.DurableExecutionArn), CheckpointToken: aws.String(env.CheckpointToken)})
				if err != nil {
					t.Fatal(err)
				}
				if len(st.Operations) != len(ids)+1 {
					t.Errorf("GetDurableExecutionState returned %d operations", len(st.Operations))
				}
				return succeeded("1")
			}))
			_, h := runToEnd(t, s, "ctx", "{}")
			wantEvents(t, h, "ExecutionStarted", "ContextStarted", "ContextStarted", "StepSucceeded", "ContextSucceeded",
				"ContextSucceeded", "WaitStarted", "InvocationCompleted", "WaitSucceeded", "InvocationCompleted", "ExecutionSucceeded")
			matchHistory(t, h, []map[string]any{{"EventId": 4, "Id": "c-1-1", "ParentId": "c-1"}, {"EventId": 3, "SubType": "MapIteration", "ParentId": "c"}})
		})
	}
}

// TestStatePaging: a large state is cut into pages, in the invocation input
// (NextMarker) and in GetDurableExecutionState.
func TestStatePaging(t *testing.T) {
	s, _ := newTestService(t)
	s.cfg.pageBytes = 4 << 10
	var n atomic.Int32
	const steps = 40
	s.Register("big", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		if n.Add(1) == 1 {
			var ups []types.OperationUpdate
			for i := range steps {
				ups = append(ups, stepSucceed(fmt.Sprintf("s%02d", i), `"`+strings.Repeat("y", 200)+`"`))
			}
			cp.must(ctx, append(ups, waitStart("w", 1))...)
			return pending()
		}
		ids := map[string]bool{}
		for _, o := range env.InitialExecutionState.Operations {
			ids[o["Id"].(string)] = true
		}
		marker := env.InitialExecutionState.NextMarker
		if marker == "" {
			t.Fatal("no NextMarker in a large invocation input")
		}
		for marker != "" {
			st, err := s.API().GetDurableExecutionState(ctx, &lambda.GetDurableExecutionStateInput{
				DurableExecutionArn: aws.String(env.DurableExecutionArn), CheckpointToken: aws.String(env.CheckpointToken),
				Marker: aws.String(marker), MaxItems: 7})
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Operations) > 7 {
				t.Errorf("page of %d", len(st.Operations))
			}
			for _, o := range st.Operations {
				if ids[*o.Id] {
					t.Errorf("operation %s twice", *o.Id)
				}
				ids[*o.Id] = true
			}
			marker = aws.ToString(st.NextMarker)
		}
		if len(ids) != steps+2 {
			t.Errorf("paged %d operations, want %d", len(ids), steps+2)
		}
		return succeeded("1")
	}))
	out, _ := runToEnd(t, s, "big", "{}")
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatal(out.Status)
	}
}
