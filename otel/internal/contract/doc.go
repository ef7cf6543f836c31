// Package contract holds the tests that check the spans of package otel
// against the OpenTelemetry requirements of AWS's conformance suite, with
// the conformance package's trace validator. They live apart from package
// otel's own tests so that those do not depend on the conformance harness.
package contract
