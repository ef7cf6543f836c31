package checkpointer

import (
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// The size of a call is estimated from above, never below, so that a batch
// the estimate accepts is never over the service's limit.
const (
	// fieldOverhead covers a member's quoted key, colon and comma; the
	// longest key, "ChainedInvokeOptions", needs 24 bytes.
	fieldOverhead = 32
	// numberOverhead covers a member holding an int32 or a bool.
	numberOverhead = fieldOverhead + 11
	// callOverhead covers the request body around the updates: the
	// ClientToken member, the CheckpointToken key (its value is counted
	// apart) and the Updates brackets.
	callOverhead = 128
)

// escapedLen[c] is the encoded length of ASCII byte c inside a JSON string.
var escapedLen = func() (t [utf8.RuneSelf]uint8) {
	for c := range t {
		switch {
		case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
			t[c] = 2
		case c < 0x20 || c == 0x7f:
			t[c] = 6 // \u00XX; the SDK escapes DEL too
		default:
			t[c] = 1
		}
	}
	return t
}()

// stringSize returns the length of s encoded as a JSON string member.
// Invalid UTF-8 bytes and U+2028/U+2029 count 6 bytes each, the longest
// encoding any JSON encoder gives them.
func stringSize(s string) int {
	n := fieldOverhead + 2
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			n += int(escapedLen[c])
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
			n += 6
		} else {
			n += size
		}
		i += size
	}
	return n
}

func ptrSize(s *string) int {
	if s == nil {
		return 0
	}
	return stringSize(*s)
}

// updateSize returns an upper bound of the size of u in a request body,
// including the separating comma.
func updateSize(u *types.OperationUpdate) int {
	n := 3 + // braces and comma
		stringSize(string(u.Action)) +
		stringSize(string(u.Type)) +
		ptrSize(u.Id) +
		ptrSize(u.ParentId) +
		ptrSize(u.Name) +
		ptrSize(u.SubType) +
		ptrSize(u.Payload)
	if e := u.Error; e != nil {
		n += fieldOverhead + 2 + ptrSize(e.ErrorData) + ptrSize(e.ErrorMessage) + ptrSize(e.ErrorType)
		if e.StackTrace != nil {
			n += fieldOverhead + 2
			for _, l := range e.StackTrace {
				n += stringSize(l)
			}
		}
	}
	if o := u.ChainedInvokeOptions; o != nil {
		n += fieldOverhead + 2 + ptrSize(o.FunctionName) + ptrSize(o.TenantId) + ptrSize(o.XAmznTraceId)
	}
	if u.CallbackOptions != nil {
		n += fieldOverhead + 2 + 2*numberOverhead
	}
	if u.ContextOptions != nil {
		n += fieldOverhead + 2 + numberOverhead
	}
	if u.StepOptions != nil {
		n += fieldOverhead + 2 + numberOverhead
	}
	if u.WaitOptions != nil {
		n += fieldOverhead + 2 + numberOverhead
	}
	return n
}
