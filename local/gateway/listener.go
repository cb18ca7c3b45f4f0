package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
)

// JSONErrors wraps the listener of a gateway's server so that the answers
// net/http writes by itself, before any handler runs — 431 for a request
// head over the server's MaxHeaderBytes, 400 for a request it cannot parse
// — come in API Gateway's JSON shape ({"message": ...}) like every other
// refusal, instead of Go's plain text.
func JSONErrors(l net.Listener) net.Listener { return jsonErrorListener{l} }

type jsonErrorListener struct{ net.Listener }

func (l jsonErrorListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return jsonErrorConn{c}, nil
}

type jsonErrorConn struct{ net.Conn }

// goErrorHeaders is what net/http writes after the status line of its own
// error answers (server.go, errorHeaders). A handler's response never has
// it: its headers come sorted, Connection before Content-Type.
var goErrorHeaders = []byte("\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n")

func (c jsonErrorConn) Write(p []byte) (int, error) {
	code, ok := goErrorStatus(p)
	if !ok {
		return c.Conn.Write(p)
	}
	body, _ := json.Marshal(map[string]string{"message": http.StatusText(code)})
	out := fmt.Sprintf("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		code, http.StatusText(code), len(body), body)
	if _, err := c.Conn.Write([]byte(out)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// goErrorStatus recognizes an error answer of net/http's own: "HTTP/1.1
// 4xx Text" followed by goErrorHeaders.
func goErrorStatus(p []byte) (int, bool) {
	const prefix = "HTTP/1.1 "
	if !bytes.HasPrefix(p, []byte(prefix)) || len(p) < len(prefix)+3 || p[len(prefix)] != '4' {
		return 0, false
	}
	eol := bytes.Index(p, []byte("\r\n"))
	if eol < 0 || !bytes.HasPrefix(p[eol:], goErrorHeaders) {
		return 0, false
	}
	code, err := strconv.Atoi(string(p[len(prefix) : len(prefix)+3]))
	return code, err == nil
}
