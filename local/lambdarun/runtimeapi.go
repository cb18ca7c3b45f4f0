package lambdarun

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// runtimeAPI serves the Lambda Runtime API for one instance.
//
// It is a small HTTP/1.1 server of its own rather than net/http: the
// protocol is four endpoints used by one client, and every invocation makes
// two round trips through it, so it answers each with a single write and
// keeps no background reader per request. It handles keep-alive,
// Content-Length and chunked bodies (with the trailers aws-lambda-go sends).
type runtimeAPI struct {
	listener net.Listener
	next     chan *invocation // at most one pending event
	closed   chan struct{}
	once     sync.Once

	mu        sync.Mutex
	current   *invocation
	conns     map[net.Conn]bool
	initError []byte
	// lastID is the request id of the invocation delivered last: the lines
	// the process writes until the next one are that invocation's.
	lastID atomic.Pointer[string]
}

// lastRequestID is the request id of the invocation delivered last.
func (a *runtimeAPI) lastRequestID() string {
	if p := a.lastID.Load(); p != nil {
		return *p
	}
	return ""
}

const (
	// maxResponse is Lambda's limit on a synchronous response, 6 MiB plus
	// 100 bytes, as its Runtime API states it: "Exceeded maximum allowed
	// payload size (6291556 bytes)." (docs/aws-behaviour.md).
	maxResponse  = 6291556
	maxHeaderLen = 64 << 10
	apiPrefix    = "/2018-06-01/runtime/"
)

// ErrorResponseSizeTooLarge is the error type of an invocation whose
// response is over maxResponse.
const ErrorResponseSizeTooLarge = "Function.ResponseSizeTooLarge"

func newRuntimeAPI() (*runtimeAPI, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	api := &runtimeAPI{listener: l, next: make(chan *invocation, 1), closed: make(chan struct{}), conns: map[net.Conn]bool{}}
	go api.accept()
	return api, nil
}

// Addr is the value of AWS_LAMBDA_RUNTIME_API.
func (a *runtimeAPI) Addr() string { return a.listener.Addr().String() }

func (a *runtimeAPI) close() {
	a.once.Do(func() {
		close(a.closed)
		a.listener.Close()
		a.mu.Lock()
		for c := range a.conns {
			c.Close()
		}
		a.mu.Unlock()
	})
}

func (a *runtimeAPI) accept() {
	for {
		c, err := a.listener.Accept()
		if err != nil {
			return
		}
		a.mu.Lock()
		select {
		case <-a.closed:
			a.mu.Unlock()
			c.Close()
			return
		default:
		}
		a.conns[c] = true
		a.mu.Unlock()
		go a.serveConn(c)
	}
}

// apiRequest is one parsed request.
type apiRequest struct {
	method, path string
	header       textproto.MIMEHeader
	body         []byte
	close        bool
	// tooLarge is the size of a body over maxResponse, read and dropped.
	tooLarge int64
}

func (a *runtimeAPI) serveConn(c net.Conn) {
	defer func() {
		c.Close()
		a.mu.Lock()
		delete(a.conns, c)
		a.mu.Unlock()
	}()
	r := bufio.NewReaderSize(c, 16<<10)
	var out bytes.Buffer
	for {
		req, err := readRequest(r)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				writeResponse(c, &out, 400, nil, errorBody("InvalidRequest", err.Error()), true)
			}
			return
		}
		if !a.route(c, &out, req) || req.close {
			return
		}
	}
}

// route answers one request; it reports false when the connection must end.
func (a *runtimeAPI) route(c net.Conn, out *bytes.Buffer, req *apiRequest) bool {
	path := strings.TrimPrefix(req.path, apiPrefix)
	switch {
	case req.method == "GET" && path == "invocation/next":
		var inv *invocation
		select {
		case inv = <-a.next:
		case <-a.closed:
			writeResponse(c, out, 410, nil, errorBody("ShuttingDown", "instance shutting down"), true)
			return false
		}
		a.mu.Lock()
		a.current = inv
		a.mu.Unlock()
		a.lastID.Store(&inv.id)
		headers := []string{
			"Lambda-Runtime-Aws-Request-Id", inv.id,
			"Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10),
			"Lambda-Runtime-Invoked-Function-Arn", inv.arn,
			"Lambda-Runtime-Trace-Id", traceID(),
		}
		close(inv.pickedUp)
		return writeResponse(c, out, 200, headers, inv.payload, req.close) == nil
	case req.method == "POST" && path == "init/error":
		a.mu.Lock()
		a.initError = req.body
		a.mu.Unlock()
		return writeResponse(c, out, 202, nil, []byte(`{"status":"OK"}`), req.close) == nil
	case req.method == "POST" && strings.HasPrefix(path, "invocation/"):
		id, kind, _ := strings.Cut(strings.TrimPrefix(path, "invocation/"), "/")
		if kind != "response" && kind != "error" {
			break
		}
		a.mu.Lock()
		inv := a.current
		if inv != nil && inv.id == id {
			a.current = nil
		}
		a.mu.Unlock()
		if inv == nil || inv.id != id {
			return writeResponse(c, out, 400, nil, errorBody("InvalidRequestID", fmt.Sprintf("no invocation %q in progress", id)), req.close) == nil
		}
		res := result{payload: req.body}
		switch {
		case req.tooLarge > 0:
			// The invocation fails as in Lambda. Lambda's Runtime API also
			// answers the runtime 413, on which aws-lambda-go exits and the
			// next request is a cold start; here the runtime is answered 202
			// so the instance stays warm and is not taken for a crash.
			msg := fmt.Sprintf("Response payload size (%d bytes) exceeded maximum allowed payload size (%d bytes).", req.tooLarge, maxResponse)
			res = result{errType: ErrorResponseSizeTooLarge, errBody: errorBody(ErrorResponseSizeTooLarge, msg)}
		case kind == "error":
			res = result{errType: req.header.Get("Lambda-Runtime-Function-Error-Type"), errBody: req.body}
			if res.errType == "" {
				res.errType = errorType(req.body)
			}
		}
		inv.result <- res
		return writeResponse(c, out, 202, nil, []byte(`{"status":"OK"}`), req.close) == nil
	}
	return writeResponse(c, out, 404, nil, errorBody("NotFound", req.method+" "+req.path+" is not a Runtime API endpoint"), req.close) == nil
}

