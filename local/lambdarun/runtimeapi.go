package lambdarun

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// invocation is one event handed to an instance.
type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	arn      string
	// pickedUp is closed when the process has received the event: until
	// then a dying instance can hand it to another one.
	pickedUp chan struct{}
	result   chan result
}

// result is what the process posted for an invocation.
type result struct {
	payload []byte
	// errType and errBody are set for POST .../error.
	errType string
	errBody []byte
}

// runtimeAPI serves the Runtime API for one instance.
type runtimeAPI struct {
	listener net.Listener
	server   *http.Server
	next     chan *invocation // at most one pending event
	closed   chan struct{}

	mu        sync.Mutex
	current   *invocation
	initError []byte
}

const maxResponse = 6 << 20 // Lambda's synchronous response limit

func newRuntimeAPI() (*runtimeAPI, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	api := &runtimeAPI{listener: l, next: make(chan *invocation, 1), closed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", api.handleNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", api.handleResult)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", api.handleResult)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", api.handleInitError)
	api.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go api.server.Serve(l)
	return api, nil
}

// Addr is the value of AWS_LAMBDA_RUNTIME_API.
func (a *runtimeAPI) Addr() string { return a.listener.Addr().String() }

func (a *runtimeAPI) close() {
	select {
	case <-a.closed:
	default:
		close(a.closed)
	}
	a.server.Close()
}

func (a *runtimeAPI) handleNext(w http.ResponseWriter, r *http.Request) {
	var inv *invocation
	select {
	case inv = <-a.next:
	case <-a.closed:
		http.Error(w, "instance shutting down", http.StatusGone)
		return
	case <-r.Context().Done():
		return
	}
	a.mu.Lock()
	a.current = inv
	a.mu.Unlock()
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", inv.arn)
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-"+strconv.FormatInt(time.Now().Unix(), 16)+"-"+strings.ReplaceAll(inv.id, "-", "")[:24]+";Sampled=0")
	h.Set("Content-Type", "application/json")
	close(inv.pickedUp)
	w.Write(inv.payload)
}

func (a *runtimeAPI) handleResult(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	a.mu.Lock()
	inv := a.current
	if inv != nil && inv.id == id {
		a.current = nil
	}
	a.mu.Unlock()
	if inv == nil || inv.id != id {
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequestID", fmt.Sprintf("no invocation %q in progress", id))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxResponse+1))
	res := result{payload: body}
	switch {
	case err != nil:
		res = result{errType: "Runtime.TruncatedResponse", errBody: []byte(err.Error())}
	case len(body) > maxResponse:
		res = result{errType: "Function.ResponseSizeTooLarge", errBody: []byte("response exceeds 6 MB")}
	case strings.HasSuffix(r.URL.Path, "/error"):
		res = result{errType: r.Header.Get("Lambda-Runtime-Function-Error-Type"), errBody: body}
		if res.errType == "" {
			res.errType = errorType(body)
		}
	}
	inv.result <- res
	w.WriteHeader(http.StatusAccepted)
	w.Write([]byte(`{"status":"OK"}`))
}

func (a *runtimeAPI) handleInitError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	a.mu.Lock()
	a.initError = body
	a.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	w.Write([]byte(`{"status":"OK"}`))
}

func errorType(body []byte) string {
	var e struct {
		ErrorType string `json:"errorType"`
	}
	if json.Unmarshal(body, &e) == nil && e.ErrorType != "" {
		return e.ErrorType
	}
	return "Unhandled"
}

func writeRuntimeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"errorType": typ, "errorMessage": msg})
}
