package middleware

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// operations parses the Operations array of an envelope straight into API
// operations. It is the replay hot path: an invocation that replays 10 000
// steps parses 10 000 operations before running any code, so it avoids
// encoding/json's reflection and cuts strings from the payload instead of
// copying them. It accepts what encoding/json would accept into the same
// fields (FuzzDecodeEnvelope checks they agree), except that keys are
// case-sensitive, as they are in the durable API: unknown keys are skipped,
// null is absent, timestamps are epoch milliseconds or RFC 3339.
func (d *decoder) operations() ([]types.Operation, error) {
	var ops []types.Operation
	d.skipSpace()
	if d.literal("null") {
		return nil, nil
	}
	if err := d.expect('['); err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.peek() == ']' {
		d.pos++
		return ops, nil
	}
	// Every operation has one "Type" key and nothing else has one: size the
	// slice once instead of growing it through copies of large structs.
	ops = make([]types.Operation, 0, bytes.Count(d.data[d.pos:], []byte(`"Type"`)))
	for {
		ops = append(ops, types.Operation{})
		if err := d.operation(&ops[len(ops)-1]); err != nil {
			return nil, err
		}
		d.skipSpace()
		switch d.next() {
		case ',':
			continue
		case ']':
			return ops, nil
		default:
			return nil, d.errorf("expected , or ] after an operation")
		}
	}
}

type decoder struct {
	data []byte
	pos  int
	// src is data as a string: strings without escapes are cut from it
	// instead of copied. Pointers are handed out from slabs, so an
	// operation costs a few allocations instead of one per field.
	src   string
	strs  []string
	times []time.Time
	steps []types.StepDetails
}

func (d *decoder) strPtr(s string) *string {
	if len(d.strs) == 0 {
		d.strs = make([]string, 256)
	}
	p := &d.strs[0]
	d.strs = d.strs[1:]
	*p = s
	return p
}

func (d *decoder) timePtr(t time.Time) *time.Time {
	if len(d.times) == 0 {
		d.times = make([]time.Time, 128)
	}
	p := &d.times[0]
	d.times = d.times[1:]
	*p = t
	return p
}

// strValue reads a string, cutting it from src when it needs no unescaping.
func (d *decoder) strValue() (string, error) {
	start := d.pos + 1
	b, err := d.rawString()
	if err != nil {
		return "", err
	}
	if len(b) == 0 {
		return "", nil
	}
	if &b[0] == &d.data[start] { // b is the payload's own bytes
		if d.src == "" {
			return string(b), nil
		}
		return d.src[start : d.pos-1], nil
	}
	// b is a buffer rawString made for this string alone (it unescaped or
	// repaired it) and nothing else holds it: it can become the string.
	return unsafe.String(&b[0], len(b)), nil
}

var errSyntax = errors.New("malformed JSON")

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", errSyntax, d.pos, fmt.Sprintf(format, args...))
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

func (d *decoder) next() byte {
	if d.pos < len(d.data) {
		c := d.data[d.pos]
		d.pos++
		return c
	}
	d.pos++
	return 0
}

func (d *decoder) end() error {
	d.skipSpace()
	if d.pos < len(d.data) {
		return d.errorf("trailing data")
	}
	return nil
}

func (d *decoder) expect(c byte) error {
	d.skipSpace()
	if d.next() != c {
		return d.errorf("expected %q", c)
	}
	return nil
}

func (d *decoder) literal(lit string) bool {
	if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return true
	}
	return false
}

// objectIter iterates over the keys of a JSON object without closures:
//
//	it := d.beginObject()
//	for it.next() { switch string(it.key) { ...read the value, it.fail(err)... } }
//	err := it.err
type objectIter struct {
	d     *decoder
	key   []byte
	err   error
	first bool
	done  bool
}

func (d *decoder) beginObject() objectIter {
	d.skipSpace()
	if d.literal("null") {
		return objectIter{d: d, done: true}
	}
	if d.next() != '{' {
		d.pos--
		return objectIter{d: d, done: true, err: d.errorf("expected an object")}
	}
	return objectIter{d: d, first: true}
}

func (it *objectIter) next() bool {
	if it.done || it.err != nil {
		return false
	}
	d := it.d
	d.skipSpace()
	if it.first {
		it.first = false
		if d.peek() == '}' {
			d.pos++
			it.done = true
			return false
		}
	} else {
		switch d.next() {
		case ',':
			d.skipSpace()
		case '}':
			it.done = true
			return false
		default:
			it.err = d.errorf("expected , or } in an object")
			return false
		}
	}
	key, err := d.rawString()
	if err == nil {
		err = d.expect(':')
	}
	if err != nil {
		it.err = err
		return false
	}
	d.skipSpace()
	it.key = key
	return true
}

