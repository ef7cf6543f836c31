package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Request body limits: the largest legal request plus room for the JSON
// around it.
const (
	maxCheckpointBody = maxExecutionPayload + 2<<20
	maxInvokeBody     = maxExecutionPayload
	maxCallbackBody   = maxPayload
	maxErrorBody      = maxErrorBytes + 64<<10
)

// Handler returns the service's HTTP API: the Lambda durable execution API
// (API version 2025-12-01) and Invoke (2015-03-31), with the routes, JSON
// shapes and error responses of the real service (protocol.md §2), so that
// the AWS SDKs work against it with only their endpoint changed:
//
//	POST /2025-12-01/durable-executions/{arn}/checkpoint
//	GET  /2025-12-01/durable-executions/{arn}/state
//	GET  /2025-12-01/durable-executions/{arn}
//	GET  /2025-12-01/durable-executions/{arn}/history
//	POST /2025-12-01/durable-executions/{arn}/stop
//	GET  /2025-12-01/functions/{name}/durable-executions
//	POST /2025-12-01/durable-execution-callbacks/{id}/succeed
//	POST /2025-12-01/durable-execution-callbacks/{id}/fail
//	POST /2025-12-01/durable-execution-callbacks/{id}/heartbeat
//	POST /2015-03-31/functions/{name}/invocations
//
// Errors carry X-Amzn-ErrorType and a JSON body {"Type", "message",
// "Message"}. Requests are not authenticated; any SigV4 signature is ignored.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	const d = "/2025-12-01/durable-executions/{arn}"
	mux.HandleFunc("POST "+d+"/checkpoint", s.httpCheckpoint)
	mux.HandleFunc("GET "+d+"/state", s.httpState)
	mux.HandleFunc("GET "+d, s.httpGetExecution)
	mux.HandleFunc("GET "+d+"/history", s.httpHistory)
	mux.HandleFunc("POST "+d+"/stop", s.httpStop)
	mux.HandleFunc("GET /2025-12-01/functions/{name}/durable-executions", s.httpList)
	const cb = "/2025-12-01/durable-execution-callbacks/{id}"
	mux.HandleFunc("POST "+cb+"/succeed", s.httpCallbackSuccess)
	mux.HandleFunc("POST "+cb+"/fail", s.httpCallbackFailure)
	mux.HandleFunc("POST "+cb+"/heartbeat", s.httpCallbackHeartbeat)
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", s.httpInvoke)
	mux.HandleFunc("/2025-12-01/durable-executions/{rest...}", s.httpUnescaped)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{codeUnknownOperation, http.StatusNotFound, "Unknown operation: " + r.Method + " " + r.URL.EscapedPath()})
	})
	return recoverer(mux)
}

// httpUnescaped serves the execution routes when the ARN in the path was
// not percent-encoded (as with curl), so that its slashes split it: the
// operation is found from the method and the last segment.
func (s *Service) httpUnescaped(w http.ResponseWriter, r *http.Request) {
	arn := r.PathValue("rest")
	route := map[string]http.HandlerFunc{
		"POST checkpoint": s.httpCheckpoint,
		"GET state":       s.httpState,
		"GET history":     s.httpHistory,
		"POST stop":       s.httpStop,
	}
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		if h, ok := route[r.Method+" "+arn[i+1:]]; ok {
			r.SetPathValue("arn", arn[:i])
			h(w, r)
			return
		}
	}
	if r.Method == http.MethodGet {
		r.SetPathValue("arn", arn)
		s.httpGetExecution(w, r)
		return
	}
	writeError(w, &apiError{codeUnknownOperation, http.StatusNotFound, "Unknown operation: " + r.Method + " " + r.URL.EscapedPath()})
}

// recoverer turns a panic in a handler into a ServiceException, never a
// stack trace.
func recoverer(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				writeError(w, serviceError("durable: internal error"))
			}
		}()
		w.Header().Set("X-Amzn-RequestId", newRequestID())
		h.ServeHTTP(w, r)
	})
}

func writeError(w http.ResponseWriter, err error) {
	ae := asAPIError(err)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		ae = &apiError{codeService, httpStatusClientClosed, "durable: request cancelled"}
	}
	typ := errTypeUser
	if ae.status >= 500 {
		typ = errTypeService
	}
	b := []byte(`{"Type":`)
	b = appendString(b, typ)
	b = append(b, `,"message":`...)
	b = appendString(b, ae.msg)
	b = append(b, `,"Message":`...)
	b = appendString(b, ae.msg)
	b = append(b, '}')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-ErrorType", ae.code)
	w.WriteHeader(ae.status)
	_, _ = w.Write(b)
}

func writeJSON(w http.ResponseWriter, v any) {
	b := appendJSON(make([]byte, 0, 256), v, epochSeconds)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// readBody reads at most limit bytes of the request body.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge("Request must be smaller than %d bytes.", limit)
		}
		return nil, invalidContent("Could not read the request body: %v", err)
	}
	return b, nil
}

