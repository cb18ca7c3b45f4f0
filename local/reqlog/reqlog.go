// Package reqlog keeps the requests the local gateways answered, with the
// output lines of the functions each one ran, for the console: bounded (the
// oldest go), cheap when nobody watches, and streamed to the browsers that
// do as server-sent events, never blocking a request for a slow one.
package reqlog

import (
	"encoding/json"
	"slices"
	"sync"

	"github.com/jwtapi/jwtapi/local/gateway"
)

// Defaults of New.
const (
	// DefaultRecords is how many requests the log keeps.
	DefaultRecords = 500
	// maxLines is how many output lines a request keeps.
	maxLines = 100
	// subscriberBuffer is how far a browser may fall behind before events
	// are dropped for it.
	subscriberBuffer = 1024
)

// Entry is a request of the log with its functions' output lines.
type Entry struct {
	*gateway.Record
	Lines []string `json:"lines,omitempty"`
}

// Log is the bounded request log. Its methods are safe for concurrent use.
type Log struct {
	max int

	mu       sync.Mutex
	entries  []*Entry // oldest first
	byID     map[string]*Entry
	byLambda map[string]*Entry   // Lambda request id -> entry
	pending  map[string][]string // lines of invocations not recorded yet
	pendingQ []string
	last     map[string]int // "<api key> <route>" -> last status
	subs     map[chan []byte]bool
}

// New returns a log keeping the last max requests (DefaultRecords if max <= 0).
func New(max int) *Log {
	if max <= 0 {
		max = DefaultRecords
	}
	return &Log{max: max, byID: map[string]*Entry{}, byLambda: map[string]*Entry{}, pending: map[string][]string{},
		last: map[string]int{}, subs: map[chan []byte]bool{}}
}

// Add records a request (a gateway's Observe). It never blocks.
func (l *Log) Add(r *gateway.Record) {
	e := &Entry{Record: r}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range r.LambdaRequestIDs {
		l.byLambda[id] = e
		if lines, ok := l.pending[id]; ok {
			e.Lines = append(e.Lines, lines...)
			delete(l.pending, id)
		}
	}
	if len(l.entries) == l.max {
		old := l.entries[0]
		l.entries = slices.Delete(l.entries, 0, 1)
		delete(l.byID, old.ID)
		for _, id := range old.LambdaRequestIDs {
			delete(l.byLambda, id)
		}
	}
	l.entries = append(l.entries, e)
	l.byID[r.ID] = e
	l.last[r.APIKey+" "+r.Route] = r.Status
	l.publish("record", func() any { return Summary(e) })
}

// Line records a function's output line (lambdarun's OnLine).
func (l *Log) Line(function, lambdaID string, line []byte) {
	text := function + ": " + string(line)
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.byLambda[lambdaID]; ok {
		if len(e.Lines) < maxLines {
			e.Lines = append(e.Lines, text)
			l.publish("line", func() any { return map[string]string{"id": e.ID, "line": text} })
		}
		return
	}
	// The request is still running: keep the line for its entry.
	if _, ok := l.pending[lambdaID]; !ok {
		l.pendingQ = append(l.pendingQ, lambdaID)
		if len(l.pendingQ) > 2*l.max {
			delete(l.pending, l.pendingQ[0])
			l.pendingQ = l.pendingQ[1:]
		}
	}
	if len(l.pending[lambdaID]) < maxLines {
		l.pending[lambdaID] = append(l.pending[lambdaID], text)
	}
}

// publish sends an event to every subscriber, dropping it for one that is
// behind; nothing is encoded when nobody subscribes. l.mu is held.
func (l *Log) publish(event string, v func() any) {
	if len(l.subs) == 0 {
		return
	}
	data, _ := json.Marshal(v())
	msg := []byte("event: " + event + "\ndata: " + string(data) + "\n\n")
	for ch := range l.subs {
		select {
		case ch <- msg:
		default:
		}
	}
}

// Summary is what the log's list shows of a request.
func Summary(e *Entry) map[string]any {
	r := e.Record
	return map[string]any{"id": r.ID, "time": r.Time, "api": r.API, "kind": r.Kind, "method": r.Method, "path": r.Path,
		"route": r.Route, "status": r.Status, "latencyMs": r.LatencyMS, "auth": r.Auth, "decision": r.Decision,
		"reason": r.Reason, "aws": r.AWS}
}

// Subscribe returns the events of the requests kept so far (as one
// server-sent events block) and a channel of the next ones; cancel ends it.
func (l *Log) Subscribe() (backlog []byte, events <-chan []byte, cancel func()) {
	ch := make(chan []byte, subscriberBuffer)
	l.mu.Lock()
	for _, e := range l.entries {
		data, _ := json.Marshal(Summary(e))
		backlog = append(backlog, "event: record\ndata: "+string(data)+"\n\n"...)
	}
	l.subs[ch] = true
	l.mu.Unlock()
	return backlog, ch, func() {
		l.mu.Lock()
		delete(l.subs, ch)
		l.mu.Unlock()
	}
}

// Get returns a request of the log with a copy of its lines.
func (l *Log) Get(id string) (*Entry, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.byID[id]
	if !ok {
		return nil, false
	}
	return &Entry{Record: e.Record, Lines: slices.Clone(e.Lines)}, true
}

// LastStatus is the last status a route answered, 0 if none.
func (l *Log) LastStatus(apiKey, route string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last[apiKey+" "+route]
}
