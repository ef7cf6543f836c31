//go:build race

package main

// raceEnabled makes the tests build the handler binary with -race too, so
// that go build reuses the packages compiled for the test binary.
const raceEnabled = true