// decodeBody decodes a JSON request body into v; an empty body is {}.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	b, err := readBody(w, r, limit)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return invalidContent("Could not parse request body into json: %v", jsonErrorText(err))
	}
	if dec.More() {
		return invalidContent("Could not parse request body into json: unexpected data after the JSON value")
	}
	return nil
}

// jsonErrorText describes a decoding error without Go type names.
func jsonErrorText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "wrong type for member " + te.Field + " (got a JSON " + te.Value + ")"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// query helpers; each validates its parameter.

func queryString(r *http.Request, name string) *string {
	q := r.URL.Query()
	if !q.Has(name) {
		return nil
	}
	v := q.Get(name)
	return &v
}

func queryBool(r *http.Request, name string) (*bool, error) {
	v := queryString(r, name)
	if v == nil {
		return nil, nil
	}
	switch *v {
	case "true":
		return ptr(true), nil
	case "false":
		return ptr(false), nil
	}
	return nil, invalidParam("%s must be true or false.", name)
}

func queryInt(r *http.Request, name string) (int32, error) {
	v := queryString(r, name)
	if v == nil {
		return 0, nil
	}
	n, err := strconv.ParseInt(*v, 10, 32)
	if err != nil {
		return 0, invalidParam("%s must be an integer.", name)
	}
	return int32(n), nil
}

func queryTime(r *http.Request, name string) (*time.Time, error) {
	v := queryString(r, name)
	if v == nil {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, *v)
	if err != nil {
		return nil, invalidParam("%s must be an ISO-8601 date-time.", name)
	}
	return &t, nil
}

