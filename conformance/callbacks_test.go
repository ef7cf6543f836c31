package conformance

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func callbackStarted(id int64, name, callbackID string) map[string]any {
	ev := map[string]any{
		"EventId": id, "EventType": "CallbackStarted", "SubType": "Callback", "Id": "op" + callbackID,
		"CallbackStartedDetails": map[string]any{"CallbackId": callbackID},
	}
	if name != "" {
		ev["Name"] = name
	}
	return ev
}

func TestCallbackHeartbeatThenSuccess(t *testing.T) {
	// 4-5: heartbeat does not consume the callback; the next round claims
	// the success action for the same CallbackId.
	r := requirement(t, "4-5")
	b := seededBindings(t, r)
	name, _ := b.Lookup("CB_NAME")
	payload, _ := b.Lookup("CB_PAYLOAD")
	s := NewCallbackServer(r.CallbackActions)
	history := []map[string]any{{"EventId": int64(1), "EventType": "ExecutionStarted"}, callbackStarted(2, name.(string), "cb-1")}

	sends, fs := s.Round(history, b)
	if len(fs) > 0 || len(sends) != 1 || sends[0].Operation != CallbackHeartbeat || sends[0].CallbackID != "cb-1" || sends[0].Result != nil {
		t.Fatalf("round 1: %+v, %v", sends, fs)
	}
	sends, fs = s.Round(history, b)
	if len(fs) > 0 || len(sends) != 1 || sends[0].Operation != CallbackSuccess || sends[0].Delay != time.Second || sends[0].Action != 1 {
		t.Fatalf("round 2: %+v, %v", sends, fs)
	}
	if want := `"` + payload.(string) + `"`; string(sends[0].Result) != want {
		t.Errorf("Result = %s, want %s", sends[0].Result, want)
	}
	if sends, fs = s.Round(history, b); len(sends)+len(fs) > 0 {
		t.Errorf("round 3 after success: %+v, %v", sends, fs)
	}
}

func TestCallbackPayloadEncoding(t *testing.T) {
	tests := []struct {
		id   string
		want string
	}{
		{"7-11", `{"status": "approved"}`}, // Python json.dumps separators
		{"4-16", `42`},
		{"otel-execution-10", `"callback-complete"`},
	}
	for _, tt := range tests {
		r := requirement(t, tt.id)
		b := seededBindings(t, r)
		s := NewCallbackServer(r.CallbackActions)
		name := "approval"
		if tt.id == "otel-execution-10" {
			name = "otel-callback-callback"
		}
		if v, ok := b.Lookup("CB_NAME"); ok {
			name = v.(string)
		}
		sends, fs := s.Round([]map[string]any{callbackStarted(3, name, "cb")}, b)
		if len(fs) > 0 || len(sends) != 1 || string(sends[0].Result) != tt.want {
			t.Errorf("%s: %+v, %v; want Result %s", tt.id, sends, fs, tt.want)
		}
	}
}

func TestCallbackFailurePayloadIsFiltered(t *testing.T) {
	actions := []CallbackAction{{
		CallbackName: "*", Operation: CallbackFailure, HasPayload: true,
		Payload: Map{{"ErrorType", "RejectedError"}, {"ErrorMessage", "${WHY}"}, {"ErrorData", "d"}, {"StackTrace", []any{"f1", "f2"}}, {"Extra", "dropped"}},
	}}
	b, _ := NewBindings([]Variable{{"WHY", "not approved"}}, nil)
	sends, fs := NewCallbackServer(actions).Round([]map[string]any{callbackStarted(2, "x", "cb")}, b)
	if len(fs) > 0 || len(sends) != 1 {
		t.Fatalf("%+v, %v", sends, fs)
	}
	want := &types.ErrorObject{ErrorType: aws.String("RejectedError"), ErrorMessage: aws.String("not approved"), ErrorData: aws.String("d"), StackTrace: []string{"f1", "f2"}}
	if !reflect.DeepEqual(sends[0].Error, want) || sends[0].Result != nil {
		t.Errorf("Error = %+v, want %+v", sends[0].Error, want)
	}

	// 4-6 from the catalogue.
	r := requirement(t, "4-6")
	b = seededBindings(t, r)
	name, _ := b.Lookup("CB_NAME")
	sends, fs = NewCallbackServer(r.CallbackActions).Round([]map[string]any{callbackStarted(2, name.(string), "cb")}, b)
	if len(fs) > 0 || len(sends) != 1 || *sends[0].Error.ErrorType != "RejectedError" || *sends[0].Error.ErrorMessage != "not approved" || sends[0].Error.ErrorData != nil {
		t.Errorf("4-6: %+v, %v", sends, fs)
	}
}

