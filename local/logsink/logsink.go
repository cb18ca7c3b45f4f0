// Package logsink buffers log output and writes it out every few
// milliseconds: under load one write call carries many lines instead of one
// system call per line, and lines from concurrent writers never interleave.
package logsink

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// Sink is a buffered, concurrency-safe writer flushed on a timer.
type Sink struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

// New returns a sink writing to out at least every interval.
func New(out io.Writer, interval time.Duration) *Sink {
	s := &Sink{w: bufio.NewWriterSize(out, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				s.Flush()
			case <-s.stop:
				s.Flush()
				return
			}
		}
	}()
	return s
}

// Write buffers p whole; callers write complete lines.
func (s *Sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// Flush writes out what is buffered.
func (s *Sink) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w.Flush()
}

// Close flushes and stops the timer.
func (s *Sink) Close() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}
