package local

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// SQLiteStore keeps the service's state in one SQLite file (pure Go, through
// modernc.org/sqlite), in WAL mode with synchronous=FULL: a change is on disk
// before the service answers the request that made it. Three tables hold the
// executions, their operations and their history events, each row a JSON
// document keyed by the execution ARN.
//
// A file is meant for one service at a time.
type SQLiteStore struct {
	mu     sync.Mutex
	db     *sql.DB
	closed bool
}

const sqliteSchema = `
CREATE TABLE IF NOT EXISTS executions (
	arn      TEXT PRIMARY KEY,
	function TEXT NOT NULL,
	name     TEXT NOT NULL,
	status   TEXT NOT NULL,
	seq      INTEGER NOT NULL,
	start_ms INTEGER NOT NULL,
	end_ms   INTEGER,
	data     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS executions_by_function ON executions (function, seq);
CREATE TABLE IF NOT EXISTS operations (
	arn  TEXT NOT NULL,
	id   TEXT NOT NULL,
	seq  INTEGER NOT NULL,
	data TEXT NOT NULL,
	PRIMARY KEY (arn, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
	arn      TEXT NOT NULL,
	event_id INTEGER NOT NULL,
	data     TEXT NOT NULL,
	PRIMARY KEY (arn, event_id)
) WITHOUT ROWID;
`

// OpenSQLite opens (creating it if needed) the SQLite store at path.
func OpenSQLite(path string) (*SQLiteStore, error) {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, fmt.Errorf("durable: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer; the pragmas below are per connection
	for _, stmt := range []string{
		"PRAGMA journal_mode=WAL",
		"PRAGMA synchronous=FULL",
		"PRAGMA busy_timeout=5000",
		"PRAGMA foreign_keys=OFF",
		sqliteSchema,
	} {
		if _, err := db.Exec(stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("durable: open %s: %w", path, err)
		}
	}
	return &SQLiteStore{db: db}, nil
}

// Close closes the database.
func (st *SQLiteStore) Close() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return nil
	}
	st.closed = true
	return st.db.Close()
}

func (st *SQLiteStore) commit(c *commit) (err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return errStoreClosed
	}
	tx, err := st.db.Begin()
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if c.deleted {
		for _, q := range []string{
			"DELETE FROM events WHERE arn = ?",
			"DELETE FROM operations WHERE arn = ?",
			"DELETE FROM executions WHERE arn = ?",
		} {
			if _, err = tx.Exec(q, c.arn); err != nil {
				return err
			}
		}
		return tx.Commit()
	}
	if r := c.rec; r != nil {
		data, err := json.Marshal(r)
		if err != nil {
			return err
		}
		var end any
		if !r.End.IsZero() {
			end = r.End.UnixMilli()
		}
		if _, err = tx.Exec(`INSERT INTO executions (arn, function, name, status, seq, start_ms, end_ms, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (arn) DO UPDATE SET status = excluded.status, end_ms = excluded.end_ms, data = excluded.data`,
			r.ARN, r.Function, r.Name, string(r.Status), r.Seq, r.Start.UnixMilli(), end, string(data)); err != nil {
			return err
		}
	}
	for i := range c.ops {
		o := &c.ops[i]
		data, err := json.Marshal(o)
		if err != nil {
			return err
		}
		if _, err = tx.Exec(`INSERT INTO operations (arn, id, seq, data) VALUES (?, ?, ?, ?)
			ON CONFLICT (arn, id) DO UPDATE SET data = excluded.data`, c.arn, o.ID, o.Seq, string(data)); err != nil {
			return err
		}
	}
	for _, ev := range c.events {
		data, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		if _, err = tx.Exec(`INSERT INTO events (arn, event_id, data) VALUES (?, ?, ?)`, c.arn, *ev.EventId, string(data)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (st *SQLiteStore) load() ([]*storedExecution, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return nil, errStoreClosed
	}
	var out []*storedExecution
	byARN := map[string]*storedExecution{}
	rows, err := st.db.Query("SELECT data FROM executions ORDER BY seq")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			rows.Close()
			return nil, err
		}
		se := &storedExecution{}
		if err := json.Unmarshal([]byte(data), &se.rec); err != nil {
			rows.Close()
			return nil, fmt.Errorf("corrupt execution record: %w", err)
		}
		out = append(out, se)
		byARN[se.rec.ARN] = se
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	rows, err = st.db.Query("SELECT arn, data FROM operations ORDER BY arn, seq")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var arn, data string
		if err := rows.Scan(&arn, &data); err != nil {
			rows.Close()
			return nil, err
		}
		var o operation
		if err := json.Unmarshal([]byte(data), &o); err != nil {
			rows.Close()
			return nil, fmt.Errorf("corrupt operation record: %w", err)
		}
		if se := byARN[arn]; se != nil {
			se.ops = append(se.ops, o)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	rows, err = st.db.Query("SELECT arn, data FROM events ORDER BY arn, event_id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var arn, data string
		if err := rows.Scan(&arn, &data); err != nil {
			return nil, err
		}
		ev := &types.Event{}
		if err := json.Unmarshal([]byte(data), ev); err != nil {
			return nil, fmt.Errorf("corrupt event record: %w", err)
		}
		if se := byARN[arn]; se != nil {
			se.events = append(se.events, ev)
		}
	}
	return out, rows.Err()
}
