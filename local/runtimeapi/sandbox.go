package runtimeapi

import (
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// shutdownGrace is how long a process that registered for SIGTERM is
	// given to exit on Close, as Lambda does for internal extensions.
	shutdownGrace = 500 * time.Millisecond
	// outputDrainTimeout bounds the wait for the handler's output to be
	// copied after it exited (a grandchild may hold the pipe open).
	outputDrainTimeout = time.Second
)

// invocation is one event handed to a sandbox.
type invocation struct {
	req      Request
	deadline time.Time
	result   chan result // buffered(1); sent to once, by whoever completes it
}

type result struct {
	payload []byte
	err     error
}

// sandbox is one handler process plus the Runtime API server it talks to.
// Each process gets its own server, so a request from a dead process can
// never consume an event meant for its successor.
type sandbox struct {
	f         *Function
	srv       *http.Server
	serveDone chan struct{}
	cmd       *exec.Cmd

	next       chan chan<- *invocation // slots of pending /next long-polls (unbuffered)
	ready      chan struct{}           // closed on the first GET /next
	readyOnce  sync.Once
	initFailed chan struct{} // closed after initErr is set
	initOnce   sync.Once
	initErr    *InvocationError
	exited     chan struct{} // closed after cmd.Wait returned
	done       chan struct{} // closed when the server is being torn down
	sigterm    atomic.Bool   // an extension registered: SIGTERM before SIGKILL on Close

	mu       sync.Mutex
	current  *invocation // handed out by /next, awaiting /response or /error
	closed   bool        // no new handlers may start
	handlers sync.WaitGroup

	copiers sync.WaitGroup
	readers []*os.File

	shutdownOnce sync.Once
}

func startSandbox(f *Function) (*sandbox, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtime API listener: %w", err)
	}
	sb := &sandbox{
		f:          f,
		serveDone:  make(chan struct{}),
		next:       make(chan chan<- *invocation),
		ready:      make(chan struct{}),
		initFailed: make(chan struct{}),
		exited:     make(chan struct{}),
		done:       make(chan struct{}),
	}
	sb.srv = &http.Server{
		Handler:           sb.routes(),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() {
		defer close(sb.serveDone)
		_ = sb.srv.Serve(ln)
	}()

	cmd := exec.Command(f.path)
	cmd.Dir = filepath.Dir(f.path)
	cmd.Env = f.env(ln.Addr().String(), logStreamName())
	cmd.SysProcAttr = sysProcAttr()
	sb.cmd = cmd
	childEnds, err := sb.setupOutput(cmd, f.cfg.stdout, f.cfg.stderr)
	if err == nil {
		err = cmd.Start()
	}
	for _, w := range childEnds {
		_ = w.Close()
	}
	if err != nil {
		close(sb.exited)
		sb.stopServer()
		sb.drainOutput()
		return nil, err
	}
	go func() {
		_ = cmd.Wait()
		close(sb.exited)
	}()
	return sb, nil
}

func (sb *sandbox) isReady() bool {
	select {
	case <-sb.ready:
		return true
	default:
		return false
	}
}

// failure describes why the sandbox could not run an invocation. It must be
// called after the process exited.
func (sb *sandbox) failure(requestID string) error {
	select {
	case <-sb.initFailed:
		e := *sb.initErr
		e.RequestID = requestID
		return &e
	default:
	}
	status, code := "unknown", -1
	if st := sb.cmd.ProcessState; st != nil {
		status, code = st.String(), st.ExitCode()
	}
	return newExitError(requestID, !sb.isReady(), status, code)
}

// complete delivers the result of the current invocation if id matches it.
func (sb *sandbox) complete(id string, r result) bool {
	sb.mu.Lock()
	inv := sb.current
	if inv == nil || inv.req.RequestID != id {
		sb.mu.Unlock()
		return false
	}
	sb.current = nil
	sb.mu.Unlock()
	inv.result <- r
	return true
}

// shutdown kills the process (after SIGTERM and a grace period if graceful
// and requested by the handler), stops the server and waits for every
// goroutine of the sandbox to end.
func (sb *sandbox) shutdown(graceful bool) {
	sb.shutdownOnce.Do(func() {
		p := sb.cmd.Process
		if graceful && sb.sigterm.Load() {
			select {
			case <-sb.exited:
			default:
				if terminate(p) == nil {
					t := time.NewTimer(shutdownGrace)
					select {
					case <-sb.exited:
					case <-t.C:
					}
					t.Stop()
				}
			}
		}
		kill(p) // also reaps stragglers in the process group
		<-sb.exited
		sb.stopServer()
		sb.drainOutput()
	})
}

func (sb *sandbox) stopServer() {
	sb.mu.Lock()
	sb.closed = true
	sb.mu.Unlock()
	close(sb.done)
	_ = sb.srv.Close()
	<-sb.serveDone
	sb.handlers.Wait()
}

// setupOutput connects the process's stdout and stderr. Writers that are not
// files get a pipe and a copying goroutine of our own (instead of exec's), so
// that cmd.Wait returns as soon as the process exits. The returned child ends
// must be closed once the process started.
func (sb *sandbox) setupOutput(cmd *exec.Cmd, stdout, stderr io.Writer) ([]*os.File, error) {
	var childEnds []*os.File
	out, err := sb.outputFile(stdout, &childEnds)
	if err != nil {
		return childEnds, err
	}
	errf := out
	if !sameWriter(stdout, stderr) {
		if errf, err = sb.outputFile(stderr, &childEnds); err != nil {
			return childEnds, err
		}
	}
	if out != nil {
		cmd.Stdout = out
	}
	if errf != nil {
		cmd.Stderr = errf
	}
	return childEnds, nil
}

func (sb *sandbox) outputFile(w io.Writer, childEnds *[]*os.File) (*os.File, error) {
	if w == nil {
		return nil, nil // exec uses the null device
	}
	if f, ok := w.(*os.File); ok {
		return f, nil
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	*childEnds = append(*childEnds, pw)
	sb.readers = append(sb.readers, pr)
	sb.copiers.Add(1)
	go func() {
		defer sb.copiers.Done()
		_, _ = io.Copy(w, pr)
		_ = pr.Close()
	}()
	return pw, nil
}

// drainOutput waits for the output copiers, forcing them to stop if a
// descendant of the handler keeps the pipes open.
func (sb *sandbox) drainOutput() {
	done := make(chan struct{})
	go func() {
		sb.copiers.Wait()
		close(done)
	}()
	t := time.NewTimer(outputDrainTimeout)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	for _, r := range sb.readers {
		_ = r.Close()
	}
	t.Reset(outputDrainTimeout)
	select {
	case <-done:
	case <-t.C: // a writer is stuck in Write; don't hang Close on it
	}
}

func sameWriter(a, b io.Writer) (same bool) {
	defer func() {
		if recover() != nil {
			same = false // uncomparable dynamic types
		}
	}()
	return a == b
}

func logStreamName() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/[$LATEST]%x", time.Now().UTC().Format("2006/01/02"), b)
}
