package reqlog

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jwtapi/jwtapi/local/gateway"
)

func record(i int) *gateway.Record {
	return &gateway.Record{ID: fmt.Sprintf("req-%d", i), Time: time.Now(), API: "orders", APIKey: "S/Api", Method: "GET", Path: "/x",
		Route: "GET /x", Status: 200, LambdaRequestIDs: []string{fmt.Sprintf("lambda-%d", i)},
		RequestHeaders: http.Header{"Authorization": {"Bearer t"}}, ResponseHeaders: http.Header{}}
}

// TestLogIsBounded: the log keeps the last requests, forgets the oldest
// with their lines, and remembers each route's last status.
func TestLogIsBounded(t *testing.T) {
	l := New(3)
	for i := range 5 {
		l.Add(record(i))
	}
	if _, ok := l.Get("req-1"); ok {
		t.Error("the log kept a request beyond its bound")
	}
	if _, ok := l.Get("req-4"); !ok {
		t.Error("the newest request is missing")
	}
	l.Line("fn", "lambda-1", []byte("late line of a forgotten request"))
	if n := len(l.pending); n != 1 {
		t.Errorf("%d pending invocations, want the one line's", n)
	}
	if got := l.LastStatus("S/Api", "GET /x"); got != 200 {
		t.Errorf("last status %d", got)
	}
}

// TestLinesFindTheirRequest: lines written while a request runs are kept
// and attached when it is recorded; later ones are attached at once and
// streamed.
func TestLinesFindTheirRequest(t *testing.T) {
	l := New(10)
	backlog, events, cancel := l.Subscribe()
	defer cancel()
	if len(backlog) != 0 {
		t.Errorf("backlog of an empty log: %q", backlog)
	}
	l.Line("GET /x", "lambda-7", []byte(`{"msg":"during"}`))
	l.Add(record(7))
	l.Line("GET /x", "lambda-7", []byte(`{"msg":"after"}`))
	e, _ := l.Get("req-7")
	if len(e.Lines) != 2 || e.Lines[0] != `GET /x: {"msg":"during"}` || e.Lines[1] != `GET /x: {"msg":"after"}` {
		t.Errorf("lines %q", e.Lines)
	}
	var got []string
	for range 2 {
		select {
		case m := <-events:
			got = append(got, string(m))
		case <-time.After(time.Second):
			t.Fatal("no event")
		}
	}
	if !strings.HasPrefix(got[0], "event: record\n") || !strings.Contains(got[0], `"id":"req-7"`) || !strings.HasPrefix(got[1], "event: line\n") {
		t.Errorf("events %q", got)
	}
	if b, _, c := l.Subscribe(); !strings.Contains(string(b), `"id":"req-7"`) {
		t.Errorf("a new subscriber's backlog lacks the request: %s", b)
	} else {
		c()
	}
}

// TestSlowSubscriberNeverBlocks: a browser that reads nothing costs the
// requests nothing: its events are dropped.
func TestSlowSubscriberNeverBlocks(t *testing.T) {
	l := New(10)
	_, _, cancel := l.Subscribe()
	defer cancel()
	done := make(chan struct{})
	go func() {
		for i := range 3 * subscriberBuffer {
			l.Add(record(i))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Add blocked on a subscriber that reads nothing")
	}
}

// BenchmarkAdd is what the console's log costs a request with no browser
// attached (beside gateway's BenchmarkPrivateRouteObserved).
func BenchmarkAdd(b *testing.B) {
	l := New(0)
	recs := make([]*gateway.Record, 1024)
	for i := range recs {
		recs[i] = record(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		l.Add(recs[i%len(recs)])
		i++
	}
}
