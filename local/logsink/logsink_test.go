package logsink

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func TestLinesArriveWholeAndBatched(t *testing.T) {
	var out lockedBuffer
	s := New(&out, time.Hour) // only Close flushes
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				fmt.Fprintf(s, "writer %d line %d\n", g, i)
			}
		}()
	}
	wg.Wait()
	s.Close()
	lines := strings.Split(strings.TrimSpace(out.b.String()), "\n")
	if len(lines) != 800 {
		t.Fatalf("%d lines, want 800", len(lines))
	}
	for _, l := range lines {
		var g, i int
		if n, _ := fmt.Sscanf(l, "writer %d line %d", &g, &i); n != 2 {
			t.Errorf("mangled line %q", l)
		}
	}
	if out.writes > 800/100 {
		t.Errorf("%d writes for 800 lines: not batched", out.writes)
	}
}

func TestFlushedOnTimer(t *testing.T) {
	var out lockedBuffer
	s := New(&out, 10*time.Millisecond)
	defer s.Close()
	fmt.Fprintln(s, "hello")
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		out.mu.Lock()
		got := out.b.String()
		out.mu.Unlock()
		if got == "hello\n" {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("line not flushed by the timer")
}
