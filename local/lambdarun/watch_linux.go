//go:build linux

package lambdarun

import (
	"os"
	"path/filepath"
	"syscall"
)

// sourceWatch says whether a handler's sources may have changed since it
// was last asked, with inotify. The kernel queues an event before the
// write, rename or delete that caused it returns, so a request sent after
// an editor saved a file always sees the change, and asking costs one
// non-blocking read. fsnotify delivers the same events through a goroutine
// and a channel, which a request sent right after the save can overtake:
// that race is why this small part is written against the syscalls.
type sourceWatch struct{ fd int }

const watchMask = syscall.IN_MODIFY | syscall.IN_ATTRIB | syscall.IN_CLOSE_WRITE | syscall.IN_CREATE |
	syscall.IN_DELETE | syscall.IN_MOVED_FROM | syscall.IN_MOVED_TO | syscall.IN_DELETE_SELF | syscall.IN_MOVE_SELF

// newSourceWatch watches the folders of files (a folder in files is
// watched itself). It returns nil when inotify is unavailable (or out of
// watches), and the builder then looks at the files every checkEvery.
func newSourceWatch(files []string) *sourceWatch {
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	for _, f := range files {
		dir := f
		if st, err := os.Stat(f); err != nil || !st.IsDir() {
			dir = filepath.Dir(f)
		}
		if seen[dir] {
			continue
		}
		seen[dir] = true
		if _, err := syscall.InotifyAddWatch(fd, dir, watchMask); err != nil && err != syscall.ENOENT {
			syscall.Close(fd)
			return nil
		}
	}
	return &sourceWatch{fd: fd}
}

// changed drains the queued events and reports whether there were any.
func (w *sourceWatch) changed() bool {
	var buf [4096]byte
	changed := false
	for {
		n, err := syscall.Read(w.fd, buf[:])
		if n > 0 {
			changed = true
			continue
		}
		if err == syscall.EINTR {
			continue
		}
		// EAGAIN: nothing (more) queued. Any other error: look at the files.
		return changed || (err != nil && err != syscall.EAGAIN)
	}
}

func (w *sourceWatch) close() { syscall.Close(w.fd) }