// readRequest reads one HTTP/1.1 request with its whole body.
func readRequest(r *bufio.Reader) (*apiRequest, error) {
	tp := textproto.NewReader(r)
	line, err := tp.ReadLine()
	if err != nil {
		return nil, err
	}
	parts := strings.SplitN(line, " ", 3)
	if len(parts) != 3 || !strings.HasPrefix(parts[2], "HTTP/1.") {
		return nil, fmt.Errorf("malformed request line %q", line)
	}
	header, err := tp.ReadMIMEHeader()
	if err != nil {
		return nil, err
	}
	req := &apiRequest{method: parts[0], path: parts[1], header: header,
		close: strings.EqualFold(header.Get("Connection"), "close") || parts[2] == "HTTP/1.0"}
	switch {
	case strings.EqualFold(header.Get("Transfer-Encoding"), "chunked"):
		req.body, req.tooLarge, err = readChunked(r, tp, header)
	case header.Get("Content-Length") != "":
		n, perr := strconv.ParseInt(header.Get("Content-Length"), 10, 64)
		switch {
		case perr != nil || n < 0:
			return nil, fmt.Errorf("bad Content-Length %q", header.Get("Content-Length"))
		case n > maxResponse:
			// Read and drop it: the connection stays usable.
			req.tooLarge = n
			_, err = io.CopyN(io.Discard, r, n)
		default:
			req.body = make([]byte, n)
			_, err = io.ReadFull(r, req.body)
		}
	}
	return req, err
}

// readChunked reads a chunked body and merges its trailers into header. A
// body over maxResponse is read to its end and dropped: its size is
// returned instead.
func readChunked(r *bufio.Reader, tp *textproto.Reader, header textproto.MIMEHeader) ([]byte, int64, error) {
	var body []byte
	var total int64
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return nil, 0, err
		}
		size, _, _ := strings.Cut(line, ";")
		n, err := strconv.ParseInt(strings.TrimSpace(size), 16, 64)
		if err != nil || n < 0 {
			return nil, 0, fmt.Errorf("bad chunk size %q", line)
		}
		if n == 0 {
			trailer, err := tp.ReadMIMEHeader()
			for k, v := range trailer {
				header[k] = v
			}
			if total > maxResponse {
				return nil, total, err
			}
			return body, 0, err
		}
		total += n
		if total > maxResponse {
			body = nil
			if _, err := io.CopyN(io.Discard, r, n); err != nil {
				return nil, 0, err
			}
		} else {
			start := len(body)
			body = append(body, make([]byte, n)...)
			if _, err := io.ReadFull(r, body[start:]); err != nil {
				return nil, 0, err
			}
		}
		if _, err := tp.ReadLine(); err != nil { // CRLF after the chunk
			return nil, 0, err
		}
	}
}

var statusText = map[int]string{200: "OK", 202: "Accepted", 400: "Bad Request", 404: "Not Found", 410: "Gone"}

// writeResponse writes a whole response in one write.
func writeResponse(w io.Writer, out *bytes.Buffer, status int, headers []string, body []byte, closeConn bool) error {
	out.Reset()
	fmt.Fprintf(out, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", status, statusText[status], len(body))
	for i := 0; i+1 < len(headers); i += 2 {
		out.WriteString(headers[i] + ": " + headers[i+1] + "\r\n")
	}
	if closeConn {
		out.WriteString("Connection: close\r\n")
	}
	out.WriteString("\r\n")
	out.Write(body)
	_, err := w.Write(out.Bytes())
	return err
}

func errorBody(typ, msg string) []byte {
	b, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": msg})
	return b
}

// traceID returns an X-Ray trace header value: Root=1-<time>-<96 random bits>.
func traceID() string {
	var b [12]byte
	rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%x;Sampled=0", time.Now().Unix(), b)
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
