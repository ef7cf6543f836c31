package checkpointer

import "strconv"

// Mode selects when a finished at-least-once step returns to its caller. The
// [Batcher] does not read it: the step code decides whether to wait on the
// ticket of the step's SUCCEED. See the package documentation for the
// trade-off.
type Mode int

const (
	// Sync returns from a step only when its SUCCEED is durable. It is the
	// default.
	Sync Mode = iota
	// Pipelined returns from an at-least-once step at once; its updates
	// leave in order in the background.
	Pipelined
)

// String returns "Sync", "Pipelined" or "Mode(n)".
func (m Mode) String() string {
	switch m {
	case Sync:
		return "Sync"
	case Pipelined:
		return "Pipelined"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}
