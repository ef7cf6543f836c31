package local

import (
	"fmt"
	"os"
	"sort"

	"github.com/durablectx/durable/local/runtimeapi"
)

// RegisterBinary makes the Lambda handler binary at path (a program calling
// lambda.Start, e.g. through adapters.Start with middleware.Durable) the
// durable function name. The service runs it as a child process behind a
// loopback Lambda Runtime API (package runtimeapi), started at its first
// invocation and again after a crash or a timeout, and stops it on
// [Service.Close] or when the function is registered again.
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
	fn, err := runtimeapi.New(path,
		runtimeapi.WithFunctionName(name),
		runtimeapi.WithFunctionARN(s.functionARN(name)),
		runtimeapi.WithRegion(s.cfg.region),
		runtimeapi.WithTimeout(cfg.timeout),
		runtimeapi.WithEnv(env...),
	)
	if err != nil {
		return fmt.Errorf("durable: handler binary %s: %w", path, err)
	}
	s.register(&function{name: name, handler: fn, cfg: cfg, closer: fn})
	return nil
}
