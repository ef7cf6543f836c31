package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"

	"github.com/durablectx/durable/local/runtimeapi"
)

// RegisterBinary makes the Lambda handler binary at path (a program calling
// lambda.Start, e.g. through adapters.Start with middleware.Durable) the
// durable function name. The service runs it as a child process behind a
// loopback Lambda Runtime API (package runtimeapi), started at its first
// invocation and again after a crash or a timeout, and stops it on
// [Service.Close] or when the function is registered again. Invocations of
// different executions that overlap run in separate processes (up to 16),
// as Lambda runs them in separate sandboxes.
//
// The process gets the usual Lambda environment plus
// AWS_ENDPOINT_URL_LAMBDA, the URL of this service's HTTP API, so that the
// AWS SDK in the handler checkpoints here; if the service is not serving
// HTTP yet, RegisterBinary serves it on a free loopback port. Variables given
// with [WithEnv] are added. The function timeout ([WithFunctionTimeout]) is
// the process's invocation timeout; a crash is a failed invocation with
// ErrorType Runtime.ExitError.
func (s *Service) RegisterBinary(name, path string, opts ...FunctionOption) error {
	if !validFunctionName(name) {
		return fmt.Errorf("durable: invalid function name %q: use 1 to 64 characters of [a-zA-Z0-9-_]", name)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("durable: handler binary: %w", err)
	}
	cfg := s.functionConfig(opts)
	url, err := s.ensureServing()
	if err != nil {
		return fmt.Errorf("durable: serve the API for %s: %w", name, err)
	}
	env := []string{
		"AWS_ENDPOINT_URL_LAMBDA=" + url,
		"AWS_REGION=" + s.cfg.region,
		"AWS_DEFAULT_REGION=" + s.cfg.region,
	}
	keys := make([]string, 0, len(cfg.env))
	for k := range cfg.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+cfg.env[k])
	}
	newSandbox := func() (*runtimeapi.Function, error) {
		return runtimeapi.New(path,
			runtimeapi.WithFunctionName(name),
			runtimeapi.WithFunctionARN(s.functionARN(name)),
			runtimeapi.WithRegion(s.cfg.region),
			runtimeapi.WithTimeout(cfg.timeout),
			runtimeapi.WithEnv(env...),
		)
	}
	first, err := newSandbox()
	if err != nil {
		return fmt.Errorf("durable: handler binary %s: %w", path, err)
	}
	p := &sandboxPool{newSandbox: newSandbox, idle: []*runtimeapi.Function{first}, all: []*runtimeapi.Function{first},
		slots: make(chan struct{}, maxSandboxes)}
	s.register(&function{name: name, handler: p, cfg: cfg, closer: p})
	return nil
}

// maxSandboxes bounds the processes of one binary function: like Lambda, the
// service runs concurrent invocations (of different executions) in separate
// sandboxes, started on demand and reused.
const maxSandboxes = 16

// sandboxPool runs each invocation in an idle sandbox, starting a new one
// when all are busy, up to maxSandboxes.
type sandboxPool struct {
	newSandbox func() (*runtimeapi.Function, error)
	slots      chan struct{}

	mu     sync.Mutex
	idle   []*runtimeapi.Function
	all    []*runtimeapi.Function
	closed bool
}

// Invoke implements lambda.Handler.
func (p *sandboxPool) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-p.slots }()
	f, err := p.get()
	if err != nil {
		return nil, err
	}
	defer p.put(f)
	return f.Invoke(ctx, payload)
}

func (p *sandboxPool) get() (*runtimeapi.Function, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, runtimeapi.ErrClosed
	}
	if n := len(p.idle); n > 0 {
		f := p.idle[n-1]
		p.idle = p.idle[:n-1]
		return f, nil
	}
	f, err := p.newSandbox()
	if err != nil {
		return nil, err
	}
	p.all = append(p.all, f)
	return f, nil
}

func (p *sandboxPool) put(f *runtimeapi.Function) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.idle = append(p.idle, f)
}

// Close stops every sandbox.
func (p *sandboxPool) Close() error {
	p.mu.Lock()
	p.closed = true
	all := p.all
	p.all, p.idle = nil, nil
	p.mu.Unlock()
	var errs []error
	for _, f := range all {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}
