package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/ctxstate"
	"github.com/durablectx/durable/middleware"
)

// Suite plugin (10-x): lifecycle hooks (AWS's SDKs call them plugins),
// registered with middleware.WithHooks. Each plugin writes one JSON object a
// line to the log sink, as a plugin would to stdout on Lambda, with the
// execution ARN so the log check sees it.

func registerPlugin(r *Registry) {
	r.HandleFunc(withPlugins(greetStepLogged, invocationPlugin), "10-1")
	r.HandleFunc(withPlugins(greetStep, operationPlugin(types.OperationTypeStep, false)), "10-2")
	r.HandleFunc(withPlugins(stepRetriedOnce, attemptPlugin), "10-3")
	r.HandleFunc(withPlugins(greetStep, faultyPlugin), "10-4")
	r.HandleFunc(withPlugins(greetStep, namedInvocationPlugin("CONFPLUGIN-A"), namedInvocationPlugin("CONFPLUGIN-B")), "10-5")
	r.HandleFunc(withPlugins(waitTwoSeconds, invocationPlugin), "10-6")
	r.HandleFunc(withPlugins(failingStep, invocationPlugin), "10-7")
	r.HandleFunc(withPlugins(greetStep, operationChangePlugin), "10-8")
	r.HandleFunc(withPlugins(waitTwoSeconds, operationPlugin(types.OperationTypeWait, true)), "10-10")
	r.HandleFunc(withPlugins(childGreetStep, parentPlugin), "10-11")
	r.HandleFunc(withPlugins(parallelConstants, branchFunctionPlugin), "10-12")
	r.HandleFunc(withPlugins(waitTwoSeconds, terminalInvocationPlugin), "10-16")
	r.HandleFunc(withPlugins(waitThenDone, invocationDumpPlugin), "10-19")
	r.HandleFunc(withPlugins(greetTaskA, operationDumpPlugin), "10-20")
	r.HandleFunc(withPlugins(greetTaskA, operationChangeDumpPlugin), "10-22")
}

// A pluginFunc builds the hooks of one plugin writing to w.
type pluginFunc func(w io.Writer) *ctxstate.Hooks

// withPlugins runs fn with the plugins registered in order.
func withPlugins[In, Out any](fn func(context.Context, In) (Out, error), plugins ...pluginFunc) HandlerFunc {
	return func(env *Env) lambda.Handler {
		hooks := make([]*ctxstate.Hooks, len(plugins))
		for i, p := range plugins {
			hooks[i] = p(env.Logs)
		}
		return env.Wrap(adapters.Handler(fn), middleware.WithHooks(hooks...))
	}
}

// pluginLog writes the records of one plugin.
type pluginLog struct {
	name string
	w    io.Writer
	mu   sync.Mutex
	arn  string // captured at invocation-start
}

func newPluginLog(name string, w io.Writer) *pluginLog { return &pluginLog{name: name, w: w} }

// start captures the execution ARN for the records that follow.
func (p *pluginLog) start(arn string) {
	p.mu.Lock()
	p.arn = arn
	p.mu.Unlock()
}

// log writes one record: fields plus plugin and durableExecutionArn. arn is
// the ARN the hook's info carries, if any.
func (p *pluginLog) log(arn string, fields map[string]any) {
	p.mu.Lock()
	if arn == "" {
		arn = p.arn
	}
	p.mu.Unlock()
	fields["plugin"] = p.name
	fields["durableExecutionArn"] = arn
	line, err := json.Marshal(fields)
	if err != nil {
		return
	}
	_, _ = p.w.Write(append(line, '\n'))
}

func terminalStatus(s string) bool { return s == "SUCCEEDED" || s == "FAILED" }

func outcome(err error) string {
	if err != nil {
		return "FAILED"
	}
	return "SUCCEEDED"
}

func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Handlers of the plugin requirements.

// 10-1: the step logs a line between the invocation hooks.
func greetStepLogged(ctx context.Context, in string) (string, error) {
	return durable.Step(ctx, "greet", func(ctx context.Context) (string, error) {
		durable.Logger(ctx).Info("Greeting step running for: " + in)
		return greet(in), nil
	})
}

// 10-11: a child context holding the greeting step.
func childGreetStep(ctx context.Context, in string) (string, error) {
	return durable.Child(ctx, "greeting-child", func(ctx context.Context) (string, error) {
		return greetStep(ctx, in)
	})
}

