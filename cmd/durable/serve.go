package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/local"
	"github.com/durablectx/durable/local/historyview"
)

// defaultDB is where serve keeps its state unless told otherwise.
var defaultDB = filepath.Join(".durable", "durable.db")

// watchEvery is how often serve reads the histories it logs.
const watchEvery = 250 * time.Millisecond

func init() {
	register(&command{
		name:    "serve",
		args:    "[--addr HOST:PORT] [--db FILE] --function NAME=PATH ... [--env KEY=VALUE ...]",
		summary: "Run the local durable execution service, with handler binaries as functions.",
		run:     runServe,
	})
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := commands["serve"]
	fs := newFlagSet(c, stderr)
	addr := fs.String("addr", local.DefaultAddr, "address to serve the Lambda API on (port 0 picks a free port); give 0.0.0.0:PORT to accept other hosts")
	db := fs.String("db", defaultDB, "SQLite database `FILE`, created if needed; executions in it resume (\"\" keeps state in memory)")
	var functions, env listFlag
	fs.Var(&functions, "function", "register the handler binary at `PATH` as function NAME (NAME=PATH, repeatable)")
	fs.Var(&env, "env", "set `KEY=VALUE` in the environment of every handler binary (repeatable)")
	timeout := fs.Duration("timeout", local.DefaultFunctionTimeout, "function timeout: how long one invocation may run")
	verbose := fs.Bool("v", false, "log every history event, not only executions and invocations")
	if _, err := exactArgs(fs, args); err != nil {
		return err
	}
	type binary struct{ name, path string }
	var bins []binary
	for _, f := range functions.values {
		name, path, ok := strings.Cut(f, "=")
		if !ok || name == "" || path == "" {
			return usagef("--function %q: want NAME=PATH", f)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return err
		}
		if fi, err := os.Stat(abs); err != nil {
			return fmt.Errorf("function %s: %w", name, err)
		} else if fi.IsDir() || fi.Mode()&0o111 == 0 {
			return fmt.Errorf("function %s: %s is not an executable file: build the handler with go build -o", name, abs)
		}
		bins = append(bins, binary{name, abs})
	}
	vars := map[string]string{}
	for _, kv := range env.values {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usagef("--env %q: want KEY=VALUE", kv)
		}
		vars[k] = v
	}

	opts := []local.Option{local.WithLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError})))}
	if *db != "" {
		if err := os.MkdirAll(filepath.Dir(*db), 0o755); err != nil {
			return err
		}
		opts = append(opts, local.WithDatabase(*db))
	}
	svc, err := local.New(opts...)
	if err != nil {
		return err
	}
	defer svc.Close()
	l, err := svc.Listen(*addr)
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- svc.Serve(l) }()
	// Handler binaries get the URL of the first server: wait for ours.
	for svc.URL() == "" {
		select {
		case err := <-served:
			return err
		case <-time.After(time.Millisecond):
		}
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "%s %s\n", time.Now().Format(logTime), fmt.Sprintf(format, args...))
	}
	where := "in memory"
	if *db != "" {
		where = "in " + *db
	}
	logf("durable: serving the Lambda durable API on %s, state %s", svc.URL(), where)
	names := make([]string, 0, len(bins))
	for _, b := range bins {
		if err := svc.RegisterBinary(b.name, b.path, local.WithEnv(vars), local.WithFunctionTimeout(*timeout)); err != nil {
			return err
		}
		names = append(names, b.name)
		logf("durable: function %s = %s", b.name, b.path)
	}
	if len(bins) == 0 {
		logf("durable: no function registered: add --function NAME=PATH")
	}
	try := "durable start " + firstOr(names, "NAME") + " --input '{}'"
	if svc.URL() != defaultEndpoint {
		try += " --endpoint " + svc.URL()
	}
	logf("durable: try: %s", try)

	w := &watcher{api: svc.API(), functions: names, out: stderr, verbose: *verbose,
		since: time.Now(), live: map[string]*watched{}, done: map[string]bool{}}
	wctx, stopWatch := context.WithCancel(ctx)
	var watching sync.WaitGroup
	watching.Go(func() { w.run(wctx) })
	defer watching.Wait()
	defer stopWatch()

	select {
	case <-ctx.Done():
		if *db != "" {
			logf("durable: shutting down; running executions resume at the next start on %s", *db)
		} else {
			logf("durable: shutting down; the state in memory is lost")
		}
		stopWatch()
		watching.Wait()
		return svc.Close()
	case err := <-served:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

const logTime = "15:04:05.000"

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

// watcher logs what happens to the executions of the served functions by
// reading their histories: each execution's start and end, each invocation,
// and with verbose every event.
type watcher struct {
	api       *local.Client
	functions []string
	out       io.Writer
	verbose   bool
	since     time.Time // executions started before were running when serve started

	live map[string]*watched // by ARN
	done map[string]bool
}

type watched struct {
	label   string
	resumed bool // started before serve: skip what happened then
	view    *historyview.Progress
}

func (w *watcher) run(ctx context.Context) {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for {
		w.poll(ctx)
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

func (w *watcher) poll(ctx context.Context) {
	for _, fn := range w.functions {
		w.discover(ctx, &lambda.ListDurableExecutionsByFunctionInput{
			FunctionName: aws.String(fn), Statuses: []types.ExecutionStatus{types.ExecutionStatusRunning},
		}, fn)
		w.discover(ctx, &lambda.ListDurableExecutionsByFunctionInput{
			FunctionName: aws.String(fn), StartedAfter: aws.Time(w.since),
		}, fn)
	}
	for arn, x := range w.live {
		events, err := historyview.Read(ctx, w.api, arn)
		if err != nil {
			continue // gone (retention) or the service is closing
		}
		if x.resumed && len(events) > 0 {
			x.resumed = false
			for _, ev := range events {
				x.view.Line(ev)
			}
			fmt.Fprintf(w.out, "%s %s resumed: running since %s\n", time.Now().Format(logTime), x.label, timestamp(events[0].EventTimestamp))
		}
		for _, ev := range events[min(x.view.Seen(), len(events)):] {
			line := x.view.Line(ev)
			if w.verbose || ev.EventType == types.EventTypeExecutionStarted || ev.EventType == types.EventTypeInvocationCompleted || x.view.Done() {
				fmt.Fprintf(w.out, "%s %s %s\n", aws.ToTime(ev.EventTimestamp).Local().Format(logTime), x.label, line)
			}
			if x.view.Done() {
				w.done[arn] = true
				delete(w.live, arn)
				break
			}
		}
	}
}

// discover adds the executions listed by in to those watched.
func (w *watcher) discover(ctx context.Context, in *lambda.ListDurableExecutionsByFunctionInput, fn string) {
	for {
		out, err := w.api.ListDurableExecutionsByFunction(ctx, in)
		if err != nil {
			return
		}
		for _, e := range out.DurableExecutions {
			arn := aws.ToString(e.DurableExecutionArn)
			if w.done[arn] || w.live[arn] != nil {
				continue
			}
			if e.Status != types.ExecutionStatusRunning && aws.ToTime(e.StartTimestamp).Before(w.since) {
				continue
			}
			w.live[arn] = &watched{
				label:   fn + "/" + aws.ToString(e.DurableExecutionName),
				resumed: aws.ToTime(e.StartTimestamp).Before(w.since),
				view:    historyview.NewProgress(nil),
			}
		}
		if aws.ToString(out.NextMarker) == "" {
			return
		}
		in.Marker = out.NextMarker
	}
}
