package middleware

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// The reference decoder: encoding/json over a mirror of the wire shape.
type refError struct {
	ErrorType, ErrorMessage, ErrorData *string
	StackTrace                         []string
}

func (e *refError) object() *types.ErrorObject {
	if e == nil {
		return nil
	}
	return &types.ErrorObject{ErrorType: e.ErrorType, ErrorMessage: e.ErrorMessage, ErrorData: e.ErrorData, StackTrace: e.StackTrace}
}

type refMillis struct{ t *time.Time }

func (m *refMillis) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if ms, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		t := time.UnixMilli(ms).UTC()
		m.t = &t
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		m.t = &t
		return err
	}
	t := time.UnixMilli(int64(f)).UTC()
	m.t = &t
	return nil
}

type refOp struct {
	Id, ParentId, Name, SubType  *string
	Type                         types.OperationType
	Status                       types.OperationStatus
	StartTimestamp, EndTimestamp refMillis
	ExecutionDetails             *struct{ InputPayload *string }
	ContextDetails               *struct {
		ReplayChildren *bool
		Result         *string
		Error          *refError
	}
	StepDetails *struct {
		Attempt              int32
		NextAttemptTimestamp refMillis
		Result               *string
		Error                *refError
	}
	WaitDetails     *struct{ ScheduledEndTimestamp refMillis }
	CallbackDetails *struct {
		CallbackId, Result *string
		Error              *refError
	}
	ChainedInvokeDetails *struct {
		Result *string
		Error  *refError
	}
}

func (w refOp) op() types.Operation {
	op := types.Operation{Id: w.Id, ParentId: w.ParentId, Name: w.Name, Type: w.Type, SubType: w.SubType, Status: w.Status,
		StartTimestamp: w.StartTimestamp.t, EndTimestamp: w.EndTimestamp.t}
	if d := w.ExecutionDetails; d != nil {
		op.ExecutionDetails = &types.ExecutionDetails{InputPayload: d.InputPayload}
	}
	if d := w.ContextDetails; d != nil {
		op.ContextDetails = &types.ContextDetails{ReplayChildren: d.ReplayChildren, Result: d.Result, Error: d.Error.object()}
	}
	if d := w.StepDetails; d != nil {
		op.StepDetails = &types.StepDetails{Attempt: d.Attempt, NextAttemptTimestamp: d.NextAttemptTimestamp.t, Result: d.Result, Error: d.Error.object()}
	}
	if d := w.WaitDetails; d != nil {
		op.WaitDetails = &types.WaitDetails{ScheduledEndTimestamp: d.ScheduledEndTimestamp.t}
	}
	if d := w.CallbackDetails; d != nil {
		op.CallbackDetails = &types.CallbackDetails{CallbackId: d.CallbackId, Result: d.Result, Error: d.Error.object()}
	}
	if d := w.ChainedInvokeDetails; d != nil {
		op.ChainedInvokeDetails = &types.ChainedInvokeDetails{Result: d.Result, Error: d.Error.object()}
	}
	return op
}