// 10-12: parallel "parallel" with two branches returning constants.
func parallelConstants(ctx context.Context, _ any) ([]string, error) {
	return values(durable.Parallel(ctx, "parallel", []durable.Branch[string]{constant("task-1"), constant("task-2")}, sequential))
}

// 10-19: a 2-second wait, then "done-" and the input.
func waitThenDone(ctx context.Context, in string) (string, error) {
	if err := durable.Wait(ctx, "wait", 2*time.Second); err != nil {
		return "", err
	}
	return "done-" + in, nil
}

// 10-20, 10-22: one step named greet returning "task-a".
func greetTaskA(ctx context.Context, _ any) (string, error) {
	return durable.Step(ctx, "greet", func(context.Context) (string, error) { return "task-a", nil })
}

// The plugins.

// invocationPlugin logs invocation-start with the first-invocation flag and
// invocation-end with the status (10-1, 10-6, 10-7).
func invocationPlugin(w io.Writer) *ctxstate.Hooks {
	p := newPluginLog("CONFPLUGIN", w)
	return &ctxstate.Hooks{
		InvocationStart: func(info ctxstate.InvocationInfo) {
			p.start(info.ExecutionARN)
			p.log(info.ExecutionARN, map[string]any{"hook": "invocation-start", "first": info.First})
		},
		InvocationEnd: func(info ctxstate.InvocationInfo) {
			p.log(info.ExecutionARN, map[string]any{"hook": "invocation-end", "status": info.Status})
		},
	}
}

// namedInvocationPlugin logs the invocation hooks under its own name (10-5).
func namedInvocationPlugin(name string) pluginFunc {
	return func(w io.Writer) *ctxstate.Hooks {
		p := newPluginLog(name, w)
		return &ctxstate.Hooks{
			InvocationStart: func(info ctxstate.InvocationInfo) {
				p.start(info.ExecutionARN)
				p.log(info.ExecutionARN, map[string]any{"hook": "invocation-start"})
			},
			InvocationEnd: func(info ctxstate.InvocationInfo) {
				p.log(info.ExecutionARN, map[string]any{"hook": "invocation-end", "status": info.Status})
			},
		}
	}
}

// terminalInvocationPlugin logs both invocation hooks with the first flag,
// and the end with its terminal classification (10-16).
func terminalInvocationPlugin(w io.Writer) *ctxstate.Hooks {
	p := newPluginLog("CONFPLUGIN", w)
	return &ctxstate.Hooks{
		InvocationStart: func(info ctxstate.InvocationInfo) {
			p.start(info.ExecutionARN)
			p.log(info.ExecutionARN, map[string]any{"hook": "invocation-start", "first": info.First})
		},
		InvocationEnd: func(info ctxstate.InvocationInfo) {
			p.log(info.ExecutionARN, map[string]any{"hook": "invocation-end", "first": info.First,
				"terminal": terminalStatus(info.Status), "status": info.Status})
		},
	}
}

// operationPlugin logs the operation hooks of operations of type typ: their
// id, and at the end their status; with withType, their type too (10-2,
// 10-10).
func operationPlugin(typ types.OperationType, withType bool) pluginFunc {
	return func(w io.Writer) *ctxstate.Hooks {
		p := newPluginLog("CONFPLUGIN", w)
		record := func(hook string, info ctxstate.OperationInfo) map[string]any {
			m := map[string]any{"hook": hook, "op": info.ID}
			if withType {
				m["type"] = string(info.Type)
			}
			return m
		}
		return &ctxstate.Hooks{
			InvocationStart: func(info ctxstate.InvocationInfo) { p.start(info.ExecutionARN) },
			OperationStart: func(info ctxstate.OperationInfo) {
				if info.Type == typ {
					p.log(info.ExecutionARN, record("operation-start", info))
				}
			},
			OperationEnd: func(info ctxstate.OperationInfo) {
				if info.Type == typ {
					m := record("operation-end", info)
					m["status"] = string(info.Status)
					p.log(info.ExecutionARN, m)
				}
			},
		}
	}
}

