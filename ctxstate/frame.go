package ctxstate

import (
	"crypto/md5"
	"encoding/hex"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Frame is one durable context: the handler's root context, a child
// context, a map iteration or parallel branch, or a step function. It
// numbers the operations started in it, one at a time.
type Frame struct {
	exec     *Execution
	path     string // positional id of the context's operation; "" for the root
	id       string // wire id of the context's operation; "" for the root
	parentID string // ParentId of operations started in this frame
	step     *StepInfo

	mu     sync.Mutex
	seq    int
	busy   bool
	values int // replay-safe values drawn so far (NextValue)
}

// StepInfo describes the step whose function is running.
type StepInfo struct {
	// ID is the step's wire operation id; Name its name.
	ID   string
	Name string
	// Attempt is the 1-based attempt number.
	Attempt int
}

// Execution returns the execution the frame belongs to.
func (f *Frame) Execution() *Execution { return f.exec }

// ID returns the wire id of the frame's context operation ("" for the root).
func (f *Frame) ID() string { return f.id }

// Path returns the positional id of the frame's context operation.
func (f *Frame) Path() string { return f.path }

// ParentID returns the ParentId given to operations started in the frame.
func (f *Frame) ParentID() string { return f.parentID }

// Step returns the running step, for the frame of a step function.
func (f *Frame) Step() (StepInfo, bool) {
	if f.step == nil {
		return StepInfo{}, false
	}
	return *f.step, true
}

// Child returns the frame of the context operation op.
func (f *Frame) Child(op *Op) *Frame {
	return &Frame{exec: f.exec, path: op.Path, id: op.ID, parentID: op.ID}
}

// Virtual returns a frame that numbers its operations under op's position
// but records them with ParentId parentID: a flat map iteration or parallel
// branch that has no CONTEXT operation of its own.
func (f *Frame) Virtual(op *Op, parentID string) *Frame {
	return &Frame{exec: f.exec, path: op.Path, id: op.ID, parentID: parentID}
}

// StepFrame returns the frame of a step function: durable operations started
// with it fail with ErrOperationInStep.
func (f *Frame) StepFrame(info StepInfo) *Frame {
	return &Frame{exec: f.exec, path: f.path, id: f.id, parentID: f.parentID, step: &info}
}

// Replaying reports whether the next operation of this frame is recorded in
// the history the invocation started with: code running now has run before.
// A step function's frame is never replaying.
func (f *Frame) Replaying() bool {
	if f.step != nil {
		return false
	}
	f.mu.Lock()
	next := f.seq + 1
	f.mu.Unlock()
	return f.exec.wasRecorded(WireID(childPath(f.path, next)))
}

// NextValue returns 1, 2, 3... on successive calls: the number of the next
// replay-safe value (durable.UUID, durable.Rand) drawn in the frame. Values
// need no checkpoint, so they do not claim an operation position; code that
// replays draws them in the same order and gets the same numbers.
func (f *Frame) NextValue() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.values++
	return f.values
}

// Op is one operation claimed in a frame.
type Op struct {
	Frame    *Frame
	Path     string
	ID       string
	ParentID string
	Type     types.OperationType
	SubType  string
	Name     string
	// Recorded is the operation's state in the history, or nil.
	Recorded *types.Operation
	held     bool
}

// Begin claims the frame's next operation position and holds the frame until
// End: operations on one frame run one at a time. It checks the recorded
// operation at that position against the request; a mismatch fails the
// execution with a *NonDeterminismError.
func (f *Frame) Begin(typ types.OperationType, subType, name string) (*Op, error) {
	if f.step != nil {
		return nil, ErrOperationInStep
	}
	f.mu.Lock()
	if f.busy {
		f.mu.Unlock()
		return nil, ErrConcurrentOperation
	}
	f.busy = true
	f.seq++
	seq := f.seq
	f.mu.Unlock()

	path, id := positionIDs(f.path, seq)
	op := &Op{Frame: f, Path: path, ID: id, ParentID: f.parentID, Type: typ, SubType: subType, Name: name, held: true}
	if rec := f.exec.Operation(op.ID); rec != nil {
		if !matches(rec, typ, subType, name) {
			op.End()
			return nil, f.exec.Fail(&NonDeterminismError{
				Position:    path,
				OperationID: op.ID,
				Recorded:    OperationRef{Type: string(rec.Type), SubType: deref(rec.SubType), Name: deref(rec.Name)},
				Requested:   OperationRef{Type: string(typ), SubType: subType, Name: name},
			})
		}
		op.Recorded = rec
	}
	return op, nil
}

// Claim claims the frame's next position without holding the frame, for
// operations whose work runs concurrently in a frame of its own.
func (f *Frame) Claim(typ types.OperationType, subType, name string) (*Op, error) {
	op, err := f.Begin(typ, subType, name)
	if err != nil {
		return nil, err
	}
	op.End()
	return op, nil
}

// End releases the frame. It is safe to call more than once.
func (o *Op) End() {
	f := o.Frame
	f.mu.Lock()
	if o.held {
		o.held = false
		f.busy = false
	}
	f.mu.Unlock()
}

// Refresh returns the latest known state of the operation, or nil.
func (o *Op) Refresh() *types.Operation { return o.Frame.exec.Operation(o.ID) }

// Replaying reports whether the operation was recorded when the invocation started.
func (o *Op) Replaying() bool { return o.Frame.exec.wasRecorded(o.ID) }

func matches(rec *types.Operation, typ types.OperationType, subType, name string) bool {
	if rec.Type != typ {
		return false
	}
	if rec.SubType != nil && *rec.SubType != subType {
		return false
	}
	return deref(rec.Name) == name
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func childPath(parent string, seq int) string {
	if parent == "" {
		return strconv.Itoa(seq)
	}
	return parent + "-" + strconv.Itoa(seq)
}

// positionIDs returns the positional id of the seq-th operation under
// parent and its wire id, built in one buffer and one string: Begin runs
// once per replayed operation.
func positionIDs(parent string, seq int) (path, id string) {
	var buf [96]byte
	b := buf[:0]
	if parent != "" {
		b = append(b, parent...)
		b = append(b, '-')
	}
	b = strconv.AppendInt(b, int64(seq), 10)
	n := len(b)
	sum := md5.Sum(b)
	b = hex.AppendEncode(b, sum[:8])
	s := string(b)
	return s[:n], s[n:]
}

// WireID hashes a positional operation id ("2", "2-1") to the id sent on the
// wire: the first 16 hex digits of its MD5, as AWS's TypeScript SDK does, so
// "1" is "c4ca4238a0b92382". The hash keeps ids short at any depth.
func WireID(path string) string {
	sum := md5.Sum([]byte(path))
	var buf [16]byte
	hex.Encode(buf[:], sum[:8])
	return string(buf[:])
}