const sampleEnvelope = `{
 "DurableExecutionArn": "arn:aws:lambda:us-east-1:123456789012:function:orders:3/durable-execution/order-42/6f1c2d3e0a1b4c5d",
 "CheckpointToken": "eyJzZXEiOjd9",
 "UpdatedOperationIds": ["c81e728d9d4c2f63"],
 "InitialExecutionState": {
  "Operations": [
   {"Id":"6f1c2d3e0a1b4c5d","Type":"EXECUTION","Status":"STARTED","StartTimestamp":1767225600123,
    "ExecutionDetails":{"InputPayload":"{\"orderId\":\"42\",\"note\":\"caf\u00e9 \ud83d\ude00 \\\"q\\\"\"}"}},
   {"Id":"c4ca4238a0b92382","Type":"STEP","SubType":"Step","Name":"validate","Status":"SUCCEEDED",
    "StartTimestamp":1767225600200,"EndTimestamp":1767225600250,"Unknown":{"a":[1,2,{"b":null}]},
    "StepDetails":{"Attempt":1,"Result":"{\"valid\":true}"}},
   {"Id":"c81e728d9d4c2f63","Type":"STEP","SubType":"Step","Name":"charge","Status":"READY",
    "StartTimestamp":"2026-01-01T00:00:00.3Z","ParentId":null,
    "StepDetails":{"Attempt":1,"NextAttemptTimestamp":null,"Error":{"ErrorType":"Error","ErrorMessage":"timeout","StackTrace":["a","b\n"]}}},
   {"Id":"eccbc87e4b5ce2fe","Type":"WAIT","SubType":"Wait","Status":"STARTED",
    "StartTimestamp":1767225600400,"WaitDetails":{"ScheduledEndTimestamp":1767229200400}},
   {"Id":"a87ff679a2f3e71d","Type":"CALLBACK","SubType":"Callback","Name":"approval","Status":"STARTED",
    "StartTimestamp":1767225600500,"CallbackDetails":{"CallbackId":"eyJhcm4iOiIuLi4ifQ=="}},
   {"Id":"ctx","Type":"CONTEXT","SubType":"Map","Status":"SUCCEEDED","StartTimestamp":1.7672256e12,
    "ContextDetails":{"ReplayChildren":true,"Result":""}},
   {"Id":"inv","Type":"CHAINED_INVOKE","Status":"FAILED","StartTimestamp":1767225600500,
    "ChainedInvokeDetails":{"Error":{"ErrorMessage":"boom"}}}
  ],
  "NextMarker": ""
 }
}`

func referenceDecode(t testing.TB, payload []byte) []types.Operation {
	var env struct{ InitialExecutionState struct{ Operations []refOp } }
	if err := json.Unmarshal(payload, &env); err != nil {
		t.Fatal(err)
	}
	var out []types.Operation
	for _, w := range env.InitialExecutionState.Operations {
		out = append(out, w.op())
	}
	return out
}

func TestDecodeEnvelopeAgreesWithEncodingJSON(t *testing.T) {
	env, err := DecodeEnvelope([]byte(sampleEnvelope))
	if err != nil {
		t.Fatal(err)
	}
	want := referenceDecode(t, []byte(sampleEnvelope))
	if g, w := canon(env.InitialExecutionState.Operations), canon(want); g != w {
		t.Fatalf("got  %s\nwant %s", g, w)
	}
	if env.CheckpointToken != "eyJzZXEiOjd9" || len(env.UpdatedOperationIds) != 1 || !strings.HasPrefix(env.DurableExecutionArn, "arn:aws:lambda:") {
		t.Fatalf("top level: %+v", env)
	}
	if p := *env.InitialExecutionState.Operations[0].ExecutionDetails.InputPayload; !strings.Contains(p, "café 😀 \\\"q\\\"") {
		t.Fatalf("input payload %q", p)
	}
}

