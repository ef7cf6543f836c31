package durable

import (
	"encoding/json"
	"fmt"
	"unsafe"
)

// Serdes turns operation results into the text recorded in the history and
// back. Deserialize receives a pointer to the value to fill.
type Serdes interface {
	Serialize(v any) (string, error)
	Deserialize(data string, ptr any) error
}

// JSON is the default Serdes: encoding/json.
var JSON Serdes = jsonSerdes{}

type jsonSerdes struct{}

func (jsonSerdes) Serialize(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func (jsonSerdes) Deserialize(data string, ptr any) error {
	if data == "" {
		return nil
	}
	// Unmarshal neither modifies nor keeps its input, so the string's bytes
	// can be read in place instead of copied on every replayed step.
	return json.Unmarshal(unsafe.Slice(unsafe.StringData(data), len(data)), ptr)
}

// Raw is a Serdes for string values recorded as they are, without JSON
// quoting: what callbacks use by default.
var Raw Serdes = rawSerdes{}

type rawSerdes struct{}

func (rawSerdes) Serialize(v any) (string, error) {
	switch s := v.(type) {
	case string:
		return s, nil
	case []byte:
		return string(s), nil
	}
	return "", fmt.Errorf("durable: Raw serdes records strings, not %T", v)
}

func (rawSerdes) Deserialize(data string, ptr any) error {
	switch p := ptr.(type) {
	case *string:
		*p = data
		return nil
	case *[]byte:
		*p = []byte(data)
		return nil
	}
	return fmt.Errorf("durable: Raw serdes decodes into *string, not %T", ptr)
}

// encode serializes v, failing with a message naming the operation.
func encode(s Serdes, what, name string, v any) (string, error) {
	out, err := s.Serialize(v)
	if err != nil {
		return "", fmt.Errorf("durable: cannot serialize the result of %s %q: %w", what, name, err)
	}
	if len(out) > MaxPayloadBytes {
		return "", &PayloadTooLargeError{What: what, Name: name, Size: len(out), Limit: MaxPayloadBytes}
	}
	return out, nil
}

func decode[T any](s Serdes, what, name, data string) (T, error) {
	var v T
	if err := s.Deserialize(data, &v); err != nil {
		return v, fmt.Errorf("durable: cannot deserialize the recorded result of %s %q into %T: %w", what, name, v, err)
	}
	return v, nil
}

// MaxPayloadBytes is the largest result the service accepts for one
// operation (1 MiB).
const MaxPayloadBytes = 1 << 20

// PayloadTooLargeError reports a result over the service's limit. It is
// detected before any checkpoint call, so nothing is lost: shrink the
// result, or keep the data elsewhere (S3, DynamoDB) and record a reference.
type PayloadTooLargeError struct {
	What, Name  string
	Size, Limit int
}

func (e *PayloadTooLargeError) Error() string {
	return fmt.Sprintf("durable: the result of %s %q is %d bytes, over the %d-byte limit of one operation: "+
		"return a smaller value, or store the data elsewhere and return a reference", e.What, e.Name, e.Size, e.Limit)
}
