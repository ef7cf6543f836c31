// Package durabletest runs durable handlers in tests: each run gets its own
// in-process [local.Service] on a virtual clock, so a 24-hour wait or a
// retry delay takes no time, and the test reads back what the service
// recorded.
//
// [Run] runs a handler to the end and returns its [Result]: the status, the
// decoded output or error, the history events and the operations built from
// them.
//
//	func TestOrder(t *testing.T) {
//		res := durabletest.Run(t, processOrder, Order{ID: "o-1"},
//			durabletest.WithCallbackResult("approval", Approval{By: "dana"}))
//		if res.Status != durabletest.Succeeded {
//			t.Fatal(res)
//		}
//		if op := res.Operation("charge"); op == nil || op.Attempts != 2 {
//			t.Errorf("charge: %+v", op)
//		}
//	}
//
// Callbacks are answered by the options [WithCallbackResult] and
// [WithCallbackError], or step by step with [Start]: [Execution.WaitForCallback]
// runs the execution until it waits for a callback, the test inspects what it
// likes and answers with [Execution.SucceedCallback] or
// [Execution.FailCallback], then [Execution.Result] runs it to the end.
//
// Waits, retry delays and timeouts take no real time: when no invocation is
// running, the virtual clock jumps to the next timer. An execution that waits
// for a callback nobody answers, with nothing but its execution timeout (a
// year by default) to end the wait, fails the test with the callbacks it waits
// for rather than running to that timeout.
package durabletest