// fail records the error of reading a value; next then stops.
func (it *objectIter) fail(err error) {
	if err != nil && it.err == nil {
		it.err = err
	}
}

// rawString reads a string and returns its unescaped bytes.
func (d *decoder) rawString() ([]byte, error) {
	if d.next() != '"' {
		return nil, d.errorf("expected a string")
	}
	start := d.pos
	ascii := true
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c >= 0x80:
			ascii = false
		case c == '"':
			s := d.data[start:d.pos]
			d.pos++
			if !ascii && !utf8.Valid(s) {
				return []byte(string([]rune(string(s)))), nil
			}
			return s, nil
		case c == '\\':
			return d.escapedString(start)
		case c < 0x20:
			return nil, d.errorf("control character in a string")
		}
		d.pos++
	}
	return nil, d.errorf("unterminated string")
}

func (d *decoder) escapedString(start int) ([]byte, error) {
	buf := make([]byte, 0, d.pos-start+16)
	buf = append(buf, d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			if !utf8.Valid(buf) {
				return []byte(string([]rune(string(buf)))), nil
			}
			return buf, nil
		case c < 0x20:
			return nil, d.errorf("control character in a string")
		case c != '\\':
			buf = append(buf, c)
			d.pos++
			continue
		}
		d.pos++
		switch e := d.next(); e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return nil, d.errorf("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				save := d.pos
				if d.literal(`\u`) {
					if r2, ok := d.hex4(); ok {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							buf = utf8.AppendRune(buf, dec)
							continue
						}
					}
				}
				d.pos = save
				r = utf8.RuneError
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return nil, d.errorf("bad escape")
		}
	}
	return nil, d.errorf("unterminated string")
}

func (d *decoder) hex4() (rune, bool) {
	if len(d.data)-d.pos < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(d.data[d.pos:d.pos+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	d.pos += 4
	return rune(v), true
}

// str reads a string or null.
func (d *decoder) str() (*string, error) {
	if d.literal("null") {
		return nil, nil
	}
	s, err := d.strValue()
	if err != nil {
		return nil, err
	}
	return d.strPtr(s), nil
}

// number reads a JSON number, checking its grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *decoder) number() ([]byte, error) {
	start := d.pos
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	if d.peek() == '-' {
		d.pos++
	}
	switch c := d.peek(); {
	case c == '0':
		d.pos++
	case c >= '1' && c <= '9':
		digits()
	default:
		return nil, d.errorf("expected a number")
	}
	if d.peek() == '.' {
		d.pos++
		if digits() == 0 {
			return nil, d.errorf("expected digits after the decimal point")
		}
	}
	if c := d.peek(); c == 'e' || c == 'E' {
		d.pos++
		if c := d.peek(); c == '+' || c == '-' {
			d.pos++
		}
		if digits() == 0 {
			return nil, d.errorf("expected digits in the exponent")
		}
	}
	return d.data[start:d.pos], nil
}

// timestamp reads epoch milliseconds, an RFC 3339 string, or null.
func (d *decoder) timestamp() (*time.Time, error) {
	if d.literal("null") {
		return nil, nil
	}
	if d.peek() == '"' {
		b, err := d.rawString()
		if err != nil {
			return nil, err
		}
		t, err := time.Parse(time.RFC3339Nano, string(b))
		if err != nil {
			return nil, d.errorf("timestamp %q is neither epoch milliseconds nor RFC 3339", b)
		}
		return d.timePtr(t), nil
	}
	n, err := d.number()
	if err != nil {
		return nil, err
	}
	if ms, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return d.timePtr(time.UnixMilli(ms).UTC()), nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return nil, d.errorf("timestamp %s is not epoch milliseconds", n)
	}
	return d.timePtr(time.UnixMilli(int64(f)).UTC()), nil
}

// skip skips any JSON value.
func (d *decoder) skip() error {
	d.skipSpace()
	switch c := d.peek(); {
	case c == '{':
		it := d.beginObject()
		for it.next() {
			it.fail(d.skip())
		}
		return it.err
	case c == '[':
		d.pos++
		d.skipSpace()
		if d.peek() == ']' {
			d.pos++
			return nil
		}
		for {
			if err := d.skip(); err != nil {
				return err
			}
			d.skipSpace()
			switch d.next() {
			case ',':
			case ']':
				return nil
			default:
				return d.errorf("expected , or ] in an array")
			}
		}
	case c == '"':
		_, err := d.rawString()
		return err
	case d.literal("true"), d.literal("false"), d.literal("null"):
		return nil
	default:
		n, err := d.number()
		if err != nil {
			return err
		}
		if _, err := strconv.ParseFloat(string(n), 64); err != nil {
			return d.errorf("bad number %s", n)
		}
		return nil
	}
}

