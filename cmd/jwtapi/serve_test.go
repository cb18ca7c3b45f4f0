package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestSlowResponsesAndSlowReaders: a response that takes long to be ready
// (a handler's first build on a cold Go cache) still arrives, while a
// client that stops reading is cut off after writeGrace.
func TestSlowResponsesAndSlowReaders(t *testing.T) {
	defer func(g time.Duration) { writeGrace = g }(writeGrace)
	writeGrace = 200 * time.Millisecond
	writeErr := make(chan error, 1)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := serveHTTP(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/late" {
			time.Sleep(3 * writeGrace)
			w.Write([]byte("late but here"))
			return
		}
		chunk := bytes.Repeat([]byte("x"), 1<<20)
		for i := 0; i < 256; i++ { // far more than the socket buffers hold
			if _, err := w.Write(chunk); err != nil {
				writeErr <- err
				return
			}
		}
		writeErr <- nil
	}))
	defer srv.Close()

	res, err := http.Get("http://" + l.Addr().String() + "/late")
	if err != nil {
		t.Fatalf("a response ready after %s: %v", 3*writeGrace, err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "late but here" {
		t.Errorf("late response: %q", body)
	}

	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")) // and never read
	select {
	case err := <-writeErr:
		if err == nil {
			t.Error("256 MB were written to a client that reads nothing")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a client that reads nothing held the response for 10 s")
	}
}
