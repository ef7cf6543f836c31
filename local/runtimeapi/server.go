package runtimeapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// Header names of the Runtime API, as used by aws-lambda-go.
const (
	headerRequestID          = "Lambda-Runtime-Aws-Request-Id"
	headerDeadlineMS         = "Lambda-Runtime-Deadline-Ms"
	headerInvokedFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID            = "Lambda-Runtime-Trace-Id"
	headerClientContext      = "Lambda-Runtime-Client-Context"
	headerCognitoIdentity    = "Lambda-Runtime-Cognito-Identity"
	headerTenantID           = "Lambda-Runtime-Aws-Tenant-Id"
	headerErrorType          = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody         = "Lambda-Runtime-Function-Error-Body"
	headerExtensionName      = "Lambda-Extension-Name"
	headerExtensionID        = "Lambda-Extension-Identifier"
)

func (sb *sandbox) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", sb.handleNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", sb.handleResponse)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", sb.handleError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", sb.handleInitError)
	mux.HandleFunc("POST /2020-01-01/extension/register", sb.handleExtensionRegister)
	mux.HandleFunc("GET /2020-01-01/extension/event/next", sb.handleExtensionNext)
	return sb.track(mux)
}

// track counts running handlers so that stopServer can wait for them.
func (sb *sandbox) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sb.mu.Lock()
		if sb.closed {
			sb.mu.Unlock()
			writeAPIError(w, http.StatusInternalServerError, "Runtime.Shutdown", "sandbox is shutting down")
			return
		}
		sb.handlers.Add(1)
		sb.mu.Unlock()
		defer sb.handlers.Done()
		h.ServeHTTP(w, r)
	})
}

// GET /runtime/invocation/next: long-poll until an event is handed over.
func (sb *sandbox) handleNext(w http.ResponseWriter, r *http.Request) {
	sb.readyOnce.Do(func() { close(sb.ready) })
	// Offer a slot; whoever takes it fills it at once, so that the deadline
	// is computed at the moment of hand-over.
	slot := make(chan *invocation, 1)
	select {
	case sb.next <- slot:
	case <-r.Context().Done():
		return
	case <-sb.done:
		writeAPIError(w, http.StatusInternalServerError, "Runtime.Shutdown", "sandbox is shutting down")
		return
	}
	inv := <-slot
	if inv == nil {
		writeAPIError(w, http.StatusInternalServerError, "Runtime.Shutdown", "sandbox is shutting down")
		return
	}
	sb.mu.Lock()
	sb.current = inv
	sb.mu.Unlock()

	req := &inv.req
	h := w.Header()
	h.Set(headerRequestID, req.RequestID)
	h.Set(headerDeadlineMS, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set(headerInvokedFunctionARN, req.InvokedFunctionARN)
	setIf(h, headerTraceID, req.TraceID)
	setIf(h, headerClientContext, req.ClientContext)
	setIf(h, headerCognitoIdentity, req.CognitoIdentity)
	setIf(h, headerTenantID, req.TenantID)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(req.Payload)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(req.Payload)
}

// POST /runtime/invocation/{id}/response
func (sb *sandbox) handleResponse(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, tooLarge, err := readBody(r.Body, MaxResponseSize)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	var res result
	switch {
	case tooLarge:
		msg := fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxResponseSize)
		res.err = &InvocationError{
			Type:      ErrorTypeResponseTooLarge,
			Message:   msg,
			RequestID: id,
			Payload:   errorDocument(ErrorTypeResponseTooLarge, msg),
		}
	case r.Trailer.Get(headerErrorType) != "":
		// aws-lambda-go reports a failure while streaming the response
		// (reading the handler's io.Reader) in trailers.
		ie := trailerError(r.Trailer)
		ie.RequestID = id
		res.err = ie
	default:
		res.payload = body
	}
	if !sb.complete(id, res) {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID: "+id)
		return
	}
	if tooLarge {
		writeAPIError(w, http.StatusRequestEntityTooLarge, ErrorTypeResponseTooLarge, res.err.(*InvocationError).Message)
		return
	}
	accepted(w)
}

// POST /runtime/invocation/{id}/error
func (sb *sandbox) handleError(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, _, err := readBody(r.Body, MaxResponseSize)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	var ie *InvocationError
	if len(body) == 0 && r.Trailer.Get(headerErrorType) != "" {
		ie = trailerError(r.Trailer)
	} else {
		ie = parseErrorDocument(body, firstNonEmpty(r.Header.Get(headerErrorType), r.Trailer.Get(headerErrorType)))
	}
	ie.RequestID = id
	if !sb.complete(id, result{err: ie}) {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID: "+id)
		return
	}
	accepted(w)
}

// POST /runtime/init/error
func (sb *sandbox) handleInitError(w http.ResponseWriter, r *http.Request) {
	body, _, err := readBody(r.Body, MaxResponseSize)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	if sb.isReady() {
		writeAPIError(w, http.StatusForbidden, "InvalidStateTransition", "init error reported after initialization")
		return
	}
	ie := parseErrorDocument(body, firstNonEmpty(r.Header.Get(headerErrorType), r.Trailer.Get(headerErrorType)))
	ie.Init = true
	sb.initOnce.Do(func() {
		sb.initErr = ie
		close(sb.initFailed)
	})
	accepted(w)
}

// POST /2020-01-01/extension/register: just enough for aws-lambda-go's
// lambda.WithEnableSIGTERM, which registers an extension for no events.
func (sb *sandbox) handleExtensionRegister(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	if r.Header.Get(headerExtensionName) == "" {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequest", "missing "+headerExtensionName)
		return
	}
	sb.sigterm.Store(true)
	w.Header().Set(headerExtensionID, newUUID())
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"functionName":    sb.f.cfg.name,
		"functionVersion": "$LATEST",
		"handler":         sb.f.cfg.handler,
	})
}

// GET /2020-01-01/extension/event/next: no events are ever delivered.
func (sb *sandbox) handleExtensionNext(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-sb.done:
		writeAPIError(w, http.StatusInternalServerError, "Extension.Shutdown", "sandbox is shutting down")
	}
}

func trailerError(t http.Header) *InvocationError {
	typ := t.Get(headerErrorType)
	body, err := base64.StdEncoding.DecodeString(t.Get(trailerErrorBody))
	if err != nil {
		body = nil
	}
	return parseErrorDocument(body, typ)
}

// readBody reads at most limit bytes; tooLarge reports a longer body.
func readBody(body io.Reader, limit int64) (b []byte, tooLarge bool, err error) {
	b, err = io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(b)) > limit {
		return b[:limit], true, nil
	}
	return b, false, nil
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func writeAPIError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(errorDocument(typ, msg))
}

func setIf(h http.Header, k, v string) {
	if v != "" {
		h.Set(k, v)
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