func (d *decoder) boolean() (*bool, error) {
	switch {
	case d.literal("true"):
		t := true
		return &t, nil
	case d.literal("false"):
		f := false
		return &f, nil
	case d.literal("null"):
		return nil, nil
	}
	return nil, d.errorf("expected a boolean")
}

// interned returns a constant for the strings that recur in every
// operation (types, statuses, subtypes), so they cost no allocation.
func interned(b []byte) string {
	switch string(b) {
	case "STEP":
		return "STEP"
	case "WAIT":
		return "WAIT"
	case "CONTEXT":
		return "CONTEXT"
	case "CALLBACK":
		return "CALLBACK"
	case "CHAINED_INVOKE":
		return "CHAINED_INVOKE"
	case "EXECUTION":
		return "EXECUTION"
	case "SUCCEEDED":
		return "SUCCEEDED"
	case "STARTED":
		return "STARTED"
	case "FAILED":
		return "FAILED"
	case "PENDING":
		return "PENDING"
	case "READY":
		return "READY"
	case "Step":
		return "Step"
	case "Wait":
		return "Wait"
	case "Callback":
		return "Callback"
	case "RunInChildContext":
		return "RunInChildContext"
	case "Map":
		return "Map"
	case "MapIteration":
		return "MapIteration"
	case "Parallel":
		return "Parallel"
	case "ParallelBranch":
		return "ParallelBranch"
	case "WaitForCallback":
		return "WaitForCallback"
	case "WaitForCondition":
		return "WaitForCondition"
	case "ChainedInvoke":
		return "ChainedInvoke"
	}
	return string(b)
}

// internedStr reads a string or null, interning common values.
func (d *decoder) internedStr() (*string, error) {
	if d.literal("null") {
		return nil, nil
	}
	b, err := d.rawString()
	if err != nil {
		return nil, err
	}
	return d.strPtr(interned(b)), nil
}

func (d *decoder) operation(op *types.Operation) error {
	it := d.beginObject()
	for it.next() {
		var err error
		switch string(it.key) {
		case "Id":
			op.Id, err = d.str()
		case "ParentId":
			op.ParentId, err = d.str()
		case "Name":
			op.Name, err = d.str()
		case "SubType":
			op.SubType, err = d.internedStr()
		case "Type":
			if !d.literal("null") {
				var b []byte
				b, err = d.rawString()
				op.Type = types.OperationType(interned(b))
			}
		case "Status":
			if !d.literal("null") {
				var b []byte
				b, err = d.rawString()
				op.Status = types.OperationStatus(interned(b))
			}
		case "StartTimestamp":
			op.StartTimestamp, err = d.timestamp()
		case "EndTimestamp":
			op.EndTimestamp, err = d.timestamp()
		case "ExecutionDetails":
			err = d.executionDetails(op)
		case "StepDetails":
			err = d.stepDetails(op)
		case "ContextDetails":
			err = d.contextDetails(op)
		case "WaitDetails":
			err = d.waitDetails(op)
		case "CallbackDetails":
			err = d.callbackDetails(op)
		case "ChainedInvokeDetails":
			err = d.chainedInvokeDetails(op)
		default:
			err = d.skip()
		}
		it.fail(err)
	}
	return it.err
}

// isNullOrObject consumes null (reporting true) or checks an object follows.
func (d *decoder) isNullOrObject() (bool, error) {
	if d.literal("null") {
		return true, nil
	}
	if d.peek() != '{' {
		return false, d.errorf("expected an object")
	}
	return false, nil
}

func (d *decoder) executionDetails(op *types.Operation) error {
	if null, err := d.isNullOrObject(); null || err != nil {
		return err
	}
	det := &types.ExecutionDetails{}
	op.ExecutionDetails = det
	it := d.beginObject()
	for it.next() {
		if string(it.key) == "InputPayload" {
			var err error
			det.InputPayload, err = d.str()
			it.fail(err)
			continue
		}
		it.fail(d.skip())
	}
	return it.err
}