// attemptPlugin logs the attempt hooks of steps (10-3).
func attemptPlugin(w io.Writer) *ctxstate.Hooks {
	p := newPluginLog("CONFPLUGIN", w)
	return &ctxstate.Hooks{
		InvocationStart: func(info ctxstate.InvocationInfo) { p.start(info.ExecutionARN) },
		AttemptStart: func(info ctxstate.OperationInfo) {
			if info.Type == types.OperationTypeStep {
				p.log(info.ExecutionARN, map[string]any{"hook": "attempt-start", "n": info.Attempt, "op": info.ID})
			}
		},
		AttemptEnd: func(info ctxstate.OperationInfo) {
			if info.Type == types.OperationTypeStep {
				p.log(info.ExecutionARN, map[string]any{"hook": "attempt-end", "n": info.Attempt, "outcome": outcome(info.Err), "op": info.ID})
			}
		},
	}
}

// errPlugin is what the faulty plugin's hooks panic with.
var errPlugin = errors.New("CONFPLUGIN-FAULTY: intentional hook failure")

// faultyPlugin logs from every hook, then panics (10-4).
func faultyPlugin(w io.Writer) *ctxstate.Hooks {
	p := newPluginLog("CONFPLUGIN-FAULTY", w)
	fault := func(arn, hook string) {
		p.log(arn, map[string]any{"hook": hook})
		panic(errPlugin)
	}
	step := func(info ctxstate.OperationInfo) bool { return info.Type == types.OperationTypeStep }
	return &ctxstate.Hooks{
		InvocationStart: func(info ctxstate.InvocationInfo) {
			p.start(info.ExecutionARN)
			fault(info.ExecutionARN, "invocation-start")
		},
		InvocationEnd: func(info ctxstate.InvocationInfo) { fault(info.ExecutionARN, "invocation-end") },
		OperationStart: func(info ctxstate.OperationInfo) {
			if step(info) {
				fault(info.ExecutionARN, "operation-start")
			}
		},
		OperationEnd: func(info ctxstate.OperationInfo) {
			if step(info) {
				fault(info.ExecutionARN, "operation-end")
			}
		},
		AttemptStart: func(info ctxstate.OperationInfo) {
			if step(info) {
				fault(info.ExecutionARN, "attempt-start")
			}
		},
		AttemptEnd: func(info ctxstate.OperationInfo) {
			if step(info) {
				fault(info.ExecutionARN, "attempt-end")
			}
		},
	}
}

// operationChangePlugin logs each step in a change's delta with its status
// and whether the full map has it (10-8).
func operationChangePlugin(w io.Writer) *ctxstate.Hooks {
	p := newPluginLog("CONFPLUGIN", w)
	return &ctxstate.Hooks{
		InvocationStart: func(info ctxstate.InvocationInfo) { p.start(info.ExecutionARN) },
		OperationChange: func(info ctxstate.OperationChangeInfo) {
			for _, op := range info.Updated {
				if op.Type != types.OperationTypeStep {
					continue
				}
				_, inFull := info.Operations[op.ID]
				p.log(info.ExecutionARN, map[string]any{"hook": "operation-change", "op": op.ID, "status": string(op.Status), "in_full_map": inFull})
			}
		},
	}
}

// parentOf is the parent id of an operation, or NONE at the top level.
func parentOf(info ctxstate.OperationInfo) string {
	if info.ParentID == "" {
		return "NONE"
	}
	return info.ParentID
}

// parentPlugin logs operation-end of every operation with its parent
// (10-11).
func parentPlugin(w io.Writer) *ctxstate.Hooks {
	p := newPluginLog("CONFPLUGIN", w)
	return &ctxstate.Hooks{
		InvocationStart: func(info ctxstate.InvocationInfo) { p.start(info.ExecutionARN) },
		OperationEnd: func(info ctxstate.OperationInfo) {
			p.log(info.ExecutionARN, map[string]any{"hook": "operation-end", "op": info.ID, "parent": parentOf(info), "status": string(info.Status)})
		},
	}
}

// branchFunctionPlugin logs the function hooks of parallel branches (10-12).
func branchFunctionPlugin(w io.Writer) *ctxstate.Hooks {
	p := newPluginLog("CONFPLUGIN", w)
	return &ctxstate.Hooks{
		InvocationStart: func(info ctxstate.InvocationInfo) { p.start(info.ExecutionARN) },
		FunctionStart: func(info ctxstate.OperationInfo) {
			if info.SubType == "ParallelBranch" {
				p.log(info.ExecutionARN, map[string]any{"hook": "fn-start", "op": info.ID, "parent": parentOf(info)})
			}
		},
		FunctionEnd: func(info ctxstate.OperationInfo) {
			if info.SubType == "ParallelBranch" {
				p.log(info.ExecutionARN, map[string]any{"hook": "fn-end", "op": info.ID, "parent": parentOf(info), "outcome": outcome(info.Err)})
			}
		},
	}
}

