package local

import (
	"errors"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// A Store persists the service's executions: their records, operations and
// history events. The service keeps the live state in memory and writes every
// change through its Store before it answers the request that caused it, so
// a service started on the store of one that stopped (or crashed) resumes
// where it was: running executions are invoked again, their timers re-armed.
//
// The package provides two stores: [MemoryStore] (the default; it survives a
// [Service.Close] but not the process) and [SQLiteStore] (a single SQLite
// file). Store has unexported methods because its records are internal to
// this package.
type Store interface {
	// Close releases the store. The service closes its store on
	// [Service.Close].
	Close() error

	// load returns every stored execution, in creation order.
	load() ([]*storedExecution, error)
	// commit writes one change set atomically.
	commit(c *commit) error
}

// storedExecution is one execution as a store returns it.
type storedExecution struct {
	rec    execRecord
	ops    []operation // in start order
	events []*types.Event
}

// commit is one atomic change of one execution.
type commit struct {
	arn     string
	rec     *execRecord // nil if unchanged
	ops     []operation // new or changed, copies
	events  []*types.Event
	deleted bool // the execution is removed (retention expired)
}

// change accumulates what an execution changed since its last commit.
type change struct {
	exec    bool
	ops     []*operation
	events  []*types.Event
	deleted bool
}

func (c *change) op(o *operation) {
	if !o.inChg {
		o.inChg = true
		c.ops = append(c.ops, o)
	}
}

func (c *change) event(ev *types.Event) { c.events = append(c.events, ev) }

func (c *change) empty() bool {
	return !c.exec && len(c.ops) == 0 && len(c.events) == 0 && !c.deleted
}

// errStoreClosed is returned by a closed store.
var errStoreClosed = errors.New("durable: store is closed")

// MemoryStore keeps the service's state in memory. It outlives the
// [Service] that uses it, so a test can close a service and start another on
// the same MemoryStore to simulate a restart. The zero value is not usable;
// call [NewMemoryStore].
type MemoryStore struct {
	mu     sync.Mutex
	execs  map[string]*memExecution
	closed bool
}

type memExecution struct {
	rec    execRecord
	ops    map[string]operation
	events []*types.Event
}

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{execs: map[string]*memExecution{}}
}

// Close marks the store closed for the service using it; a new service can
// reopen it with [WithStore], which makes it usable again.
func (m *MemoryStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

func (m *MemoryStore) load() ([]*storedExecution, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = false
	out := make([]*storedExecution, 0, len(m.execs))
	for _, me := range m.execs {
		se := &storedExecution{rec: me.rec, events: slices.Clone(me.events)}
		for _, o := range me.ops {
			se.ops = append(se.ops, o)
		}
		slices.SortFunc(se.ops, func(a, b operation) int { return int(a.Seq - b.Seq) })
		out = append(out, se)
	}
	slices.SortFunc(out, func(a, b *storedExecution) int { return int(a.rec.Seq - b.rec.Seq) })
	return out, nil
}

func (m *MemoryStore) commit(c *commit) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errStoreClosed
	}
	if c.deleted {
		delete(m.execs, c.arn)
		return nil
	}
	me := m.execs[c.arn]
	if me == nil {
		me = &memExecution{ops: map[string]operation{}}
		m.execs[c.arn] = me
	}
	if c.rec != nil {
		me.rec = *c.rec
	}
	for _, o := range c.ops {
		me.ops[o.ID] = o
	}
	me.events = append(me.events, c.events...)
	return nil
}