func (d *decoder) stepDetails(op *types.Operation) error {
	if null, err := d.isNullOrObject(); null || err != nil {
		return err
	}
	if len(d.steps) == 0 {
		d.steps = make([]types.StepDetails, 64)
	}
	det := &d.steps[0]
	d.steps = d.steps[1:]
	op.StepDetails = det
	it := d.beginObject()
	for it.next() {
		var err error
		switch string(it.key) {
		case "Attempt":
			if d.literal("null") {
				continue
			}
			var n []byte
			if n, err = d.number(); err == nil {
				v, perr := strconv.ParseInt(string(n), 10, 32)
				if perr != nil {
					err = d.errorf("bad Attempt %s", n)
				}
				det.Attempt = int32(v)
			}
		case "NextAttemptTimestamp":
			det.NextAttemptTimestamp, err = d.timestamp()
		case "Result":
			det.Result, err = d.str()
		case "Error":
			det.Error, err = d.errorObject()
		default:
			err = d.skip()
		}
		it.fail(err)
	}
	return it.err
}

func (d *decoder) contextDetails(op *types.Operation) error {
	if null, err := d.isNullOrObject(); null || err != nil {
		return err
	}
	det := &types.ContextDetails{}
	op.ContextDetails = det
	it := d.beginObject()
	for it.next() {
		var err error
		switch string(it.key) {
		case "ReplayChildren":
			var b *bool
			if b, err = d.boolean(); b != nil {
				det.ReplayChildren = b
			}
		case "Result":
			det.Result, err = d.str()
		case "Error":
			det.Error, err = d.errorObject()
		default:
			err = d.skip()
		}
		it.fail(err)
	}
	return it.err
}

func (d *decoder) waitDetails(op *types.Operation) error {
	if null, err := d.isNullOrObject(); null || err != nil {
		return err
	}
	det := &types.WaitDetails{}
	op.WaitDetails = det
	it := d.beginObject()
	for it.next() {
		var err error
		if string(it.key) == "ScheduledEndTimestamp" {
			det.ScheduledEndTimestamp, err = d.timestamp()
		} else {
			err = d.skip()
		}
		it.fail(err)
	}
	return it.err
}

func (d *decoder) callbackDetails(op *types.Operation) error {
	if null, err := d.isNullOrObject(); null || err != nil {
		return err
	}
	det := &types.CallbackDetails{}
	op.CallbackDetails = det
	it := d.beginObject()
	for it.next() {
		var err error
		switch string(it.key) {
		case "CallbackId":
			det.CallbackId, err = d.str()
		case "Result":
			det.Result, err = d.str()
		case "Error":
			det.Error, err = d.errorObject()
		default:
			err = d.skip()
		}
		it.fail(err)
	}
	return it.err
}

func (d *decoder) chainedInvokeDetails(op *types.Operation) error {
	if null, err := d.isNullOrObject(); null || err != nil {
		return err
	}
	det := &types.ChainedInvokeDetails{}
	op.ChainedInvokeDetails = det
	it := d.beginObject()
	for it.next() {
		var err error
		switch string(it.key) {
		case "Result":
			det.Result, err = d.str()
		case "Error":
			det.Error, err = d.errorObject()
		default:
			err = d.skip()
		}
		it.fail(err)
	}
	return it.err
}

func (d *decoder) errorObject() (*types.ErrorObject, error) {
	if null, err := d.isNullOrObject(); null || err != nil {
		return nil, err
	}
	e := &types.ErrorObject{}
	it := d.beginObject()
	for it.next() {
		var err error
		switch string(it.key) {
		case "ErrorType":
			e.ErrorType, err = d.str()
		case "ErrorMessage":
			e.ErrorMessage, err = d.str()
		case "ErrorData":
			e.ErrorData, err = d.str()
		case "StackTrace":
			e.StackTrace, err = d.stringList()
		default:
			err = d.skip()
		}
		it.fail(err)
	}
	return e, it.err
}

// stringList reads an array of strings, or null.
func (d *decoder) stringList() ([]string, error) {
	if d.literal("null") {
		return nil, nil
	}
	if err := d.expect('['); err != nil {
		return nil, err
	}
	list := []string{}
	d.skipSpace()
	if d.peek() == ']' {
		d.pos++
		return list, nil
	}
	for {
		d.skipSpace()
		b, err := d.rawString()
		if err != nil {
			return nil, err
		}
		list = append(list, string(b))
		d.skipSpace()
		switch d.next() {
		case ',':
		case ']':
			return list, nil
		default:
			return nil, d.errorf("expected , or ] in a list of strings")
		}
	}
}
