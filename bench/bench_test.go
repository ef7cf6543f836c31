package bench

import (
	"context"
	"testing"
	"time"

	"github.com/durablectx/durable/checkpointer"
)

// BenchmarkWorkloads runs every workload variant of issue 7: one execution
// per iteration, on a fresh in-process local service with a virtual clock.
// Service setup and teardown are outside the timer (and the allocation
// count); ns/op is the wall time from Start to terminal status.
//
// Custom metrics: calls/op and updates/op (CheckpointDurableExecution at the
// client), invocations/op, ops (operations in the final state), and
// us/step (W1: wall/N) or replay-us/step (W4: the last invocation's time to
// its first step body, divided by N).
//
//	go test -run '^$' -bench . ./bench/...
//	go test -run '^$' -bench 'Workloads/w4' -count 6 ./bench/
//
// Peak RSS is not reported here (the test binary's high-water mark mixes
// all benchmarks): use the durable-bench command, which runs each variant
// in a fresh process.
func BenchmarkWorkloads(b *testing.B) {
	for _, v := range Variants {
		b.Run(v.Label, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			var last *Sample
			var replay time.Duration
			for range b.N {
				b.StopTimer()
				e, err := newEnv(v.Workload, v.Config)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				arn, out, _, err := e.run(ctx)
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				if last, err = e.sample(ctx, arn, out); err != nil {
					b.Fatal(err)
				}
				if n := len(last.FirstBody); v.Workload.Replay && n > 1 {
					replay += last.FirstBody[n-1]
				}
				e.close()
				b.StartTimer()
			}
			b.StopTimer()
			b.ReportMetric(float64(last.CheckpointCalls), "calls/op")
			b.ReportMetric(float64(last.CheckpointUpdates), "updates/op")
			b.ReportMetric(float64(last.Invocations), "invocations/op")
			b.ReportMetric(float64(last.Operations), "ops")
			if v.Workload.PerStep {
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*v.Config.N), "us/step")
			}
			if v.Workload.Replay {
				b.ReportMetric(float64(replay.Nanoseconds())/1e3/float64(b.N*v.Config.N), "replay-us/step")
			}
		})
	}
}

// TestWorkloadsOnce runs each variant once and checks its counters. It
// asserts counts, never times.
//
// The test runs with a one-minute linger instead of the SDK's 5 ms: with
// the default, a step's START (or a map item's SUCCEED) that waits more than
// 5 ms for company leaves in a call of its own, so on an overloaded machine
// or under -race the counts grow with scheduling delays (seen here: 1002
// calls for W1 N=1000 Sync, 13 for W3). That is the SDK's documented
// trade-off, not a miscount; with the long linger the counts are exact.
func TestWorkloadsOnce(t *testing.T) {
	for _, v := range Variants {
		t.Run(v.Label, func(t *testing.T) {
			if testing.Short() && (v.Config.N > 1000 || v.Config.Latency > 0) {
				t.Skip("slow variant in -short mode")
			}
			cfg := v.Config
			cfg.Linger = time.Minute
			s, err := Execute(context.Background(), v.Workload, cfg)
			if err != nil {
				t.Fatal(err)
			}
			n := v.Config.N
			check := func(what string, got, want int) {
				t.Helper()
				if got != want {
					t.Errorf("%s = %d, want %d", what, got, want)
				}
			}
			atMost := func(what string, got, max int) {
				t.Helper()
				if got > max || got < 1 {
					t.Errorf("%s = %d, want 1..%d", what, got, max)
				}
			}
			check("GetDurableExecutionState calls", s.GetStateCalls, 0)
			switch v.Workload {
			case W1:
				check("invocations", s.Invocations, 1)
				check("step bodies", s.StepBodies, n)
				check("operations", s.Operations, n)
				check("updates", s.CheckpointUpdates, 2*n)
				if v.Config.Mode == checkpointer.Sync {
					check("checkpoint calls", s.CheckpointCalls, n) // START+SUCCEED per call
				} else {
					atMost("checkpoint calls", s.CheckpointCalls, n/20) // the target
				}
			case W2:
				check("invocations", s.Invocations, 2)
				check("step bodies", s.StepBodies, 1)
				check("operations", s.Operations, 2)
				check("checkpoint calls", s.CheckpointCalls, 2)
			case W3:
				check("invocations", s.Invocations, 1)
				check("step bodies", s.StepBodies, 100)
				check("operations", s.Operations, 201) // map + 100 iterations + 100 steps
				check("updates", s.CheckpointUpdates, 402)
				atMost("checkpoint calls", s.CheckpointCalls, 11) // one per round of 10, plus the map's START

			case W4:
				check("invocations", s.Invocations, 2)
				check("step bodies", s.StepBodies, n+1)
				check("operations", s.Operations, n+2)
				if v.Config.Mode == checkpointer.Sync {
					check("checkpoint calls", s.CheckpointCalls, n+2)
				} else {
					atMost("checkpoint calls", s.CheckpointCalls, n/20+2)
				}
				if len(s.FirstBody) != 2 || s.FirstBody[1] < 0 {
					t.Errorf("first step body per invocation = %v, want one in the 2nd invocation", s.FirstBody)
				}
			case W5:
				check("invocations", s.Invocations, 3)
				check("step bodies", s.StepBodies, 3)
				check("operations", s.Operations, 1)
				check("RETRY updates", s.UpdatesByAction["STEP:RETRY"], 2)
				check("checkpoint calls", s.CheckpointCalls, 3) // START+RETRY, START+RETRY, START+SUCCEED
			default:
				t.Fatalf("unknown workload %s", v.Workload.Name)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	if _, err := Lookup("w3"); err != nil {
		t.Fatal(err)
	}
	if _, err := Lookup("nope"); err == nil {
		t.Fatal("Lookup(nope) succeeded")
	}
}

func TestPeakRSS(t *testing.T) {
	if PeakRSSMB() <= 0 {
		t.Skip("no /proc/self/status VmHWM here")
	}
}
