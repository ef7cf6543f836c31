package conformance

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// CallbackOperation is what a callback action sends.
type CallbackOperation string

// The callback operations of README §2.6.
const (
	CallbackSuccess   CallbackOperation = "success"
	CallbackFailure   CallbackOperation = "failure"
	CallbackHeartbeat CallbackOperation = "heartbeat"
)

// CallbackAction is one entry of CallbackActions.
type CallbackAction struct {
	// CallbackName selects callbacks: "*", an exact name, or "${/re/}";
	// ${VAR} placeholders are substituted first.
	CallbackName string
	Operation    CallbackOperation
	// Payload is the value to send; HasPayload is false when absent or null.
	Payload    any
	HasPayload bool
	// Delay is slept before sending.
	Delay time.Duration
}

func parseCallbackActions(v any) ([]CallbackAction, error) {
	if v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("expected a list of actions, got %s", describe(v))
	}
	actions := make([]CallbackAction, 0, len(l))
	for i, x := range l {
		a, err := parseCallbackAction(x)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		actions = append(actions, a)
	}
	return actions, nil
}

func parseCallbackAction(v any) (CallbackAction, error) {
	m, ok := v.(Map)
	if !ok {
		return CallbackAction{}, fmt.Errorf("expected a mapping, got %s", describe(v))
	}
	var a CallbackAction
	var hasName, hasOp bool
	for _, it := range m {
		switch it.Key {
		case "CallbackName":
			s, ok := it.Value.(string)
			if !ok {
				return a, fmt.Errorf("CallbackName: expected a string, got %s", describe(it.Value))
			}
			a.CallbackName, hasName = s, true
		case "Operation":
			s, _ := it.Value.(string)
			switch op := CallbackOperation(strings.ToLower(s)); op {
			case CallbackSuccess, CallbackFailure, CallbackHeartbeat:
				a.Operation, hasOp = op, true
			default:
				return a, fmt.Errorf("key Operation: expected success, failure or heartbeat, got %s", describe(it.Value))
			}
		case "Payload":
			a.Payload, a.HasPayload = it.Value, it.Value != nil
		case "Delay":
			d, err := seconds(it.Value)
			if err != nil {
				return a, fmt.Errorf("key Delay: %w", err)
			}
			a.Delay = d
		default:
			return a, fmt.Errorf("unknown key %q", it.Key)
		}
	}
	if !hasName {
		return a, fmt.Errorf("the key CallbackName is required")
	}
	if !hasOp {
		return a, fmt.Errorf("the key Operation is required")
	}
	if a.Operation == CallbackFailure && a.HasPayload && !isMapping(a.Payload) {
		return a, fmt.Errorf("the Payload of a failure must be a mapping of ErrorType, ErrorMessage, ErrorData, StackTrace")
	}
	return a, nil
}

// CallbackSend is one callback API call to make.
type CallbackSend struct {
	CallbackID string
	// Name is the CallbackStarted event's Name, after name restoration.
	Name      string
	Operation CallbackOperation
	// Action is the index of the claimed action in CallbackActions.
	Action int
	// Delay is the action's own delay; After is the cumulative delay of
	// this round's sends up to and including this one. Schedule the send at
	// detection time + After.
	Delay, After time.Duration
	// Result is the success payload, Python json.dumps text; nil sends no
	// Result.
	Result []byte
	// Error is the failure payload: ErrorType, ErrorMessage, ErrorData and
	// StackTrace, nothing else.
	Error *types.ErrorObject
}

// CallbackServer selects the callback actions of a requirement run, poll
// round after poll round (README §2.6, §4.7). It remembers which actions
// were used and which callbacks were handled. Not safe for concurrent use.
type CallbackServer struct {
	actions []CallbackAction
	used    []bool
	handled map[string]bool
}

// NewCallbackServer returns a server for the actions of a requirement.
func NewCallbackServer(actions []CallbackAction) *CallbackServer {
	return &CallbackServer{actions: actions, used: make([]bool, len(actions)), handled: map[string]bool{}}
}