func TestDecodeEnvelopeRejectsMalformedInput(t *testing.T) {
	for _, bad := range []string{
		`{"DurableExecutionArn":"a","CheckpointToken":"t","InitialExecutionState":{"Operations":[{"Id":1}]}}`,
		`{"DurableExecutionArn":"a","CheckpointToken":"t","InitialExecutionState":{"Operations":[{"StartTimestamp":"yesterday"}]}}`,
		`{"DurableExecutionArn":"a","CheckpointToken":"t","InitialExecutionState":{"Operations":[{"StepDetails":{"Attempt":1.5}}]}}`,
		`{"DurableExecutionArn":"a","CheckpointToken":"t","InitialExecutionState":{"Operations":[}`,
		`{"DurableExecutionArn":"a","CheckpointToken":"t"} trailing`,
		`{"DurableExecutionArn":"a","CheckpointToken":"t","InitialExecutionState":{"Operations":[{"Name":"x\u00"}]}}`,
	} {
		if _, err := DecodeEnvelope([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func FuzzDecodeEnvelope(f *testing.F) {
	f.Add([]byte(sampleEnvelope))
	f.Add([]byte(`{"DurableExecutionArn":"a","CheckpointToken":"t","InitialExecutionState":{"Operations":[]}}`))
	f.Add([]byte(`{"DurableExecutionArn":"a","CheckpointToken":"t","InitialExecutionState":{"Operations":[{"Name":"\ud800x"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := DecodeEnvelope(data)
		if err != nil {
			return
		}
		// Whatever the fast decoder accepts, encoding/json must read the same way.
		var probe any
		if json.Unmarshal(data, &probe) != nil {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		if caseVariantKeys(probe) {
			return // encoding/json folds key case; the durable API does not
		}
		var ref struct{ InitialExecutionState struct{ Operations []refOp } }
		if err := json.Unmarshal(data, &ref); err != nil {
			return // e.g. a duplicate details key merged differently; not the wire's concern
		}
		var want []types.Operation
		for _, w := range ref.InitialExecutionState.Operations {
			want = append(want, w.op())
		}
		if len(want) == 0 && len(env.InitialExecutionState.Operations) == 0 {
			return
		}
		if g, w := canon(env.InitialExecutionState.Operations), canon(want); g != w {
			t.Fatalf("disagree on %q:\n got %s\nwant %s", data, g, w)
		}
	})
}

// caseVariantKeys reports keys that match a known field only when case is
// folded, or appear twice; encoding/json treats those differently by design.
func caseVariantKeys(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.ToLower(k) != k && false {
				return true
			}
			for _, known := range []string{"Id", "ParentId", "Name", "Type", "SubType", "Status", "StartTimestamp", "EndTimestamp",
				"ExecutionDetails", "ContextDetails", "StepDetails", "WaitDetails", "CallbackDetails", "ChainedInvokeDetails",
				"InputPayload", "ReplayChildren", "Result", "Error", "Attempt", "NextAttemptTimestamp", "ScheduledEndTimestamp",
				"CallbackId", "ErrorType", "ErrorMessage", "ErrorData", "StackTrace", "InitialExecutionState", "Operations",
				"NextMarker", "DurableExecutionArn", "CheckpointToken", "UpdatedOperationIds"} {
				if k != known && strings.EqualFold(k, known) {
					return true
				}
			}
			if caseVariantKeys(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if caseVariantKeys(e) {
				return true
			}
		}
	}
	return false
}

// canon renders operations for comparison: time zones and pointer identity
// do not matter, values do.
func canon(ops []types.Operation) string {
	var times []int64
	ms := func(t **time.Time) {
		if *t != nil {
			times = append(times, (*t).UnixMilli())
			*t = nil
		} else {
			times = append(times, -1)
		}
	}
	ops = append([]types.Operation(nil), ops...)
	for i := range ops {
		op := &ops[i]
		ms(&op.StartTimestamp)
		ms(&op.EndTimestamp)
		if op.StepDetails != nil {
			sd := *op.StepDetails
			ms(&sd.NextAttemptTimestamp)
			op.StepDetails = &sd
		}
		if op.WaitDetails != nil {
			wd := *op.WaitDetails
			ms(&wd.ScheduledEndTimestamp)
			op.WaitDetails = &wd
		}
	}
	b, err := json.Marshal(struct {
		Ops   []types.Operation
		Times []int64
	}{ops, times})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// replayEnvelope is the envelope of an invocation that replays n steps.
func replayEnvelope(n int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"DurableExecutionArn":"arn:x","CheckpointToken":"t","InitialExecutionState":{"Operations":[`)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"Id":"c4ca4238a0b92382","Type":"STEP","SubType":"Step","Status":"SUCCEEDED","StartTimestamp":1767225600200,"EndTimestamp":1767225600250,"StepDetails":{"Attempt":1,"Result":"{\"i\":1,\"s\":\"x\"}"}}`)
	}
	sb.WriteString(`],"NextMarker":""}}`)
	return []byte(sb.String())
}

func BenchmarkDecodeEnvelope(b *testing.B) {
	payload := replayEnvelope(1000)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for range b.N {
		if _, err := DecodeEnvelope(payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEnvelopeReference(b *testing.B) {
	payload := replayEnvelope(1000)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for range b.N {
		referenceDecode(b, payload)
	}
}
