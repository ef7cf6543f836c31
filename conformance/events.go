package conformance

import (
	"encoding/base64"
	"fmt"
	"math/big"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/document"
	smithytime "github.com/aws/smithy-go/time"
	"github.com/aws/smithy-go/traits"
)

// Histories reach the harness in one of two forms: the JSON body of
// GetDurableExecutionHistory, or the aws-sdk-go-v2 []types.Event a client
// decoded from it. Both become []map[string]any shaped like the wire JSON,
// which is what the Python runner matches against: PascalCase keys, absent
// fields omitted, details objects present even when empty, payloads as the
// raw strings they are on the wire.

// DecodeHistory decodes a history from JSON: either a
// GetDurableExecutionHistory response ({"Events": [...], ...}) or a bare
// list of events. Integers stay int64 ([DecodeJSON]).
func DecodeHistory(data []byte) ([]map[string]any, error) {
	v, err := DecodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("conformance: decode history: %w", err)
	}
	if m, ok := v.(map[string]any); ok {
		v = m["Events"]
		if v == nil {
			return nil, nil
		}
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("conformance: decode history: expected a list of events or an object with Events, got %s", describe(v))
	}
	events := make([]map[string]any, len(list))
	for i, x := range list {
		ev, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("conformance: decode history: event %d is %s, not an object", i, describe(x))
		}
		events[i] = ev
	}
	return events, nil
}

// EventsFromSDK converts events decoded by the aws-sdk-go-v2 Lambda client
// to the wire JSON shape. It drives each event's generated serializer, so
// member names, omitted nil fields and nested details are exactly the
// service's: EventTimestamp becomes epoch seconds (a float64) as in the
// restJson1 body, EventId an int64.
func EventsFromSDK(events []types.Event) []map[string]any {
	out := make([]map[string]any, len(events))
	for i := range events {
		s := &treeSerializer{}
		events[i].Serialize(s)
		m, _ := s.root.(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		out[i] = m
	}
	return out
}

// treeSerializer is a [smithy.ShapeSerializer] that builds the value tree
// encoding/json would decode from the restJson1 body, instead of bytes.
type treeSerializer struct {
	root  any
	stack []*treeFrame
}

type treeFrame struct {
	obj    map[string]any
	list   []any
	isList bool
	key    string // the next map or union key, set by WriteKey or WriteUnion
	hasKey bool
	place  func(any)
}

var _ smithy.ShapeSerializer = (*treeSerializer)(nil)

func memberName(schema *smithy.Schema) string {
	if schema == nil {
		return ""
	}
	if jn, ok := smithy.SchemaTrait[*traits.JSONName](schema); ok {
		return jn.Name
	}
	return schema.MemberName()
}

// placer returns where a value written now with schema belongs.
func (s *treeSerializer) placer(schema *smithy.Schema) func(any) {
	if len(s.stack) == 0 {
		return func(v any) { s.root = v }
	}
	f := s.stack[len(s.stack)-1]
	if f.isList {
		return func(v any) { f.list = append(f.list, v) }
	}
	key := memberName(schema)
	if f.hasKey {
		key, f.hasKey = f.key, false
	}
	return func(v any) { f.obj[key] = v }
}

func (s *treeSerializer) put(schema *smithy.Schema, v any) { s.placer(schema)(v) }

func (s *treeSerializer) open(schema *smithy.Schema, isList bool) {
	f := &treeFrame{isList: isList, place: s.placer(schema)}
	if isList {
		f.list = []any{}
	} else {
		f.obj = map[string]any{}
	}
	s.stack = append(s.stack, f)
}

func (s *treeSerializer) close() {
	f := s.stack[len(s.stack)-1]
	s.stack = s.stack[:len(s.stack)-1]
	if f.isList {
		f.place(f.list)
	} else {
		f.place(f.obj)
	}
}

func (s *treeSerializer) Bytes() []byte { return nil }

func (s *treeSerializer) WriteInt8(sc *smithy.Schema, v int8)       { s.put(sc, int64(v)) }
func (s *treeSerializer) WriteInt16(sc *smithy.Schema, v int16)     { s.put(sc, int64(v)) }
func (s *treeSerializer) WriteInt32(sc *smithy.Schema, v int32)     { s.put(sc, int64(v)) }
func (s *treeSerializer) WriteInt64(sc *smithy.Schema, v int64)     { s.put(sc, v) }
func (s *treeSerializer) WriteFloat32(sc *smithy.Schema, v float32) { s.put(sc, float64(v)) }
func (s *treeSerializer) WriteFloat64(sc *smithy.Schema, v float64) { s.put(sc, v) }
func (s *treeSerializer) WriteBool(sc *smithy.Schema, v bool)       { s.put(sc, v) }
func (s *treeSerializer) WriteString(sc *smithy.Schema, v string)   { s.put(sc, v) }
func (s *treeSerializer) WriteNil(sc *smithy.Schema)                { s.put(sc, nil) }

func (s *treeSerializer) WriteBigInt(sc *smithy.Schema, v *big.Int) {
	if v.IsInt64() {
		s.put(sc, v.Int64())
		return
	}
	f, _ := new(big.Float).SetInt(v).Float64()
	s.put(sc, f)
}

func (s *treeSerializer) WriteBigFloat(sc *smithy.Schema, v *big.Float) {
	f, _ := v.Float64()
	s.put(sc, f)
}

func (s *treeSerializer) WriteBlob(sc *smithy.Schema, v []byte) {
	s.put(sc, base64.StdEncoding.EncodeToString(v))
}

func (s *treeSerializer) WriteTime(sc *smithy.Schema, v time.Time) {
	format := "epoch-seconds"
	if t, ok := smithy.SchemaTrait[*traits.TimestampFormat](sc); ok {
		format = t.Format
	}
	switch format {
	case "date-time":
		s.put(sc, smithytime.FormatDateTime(v))
	case "http-date":
		s.put(sc, smithytime.FormatHTTPDate(v))
	default:
		s.put(sc, smithytime.FormatEpochSeconds(v))
	}
}

func (s *treeSerializer) WriteDocument(sc *smithy.Schema, v document.Value) {
	// No event member is a document; keep whatever the value holds.
	s.put(sc, v)
}

func (s *treeSerializer) WriteUnion(schema, variant *smithy.Schema) {
	s.open(schema, false)
	f := s.stack[len(s.stack)-1]
	f.key, f.hasKey = memberName(variant), true
}

func (s *treeSerializer) CloseUnion()                   { s.close() }
func (s *treeSerializer) WriteStruct(sc *smithy.Schema) { s.open(sc, false) }
func (s *treeSerializer) CloseStruct()                  { s.close() }
func (s *treeSerializer) WriteList(sc *smithy.Schema)   { s.open(sc, true) }
func (s *treeSerializer) CloseList()                    { s.close() }
func (s *treeSerializer) WriteMap(sc *smithy.Schema)    { s.open(sc, false) }
func (s *treeSerializer) CloseMap()                     { s.close() }
func (s *treeSerializer) WriteKey(_ *smithy.Schema, k string) {
	f := s.stack[len(s.stack)-1]
	f.key, f.hasKey = k, true
}