// Round selects the sends of one poll round. events is the history of the
// round, after [RestoreCallbackNames]. Every CallbackStarted whose
// CallbackId is not yet handled, in history order, claims the first unused
// action whose name matches: "*", the exact name, or a ${/re/} that
// searches successfully, after substituting placeholders.
//
// A heartbeat does not handle the callback: it is offered again next round
// and claims the next unused action. A callback that matches no action is
// left open when there are no actions at all; otherwise it is a failure,
// reported once.
func (s *CallbackServer) Round(events []map[string]any, b *Bindings) ([]CallbackSend, []Failure) {
	var (
		sends    []CallbackSend
		failures []Failure
		after    time.Duration
	)
	for _, ev := range events {
		if ev["EventType"] != "CallbackStarted" {
			continue
		}
		details, _ := ev["CallbackStartedDetails"].(map[string]any)
		id, _ := details["CallbackId"].(string)
		if id == "" || s.handled[id] {
			continue
		}
		name, _ := ev["Name"].(string)
		if len(s.actions) == 0 {
			continue
		}
		i, err := s.claim(name, b)
		if err != nil {
			failures = append(failures, Failure{Phase: PhaseHistory, Path: "CallbackActions", Message: err.Error()})
			s.handled[id] = true
			continue
		}
		if i < 0 {
			failures = append(failures, Failure{Phase: PhaseHistory, Path: "CallbackActions", Message: fmt.Sprintf("no unused action matches callback %q (CallbackId %s)", name, id)})
			s.handled[id] = true
			continue
		}
		send, err := s.send(i, id, name, b)
		if err != nil {
			failures = append(failures, Failure{Phase: PhaseHistory, Path: fmt.Sprintf("CallbackActions[%d]", i), Message: err.Error()})
			s.handled[id] = true
			continue
		}
		after += send.Delay
		send.After = after
		if send.Operation != CallbackHeartbeat {
			s.handled[id] = true
		}
		sends = append(sends, send)
	}
	return sends, failures
}

// claim marks and returns the first unused action matching name, or -1.
func (s *CallbackServer) claim(name string, b *Bindings) (int, error) {
	for i, a := range s.actions {
		if s.used[i] {
			continue
		}
		ok, err := callbackNameMatches(b.SubstituteString(a.CallbackName), name)
		if err != nil {
			return 0, fmt.Errorf("CallbackActions[%d].CallbackName: %v", i, err)
		}
		if ok {
			s.used[i] = true
			return i, nil
		}
	}
	return -1, nil
}

func callbackNameMatches(pattern, name string) (bool, error) {
	if pattern == "*" || pattern == name {
		return true, nil
	}
	if p, ok := regexPlaceholder(pattern); ok {
		re, err := compileRegex(p)
		if err != nil {
			return false, err
		}
		return re.MatchString(name), nil
	}
	return false, nil
}

func (s *CallbackServer) send(i int, id, name string, b *Bindings) (CallbackSend, error) {
	a := s.actions[i]
	send := CallbackSend{CallbackID: id, Name: name, Operation: a.Operation, Action: i, Delay: a.Delay}
	switch a.Operation {
	case CallbackSuccess:
		if a.HasPayload {
			text, err := PythonJSON(b.Substitute(a.Payload))
			if err != nil {
				return send, err
			}
			send.Result = []byte(text)
		}
	case CallbackFailure:
		obj, err := callbackError(b.Substitute(a.Payload))
		if err != nil {
			return send, err
		}
		send.Error = obj
	}
	return send, nil
}

// callbackError keeps the four fields the runner forwards as Error.
func callbackError(payload any) (*types.ErrorObject, error) {
	obj := &types.ErrorObject{}
	if payload == nil {
		return obj, nil
	}
	if !isMapping(payload) {
		return nil, fmt.Errorf("failure Payload must be a mapping, got %s", describe(payload))
	}
	str := func(key string) (*string, error) {
		v, ok := mapGet(payload, key)
		if !ok || v == nil {
			return nil, nil
		}
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("failure Payload.%s must be a string, got %s", key, describe(v))
		}
		return &s, nil
	}
	var err error
	if obj.ErrorType, err = str("ErrorType"); err != nil {
		return nil, err
	}
	if obj.ErrorMessage, err = str("ErrorMessage"); err != nil {
		return nil, err
	}
	if obj.ErrorData, err = str("ErrorData"); err != nil {
		return nil, err
	}
	if v, ok := mapGet(payload, "StackTrace"); ok && v != nil {
		l, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("failure Payload.StackTrace must be a list of strings, got %s", describe(v))
		}
		for _, x := range l {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("failure Payload.StackTrace must be a list of strings, got %s", describe(v))
			}
			obj.StackTrace = append(obj.StackTrace, s)
		}
	}
	return obj, nil
}