func (s *Service) httpCheckpoint(w http.ResponseWriter, r *http.Request) {
	var body struct {
		CheckpointToken *string
		ClientToken     *string
		Updates         []types.OperationUpdate
	}
	if err := decodeBody(w, r, maxCheckpointBody, &body); err != nil {
		writeError(w, err)
		return
	}
	out, err := s.checkpoint(r.Context(), &lambda.CheckpointDurableExecutionInput{
		DurableExecutionArn: ptr(r.PathValue("arn")),
		CheckpointToken:     body.CheckpointToken,
		ClientToken:         body.ClientToken,
		Updates:             body.Updates,
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, out)
}

func (s *Service) httpState(w http.ResponseWriter, r *http.Request) {
	max, err := queryInt(r, "MaxItems")
	if err != nil {
		writeError(w, err)
		return
	}
	out, err := s.state(r.Context(), &lambda.GetDurableExecutionStateInput{
		DurableExecutionArn: ptr(r.PathValue("arn")),
		CheckpointToken:     queryString(r, "CheckpointToken"),
		Marker:              queryString(r, "Marker"),
		MaxItems:            max,
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, out)
}

func (s *Service) httpGetExecution(w http.ResponseWriter, r *http.Request) {
	include, err := queryBool(r, "IncludeExecutionData")
	if err != nil {
		writeError(w, err)
		return
	}
	out, err := s.getExecution(r.Context(), &lambda.GetDurableExecutionInput{
		DurableExecutionArn:  ptr(r.PathValue("arn")),
		IncludeExecutionData: include,
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, out)
}

func (s *Service) httpHistory(w http.ResponseWriter, r *http.Request) {
	include, err := queryBool(r, "IncludeExecutionData")
	if err != nil {
		writeError(w, err)
		return
	}
	reverse, err := queryBool(r, "ReverseOrder")
	if err != nil {
		writeError(w, err)
		return
	}
	max, err := queryInt(r, "MaxItems")
	if err != nil {
		writeError(w, err)
		return
	}
	out, err := s.history(r.Context(), &lambda.GetDurableExecutionHistoryInput{
		DurableExecutionArn:  ptr(r.PathValue("arn")),
		IncludeExecutionData: include,
		Marker:               queryString(r, "Marker"),
		MaxItems:             max,
		ReverseOrder:         reverse,
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, out)
}

func (s *Service) httpStop(w http.ResponseWriter, r *http.Request) {
	var errObj types.ErrorObject
	b, err := readBody(w, r, maxErrorBody)
	if err == nil && len(bytes.TrimSpace(b)) > 0 {
		if jerr := json.Unmarshal(b, &errObj); jerr != nil {
			err = invalidContent("Could not parse request body into json: %v", jsonErrorText(jerr))
		}
	}
	if err != nil {
		writeError(w, err)
		return
	}
	in := &lambda.StopDurableExecutionInput{DurableExecutionArn: ptr(r.PathValue("arn"))}
	if errObj.ErrorType != nil || errObj.ErrorMessage != nil || errObj.ErrorData != nil || errObj.StackTrace != nil {
		in.Error = &errObj
	}
	out, err := s.stop(r.Context(), in)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, out)
}

func (s *Service) httpList(w http.ResponseWriter, r *http.Request) {
	in := &lambda.ListDurableExecutionsByFunctionInput{
		FunctionName:         ptr(r.PathValue("name")),
		Qualifier:            queryString(r, "Qualifier"),
		DurableExecutionName: queryString(r, "DurableExecutionName"),
		Marker:               queryString(r, "Marker"),
	}
	var err error
	if in.MaxItems, err = queryInt(r, "MaxItems"); err == nil {
		if in.ReverseOrder, err = queryBool(r, "ReverseOrder"); err == nil {
			if in.StartedAfter, err = queryTime(r, "StartedAfter"); err == nil {
				in.StartedBefore, err = queryTime(r, "StartedBefore")
			}
		}
	}
	if err != nil {
		writeError(w, err)
		return
	}
	for _, st := range r.URL.Query()["Statuses"] {
		in.Statuses = append(in.Statuses, types.ExecutionStatus(st))
	}
	out, err := s.listExecutions(r.Context(), in)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, out)
}

func (s *Service) httpCallbackSuccess(w http.ResponseWriter, r *http.Request) {
	b, err := readBody(w, r, maxCallbackBody)
	if err != nil {
		writeError(w, err)
		return
	}
	out, err := s.callbackSuccess(r.Context(), &lambda.SendDurableExecutionCallbackSuccessInput{
		CallbackId: ptr(r.PathValue("id")),
		Result:     b,
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, out)
}

func (s *Service) httpCallbackFailure(w http.ResponseWriter, r *http.Request) {
	var errObj types.ErrorObject
	if err := decodeBody(w, r, maxErrorBody, &errObj); err != nil {
		writeError(w, err)
		return
	}
	out, err := s.callbackFailure(r.Context(), &lambda.SendDurableExecutionCallbackFailureInput{
		CallbackId: ptr(r.PathValue("id")),
		Error:      &errObj,
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, out)
}

func (s *Service) httpCallbackHeartbeat(w http.ResponseWriter, r *http.Request) {
	if _, err := readBody(w, r, 64<<10); err != nil {
		writeError(w, err)
		return
	}
	out, err := s.callbackHeartbeat(r.Context(), &lambda.SendDurableExecutionCallbackHeartbeatInput{
		CallbackId: ptr(r.PathValue("id")),
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, out)
}

func (s *Service) httpInvoke(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r, maxInvokeBody)
	if err != nil {
		writeError(w, err)
		return
	}
	in := &lambda.InvokeInput{
		FunctionName:   ptr(r.PathValue("name")),
		Qualifier:      queryString(r, "Qualifier"),
		InvocationType: types.InvocationType(r.Header.Get("X-Amz-Invocation-Type")),
		Payload:        body,
	}
	if v := r.Header.Values("X-Amz-Durable-Execution-Name"); len(v) > 0 {
		in.DurableExecutionName = ptr(v[0])
	}
	if v := r.Header.Get("X-Amz-Tenant-Id"); v != "" {
		in.TenantId = ptr(v)
	}
	out, err := s.invokeFunction(r.Context(), in)
	if err != nil {
		writeError(w, err)
		return
	}
	h := w.Header()
	if out.DurableExecutionArn != nil {
		h.Set("X-Amz-Durable-Execution-Arn", *out.DurableExecutionArn)
	}
	if out.ExecutedVersion != nil {
		h.Set("X-Amz-Executed-Version", *out.ExecutedVersion)
	}
	if out.FunctionError != nil {
		h.Set("X-Amz-Function-Error", *out.FunctionError)
	}
	if out.Payload != nil {
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(out.Payload)))
	}
	w.WriteHeader(int(out.StatusCode))
	_, _ = w.Write(out.Payload)
}

// ListenAndServe serves [Service.Handler] on addr until the service is
// closed. An address without a host ("" or ":9014") binds 127.0.0.1 only;
// "" means [DefaultAddr]. Give an explicit host such as "0.0.0.0:9014" to
// listen on other interfaces.
func (s *Service) ListenAndServe(addr string) error {
	l, err := s.Listen(addr)
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// Listen opens a TCP listener the way [Service.ListenAndServe] does, for
// callers that need the address (e.g. port 0) before serving.
func (s *Service) Listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.Listen("tcp", net.JoinHostPort(host, port))
}

// Serve serves [Service.Handler] on l until the service is closed, which
// makes it return [http.ErrServerClosed]. The first listener served becomes
// the service's [Service.URL].
func (s *Service) Serve(l net.Listener) error {
	srv, err := s.addServer(l)
	if err != nil {
		return err
	}
	return srv.Serve(l)
}

// addServer registers a server for l, to be closed with the service.
func (s *Service) addServer(l net.Listener) (*http.Server, error) {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		l.Close()
		return nil, http.ErrServerClosed
	}
	s.servers = append(s.servers, srv)
	if s.endpoint == "" {
		s.endpoint = "http://" + l.Addr().String()
	}
	return srv, nil
}

// URL returns the base URL of the HTTP API, e.g. "http://127.0.0.1:9014",
// once it is served ("" before).
func (s *Service) URL() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.endpoint
}

// ensureServing serves the API on a loopback port if nothing serves it yet
// and returns its URL: handler binaries need an endpoint to checkpoint to.
func (s *Service) ensureServing() (string, error) {
	if u := s.URL(); u != "" {
		return u, nil
	}
	l, err := s.Listen("127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv, err := s.addServer(l)
	if err != nil {
		return "", err
	}
	go srv.Serve(l) //nolint:errcheck // ends with the service
	return s.URL(), nil
}