func TestCallbackSelection(t *testing.T) {
	t.Run("history order, first unused match, cumulative delays", func(t *testing.T) {
		// 4-18 lists B's action first; callbacks are served in history order.
		r := requirement(t, "4-18")
		b := seededBindings(t, r)
		a, _ := b.Lookup("CB_NAME_A")
		bn, _ := b.Lookup("CB_NAME_B")
		s := NewCallbackServer(r.CallbackActions)
		sends, fs := s.Round([]map[string]any{callbackStarted(2, bn.(string), "B"), callbackStarted(3, a.(string), "A")}, b)
		if len(fs) > 0 || len(sends) != 2 {
			t.Fatalf("%+v, %v", sends, fs)
		}
		if sends[0].CallbackID != "B" || sends[0].Action != 1 || sends[0].After != 4*time.Second {
			t.Errorf("first send %+v", sends[0])
		}
		if sends[1].CallbackID != "A" || sends[1].Action != 0 || sends[1].After != 7*time.Second {
			t.Errorf("second send %+v", sends[1])
		}
	})
	t.Run("regex name", func(t *testing.T) {
		actions := []CallbackAction{{CallbackName: "${/^otel-callback(?: create callback id|-callback)?$/}", Operation: CallbackSuccess}}
		b, _ := NewBindings(nil, nil)
		s := NewCallbackServer(actions)
		sends, fs := s.Round([]map[string]any{callbackStarted(2, "otel-callback-other", "x"), callbackStarted(3, "otel-callback create callback id", "y")}, b)
		if len(sends) != 1 || sends[0].CallbackID != "y" || sends[0].Result != nil {
			t.Errorf("sends = %+v", sends)
		}
		if len(fs) != 1 || !strings.Contains(fs[0].String(), `no unused action matches callback "otel-callback-other" (CallbackId x)`) {
			t.Errorf("failures = %v", fs)
		}
		// Reported once, not every round.
		if sends, fs := s.Round([]map[string]any{callbackStarted(2, "otel-callback-other", "x")}, b); len(sends)+len(fs) > 0 {
			t.Errorf("second round: %+v %v", sends, fs)
		}
	})
	t.Run("no actions leaves callbacks open", func(t *testing.T) {
		r := requirement(t, "4-3")
		if len(r.CallbackActions) != 0 {
			t.Fatalf("4-3 has actions %v", r.CallbackActions)
		}
		b := seededBindings(t, r)
		sends, fs := NewCallbackServer(nil).Round([]map[string]any{callbackStarted(2, "x", "cb")}, b)
		if len(sends)+len(fs) > 0 {
			t.Errorf("%+v, %v", sends, fs)
		}
	})
	t.Run("exact name and restored name", func(t *testing.T) {
		events := []map[string]any{
			{"EventId": int64(2), "EventType": "ContextStarted", "SubType": "WaitForCallback", "Id": "ctx", "Name": "approval"},
			callbackStarted(3, "", "cb"),
		}
		events[1]["ParentId"] = "ctx"
		RestoreCallbackNames(events)
		b, _ := NewBindings(nil, nil)
		sends, fs := NewCallbackServer([]CallbackAction{{CallbackName: "approval", Operation: CallbackSuccess}}).Round(events, b)
		if len(fs) > 0 || len(sends) != 1 || sends[0].Name != "approval" {
			t.Errorf("%+v, %v", sends, fs)
		}
	})
}
