package local

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestRegisterBinary runs a real durable handler binary: it checkpoints to
// the service over HTTP through AWS_ENDPOINT_URL_LAMBDA, and its crash is a
// failed invocation (Runtime.ExitError) followed by a retry.
func TestRegisterBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "durablebin")
	cmd := exec.Command(goTool, "build", "-o", bin, "./testdata/durablebin")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	s, _ := newTestService(t, WithFailedInvocationPolicy(5, 0))
	marker := filepath.Join(dir, "crashed")
	if err := s.RegisterBinary("greeter", bin, WithEnv(map[string]string{"GREETER": "local", "CRASH_MARKER": marker})); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Errorf("URL = %q", s.URL())
	}
	out, h := runToEnd(t, s, "greeter", `{"name":"world","crash":true}`)
	if out.Status != types.ExecutionStatusSucceeded || aws.ToString(out.Result) != `"hello world from local"` {
		t.Fatalf("execution = %s %v %+v", out.Status, aws.ToString(out.Result), out.Error)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Error("the binary did not crash")
	}
	wantEvents(t, h, "ExecutionStarted", "StepStarted", "StepSucceeded", "WaitStarted", "InvocationCompleted",
		"WaitSucceeded", "InvocationCompleted", "InvocationCompleted", "ExecutionSucceeded")
	matchHistory(t, h, []map[string]any{{"EventId": 7, "InvocationCompletedDetails": M{"Error": M{"Payload": M{"ErrorType": "Runtime.ExitError"}}}}})
	// Overlapping invocations run in separate processes.
	ctx := testContext(t)
	var arns []string
	for _, name := range []string{"a", "b", "c"} {
		arn, err := s.Start(ctx, "greeter", []byte(`{"name":"`+name+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, arn)
	}
	for i, arn := range arns {
		out, err := s.RunUntilTerminal(ctx, arn)
		if err != nil || aws.ToString(out.Result) != `"hello `+string(rune('a'+i))+` from local"` {
			t.Errorf("execution %d: %+v %v", i, out, err)
		}
	}
	if err := s.RegisterBinary("nope", filepath.Join(dir, "missing")); err == nil {
		t.Error("RegisterBinary of a missing file")
	}
}