// invocationFields dumps an invocation hook's info, omitting unset fields
// (10-19).
func invocationFields(hook string, info ctxstate.InvocationInfo) map[string]any {
	m := map[string]any{"hook": hook, "isFirstInvocation": info.First, "operationsCount": info.Operations}
	if info.RequestID != "" {
		m["requestId"] = info.RequestID
	}
	if info.UpdatedOperationIDs != nil {
		m["updatedOperationsCount"] = len(info.UpdatedOperationIDs)
	}
	if !info.ExecutionStart.IsZero() {
		m["executionStartTimestamp"] = isoTime(info.ExecutionStart)
	}
	if hook == "invocation-end" {
		m["status"] = info.Status
		m["terminal"] = terminalStatus(info.Status)
		if info.Err != nil {
			m["executionError"] = info.Err.Error()
		}
	}
	return m
}

// invocationDumpPlugin dumps each invocation hook's own info (10-19).
func invocationDumpPlugin(w io.Writer) *ctxstate.Hooks {
	p := newPluginLog("CONFPLUGIN", w)
	return &ctxstate.Hooks{
		InvocationStart: func(info ctxstate.InvocationInfo) {
			p.start(info.ExecutionARN)
			p.log(info.ExecutionARN, invocationFields("invocation-start", info))
		},
		InvocationEnd: func(info ctxstate.InvocationInfo) {
			p.log(info.ExecutionARN, invocationFields("invocation-end", info))
		},
	}
}

// operationFields dumps an operation info with the canonical names,
// omitting unset fields (10-20, 10-22).
func operationFields(info ctxstate.OperationInfo) map[string]any {
	m := map[string]any{"id": info.ID, "type": string(info.Type), "isReplay": info.Replaying}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("name", info.Name)
	set("subType", info.SubType)
	set("parentId", info.ParentID)
	set("status", string(info.Status))
	if !info.Start.IsZero() {
		m["startTimestamp"] = isoTime(info.Start)
	}
	if !info.End.IsZero() {
		m["endTimestamp"] = isoTime(info.End)
	}
	if info.Err != nil {
		m["error"] = info.Err.Error()
	}
	if info.Attempt > 0 {
		m["attempt"] = info.Attempt
	}
	return m
}

// operationDumpPlugin dumps the operation hooks' info of steps (10-20).
func operationDumpPlugin(w io.Writer) *ctxstate.Hooks {
	p := newPluginLog("CONFPLUGIN", w)
	dump := func(hook string, info ctxstate.OperationInfo) {
		if info.Type != types.OperationTypeStep {
			return
		}
		m := operationFields(info)
		m["hook"] = hook
		p.log(info.ExecutionARN, m)
	}
	return &ctxstate.Hooks{
		InvocationStart: func(info ctxstate.InvocationInfo) { p.start(info.ExecutionARN) },
		OperationStart:  func(info ctxstate.OperationInfo) { dump("operation-start", info) },
		OperationEnd:    func(info ctxstate.OperationInfo) { dump("operation-end", info) },
	}
}

// operationChangeDumpPlugin dumps each step of a change's delta with the
// change's own fields (10-22).
func operationChangeDumpPlugin(w io.Writer) *ctxstate.Hooks {
	p := newPluginLog("CONFPLUGIN", w)
	return &ctxstate.Hooks{
		InvocationStart: func(info ctxstate.InvocationInfo) { p.start(info.ExecutionARN) },
		OperationChange: func(info ctxstate.OperationChangeInfo) {
			for _, op := range info.Updated {
				if op.Type != types.OperationTypeStep {
					continue
				}
				m := operationFields(op)
				_, inFull := info.Operations[op.ID]
				m["hook"] = "operation-change"
				m["inFullMap"] = inFull
				m["executionArn"] = info.ExecutionARN
				m["updatedOperationsCount"] = len(info.Updated)
				m["operationsCount"] = len(info.Operations)
				p.log(info.ExecutionARN, m)
			}
		},
	}
}
