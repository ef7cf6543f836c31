package local

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Defaults for the identity the service pretends to run as.
const (
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "123456789012"
	latestVersion    = "$LATEST"
)

// newRequestID returns a Lambda-style request id (a random UUID).
func newRequestID() string { return uuid.NewString() }

// randomHex returns n random bytes, hex encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// functionARN is the unqualified ARN of a function.
func (s *Service) functionARN(fn string) string {
	return "arn:aws:lambda:" + s.cfg.region + ":" + s.cfg.accountID + ":function:" + fn
}

// executionARN follows the shape of the real service:
// arn:aws:lambda:<region>:<account>:function:<fn>:<qualifier>/durable-execution/<name>/<id>.
func (s *Service) executionARN(fn, qualifier, name, id string) string {
	return s.functionARN(fn) + ":" + qualifier + "/durable-execution/" + name + "/" + id
}

// parseExecutionARN splits an execution ARN into its function name, qualifier,
// execution name and execution id. It accepts any partition, region and account.
func parseExecutionARN(arn string) (fn, qualifier, name, id string, ok bool) {
	head, tail, found := strings.Cut(arn, "/durable-execution/")
	if !found || !strings.HasPrefix(head, "arn:") {
		return "", "", "", "", false
	}
	name, id, found = strings.Cut(tail, "/")
	if !found || name == "" || id == "" || strings.Contains(id, "/") {
		return "", "", "", "", false
	}
	parts := strings.Split(head, ":")
	// arn:partition:lambda:region:account:function:name:qualifier
	if len(parts) != 8 || parts[2] != "lambda" || parts[5] != "function" || parts[6] == "" || parts[7] == "" {
		return "", "", "", "", false
	}
	return parts[6], parts[7], name, id, true
}

// parseFunctionName accepts the forms Lambda accepts for FunctionName: a name
// ("my-fn"), a name with qualifier ("my-fn:3"), a partial ARN
// ("123456789012:function:my-fn[:q]") and a full ARN
// ("arn:aws:lambda:us-east-1:123456789012:function:my-fn[:q]").
func parseFunctionName(s string) (name, qualifier string, ok bool) {
	parts := strings.Split(s, ":")
	switch {
	case len(parts) >= 7 && parts[0] == "arn":
		if parts[2] != "lambda" || parts[5] != "function" || len(parts) > 8 {
			return "", "", false
		}
		name = parts[6]
		if len(parts) == 8 {
			if qualifier = parts[7]; qualifier == "" {
				return "", "", false
			}
		}
	case len(parts) >= 3 && parts[1] == "function":
		if len(parts) > 4 {
			return "", "", false
		}
		name = parts[2]
		if len(parts) == 4 {
			if qualifier = parts[3]; qualifier == "" {
				return "", "", false
			}
		}
	case len(parts) == 1:
		name = parts[0]
	case len(parts) == 2:
		name, qualifier = parts[0], parts[1]
		if qualifier == "" {
			return "", "", false
		}
	default:
		return "", "", false
	}
	if !validFunctionName(name) || (qualifier != "" && !validQualifier(qualifier)) {
		return "", "", false
	}
	return name, qualifier, true
}

// validFunctionName reports whether s is a plain Lambda function name:
// 1..64 characters of [a-zA-Z0-9-_].
func validFunctionName(s string) bool { return len(s) <= 64 && isIDChars(s) }

func validQualifier(s string) bool {
	if s == latestVersion || s == "$LATEST.PUBLISHED" {
		return true
	}
	return len(s) <= 128 && isIDChars(s)
}

// isIDChars reports whether s is non-empty and made of [a-zA-Z0-9-_].
func isIDChars(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validOperationID: 1..64 of [a-zA-Z0-9-_].
func validOperationID(s string) bool { return len(s) <= 64 && isIDChars(s) }

// validExecutionName: 1..64 of [a-zA-Z0-9-_].
func validExecutionName(s string) bool { return len(s) <= 64 && isIDChars(s) }

// validSubType: 1..32 of [a-zA-Z0-9-_].
func validSubType(s string) bool { return len(s) <= 32 && isIDChars(s) }

// validName: 1..256 printable ASCII.
func validName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// Checkpoint tokens are base64("<invocation id>:<sequence>"): a token names
// the invocation it was issued to, so tokens of an earlier invocation of the
// same execution are refused.
func checkpointToken(invocationID string, seq int64) string {
	var buf [80]byte
	b := append(buf[:0], invocationID...)
	b = append(b, ':')
	b = strconv.AppendInt(b, seq, 10)
	return base64.StdEncoding.EncodeToString(b)
}

func parseCheckpointToken(tok string) (invocationID string, seq int64, ok bool) {
	if tok == "" || len(tok) > 2048 {
		return "", 0, false
	}
	raw, err := base64.StdEncoding.DecodeString(tok)
	if err != nil {
		return "", 0, false
	}
	s := string(raw)
	i := strings.LastIndexByte(s, ':')
	if i <= 0 {
		return "", 0, false
	}
	seq, err = strconv.ParseInt(s[i+1:], 10, 64)
	if err != nil {
		return "", 0, false
	}
	return s[:i], seq, true
}

// Callback ids are base64("cb1:<execution id>:<operation id>:<128 random bits>").
// They route themselves to their execution, and the random part, which is
// compared with the id stored on the operation, makes them unguessable.
func newCallbackID(execID, opID string) string {
	return base64.StdEncoding.EncodeToString([]byte("cb1:" + execID + ":" + opID + ":" + randomHex(16)))
}

func parseCallbackID(id string) (execID, opID string, ok bool) {
	if id == "" || len(id) > 1024 {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(id)
	if err != nil {
		return "", "", false
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 4 || parts[0] != "cb1" || parts[1] == "" || parts[2] == "" {
		return "", "", false
	}
	return parts[1], parts[2], true
}
