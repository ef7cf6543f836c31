package checkpointer_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/checkpointer"
)

func ids(ops []types.Operation) []string {
	var s []string
	for _, o := range ops {
		s = append(s, deref(o.Id))
	}
	return s
}

func TestFetchState(t *testing.T) {
	pages := map[string]page{
		"":   {ops: []types.Operation{op("a"), op("b")}, next: "m1"},
		"m1": {ops: []types.Operation{op("c")}, next: "m2"},
		"m2": {ops: []types.Operation{op("d")}},
	}
	tests := []struct {
		marker string
		want   []string
		reads  []read
	}{
		{"", []string{"a", "b", "c", "d"}, []read{{"tok7", "", 1000}, {"tok7", "m1", 1000}, {"tok7", "m2", 1000}}},
		{"m1", []string{"c", "d"}, []read{{"tok7", "m1", 1000}, {"tok7", "m2", 1000}}},
	}
	for _, tt := range tests {
		f := &fakeAPI{pages: pages}
		ops, err := checkpointer.FetchState(testCtx(t), f, testARN, "tok7", tt.marker)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(ops); !slices.Equal(got, tt.want) {
			t.Errorf("FetchState from %q = %v, want %v", tt.marker, got, tt.want)
		}
		if got := f.stateReads(); !slices.Equal(got, tt.reads) {
			t.Errorf("reads from %q = %+v, want %+v", tt.marker, got, tt.reads)
		}
	}
}

func TestFetchStateRetriesThrottling(t *testing.T) {
	throttled := true
	f := &fakeAPI{pages: map[string]page{"m": {ops: []types.Operation{op("a")}}}, pageErr: func(string) error {
		if throttled {
			throttled = false
			return apiError("TooManyRequestsException", "Rate exceeded")
		}
		return nil
	}}
	ops, err := checkpointer.FetchState(testCtx(t), f, testARN, "tok0", "m")
	if err != nil || !slices.Equal(ids(ops), []string{"a"}) || len(f.stateReads()) != 2 {
		t.Fatalf("FetchState = %v, %v after %d reads; want [a] after a retry", ids(ops), err, len(f.stateReads()))
	}
}

func TestFetchStateErrors(t *testing.T) {
	for _, tt := range []struct {
		err       error
		retryable bool
	}{
		{apiError("InvalidParameterValueException", "Invalid Checkpoint Token"), true},
		{httpError(404, apiError("ResourceNotFoundException", "gone")), false},
	} {
		f := &fakeAPI{pageErr: func(string) error { return tt.err }}
		_, err := checkpointer.FetchState(testCtx(t), f, testARN, "tok0", "m")
		var cerr *checkpointer.Error
		if !errors.As(err, &cerr) || cerr.Op != "GetDurableExecutionState" || cerr.Retryable != tt.retryable || !errors.Is(err, tt.err) {
			t.Errorf("FetchState = %v, want a GetDurableExecutionState *Error with Retryable=%v", err, tt.retryable)
		}
		if len(f.stateReads()) != 1 {
			t.Errorf("%d reads, want 1", len(f.stateReads()))
		}
	}
}

func TestFetchStateStopsOnARepeatedMarker(t *testing.T) {
	f := &fakeAPI{pages: map[string]page{"m": {ops: []types.Operation{op("a")}, next: "m"}}}
	_, err := checkpointer.FetchState(testCtx(t), f, testARN, "tok0", "m")
	var cerr *checkpointer.Error
	if !errors.As(err, &cerr) || cerr.Retryable {
		t.Fatalf("FetchState = %v, want a non-retryable *Error", err)
	}
}
