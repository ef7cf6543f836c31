package conformance_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/durablectx/durable/conformance"
)

// A driver runs one requirement: bind the Variables, send the event, then
// judge the history and the result the service reported.
func Example() {
	req, err := conformance.ParseRequirement("1-1", "step", "step/1-1.yaml", []byte(`
description: Basic step
Variables:
  INPUT_1: abc
Input: ${INPUT_1}
ExpectedResult:
  ExecutionStatus: SUCCEEDED
  Result: ${INPUT_1}
ExpectedExecutionHistory:
  - EventType: StepSucceeded
    EventId: 3
    Id: ${ID1}
    StepSucceededDetails:
      Result:
        Payload: '"${INPUT_1}"'
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := conformance.NewBindings(req.Variables, rand.New(rand.NewPCG(1, 1)))
	event, _ := req.Event(b)
	fmt.Printf("event: %s\n", event)

	// What the service recorded and reported.
	history, _ := conformance.DecodeHistory([]byte(`{"Events": [
		{"EventId": 1, "EventType": "ExecutionStarted", "ExecutionStartedDetails": {}},
		{"EventId": 2, "EventType": "StepStarted", "Id": "c4ca", "StepStartedDetails": {}},
		{"EventId": 3, "EventType": "StepSucceeded", "Id": "c4ca", "StepSucceededDetails": {"Result": {"Payload": "\"abd\""}}}
	]}`))
	result := `"abc"`

	res := conformance.NewResult(req)
	res.Add(conformance.MatchHistory(req.ExpectedExecutionHistory, history, b)...)
	res.Add(conformance.CheckResult(req.ExpectedResult, "SUCCEEDED", &result, b)...)
	res.Finish(req.Optional)
	fmt.Println(res.Status)
	for _, e := range res.Errors {
		fmt.Println(e)
	}
	fmt.Println(conformance.Summarize([]conformance.Result{*res}))
	// Output:
	// event: "abc"
	// FAILED
	// history: EventId=3: StepSucceededDetails.Result.Payload: expected "\"abc\"", got "\"abd\""
	// conformance: 0 passed, 1 failed, 0 not implemented, 0 uncovered
}
