package conformance

import (
	"bytes"
	"sync"
	"time"
)

// logSink captures the lines handlers, SDK loggers and plugins write during a
// run (README §4.1 item 3: the log sink). Each complete line becomes a
// LogRecord stamped with the wall-clock time it arrived and a sequence number
// that only grows, so records sort in arrival order. It is an io.Writer safe
// for concurrent use; a write may hold several lines or part of one.
type logSink struct {
	mu      sync.Mutex
	partial []byte
	seq     int64
	records []LogRecord
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	data := p
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			s.partial = append(s.partial, data...)
			break
		}
		line := append(s.partial, data[:i]...)
		s.partial = nil
		data = data[i+1:]
		s.add(now, string(bytes.TrimRight(line, "\r")))
	}
	return len(p), nil
}

func (s *logSink) add(now time.Time, line string) {
	if line == "" {
		return
	}
	s.seq++
	s.records = append(s.records, LogRecord{Timestamp: now, Sequence: s.seq, Line: line})
}

// Records returns the captured lines, a trailing partial line included.
func (s *logSink) Records() []LogRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]LogRecord(nil), s.records...)
	if len(s.partial) > 0 {
		out = append(out, LogRecord{Timestamp: time.Now(), Sequence: s.seq + 1, Line: string(s.partial)})
	}
	return out
}
