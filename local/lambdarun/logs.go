package lambdarun

import (
	"bytes"
	"io"
	"sync"
)

// prefixWriter writes each complete line to out with a prefix; lines from
// several instances never interleave mid-line.
type prefixWriter struct {
	prefix string
	out    io.Writer
	mu     *sync.Mutex // shared by all writers to out
	buf    []byte
	// line, if set, also gets each complete line, without prefix or newline.
	line func([]byte)
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		p.mu.Lock()
		p.out.Write(append([]byte(p.prefix), p.buf[:i+1]...))
		p.mu.Unlock()
		if p.line != nil {
			p.line(p.buf[:i])
		}
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

// flush writes a last unterminated line.
func (p *prefixWriter) flush() {
	if len(p.buf) > 0 {
		p.Write([]byte("\n"))
	}
}
