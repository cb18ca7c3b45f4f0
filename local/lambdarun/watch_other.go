//go:build !linux

package lambdarun

// sourceWatch is Linux's inotify watch; elsewhere the builder looks at the
// sources every checkEvery instead.
type sourceWatch struct{}

func newSourceWatch([]string) *sourceWatch { return nil }
func (w *sourceWatch) changed() bool       { return true }
func (w *sourceWatch) close()              {}
