// Package bounded is a concurrency-safe map with a size bound, for the
// caches of verified tokens and authorizer decisions: when full, about half
// of it is dropped, in map order (effectively random). A dropped entry only
// costs one more verification, and no eviction bookkeeping runs on hits.
package bounded

import "sync"

// Map is a bounded map from K to V.
type Map[K comparable, V any] struct {
	mu  sync.RWMutex
	max int
	m   map[K]V
}

// New returns a map holding at most max entries.
func New[K comparable, V any](max int) *Map[K, V] {
	// Sized up front: growing a map while it fills costs more than the memory.
	return &Map[K, V]{max: max, m: make(map[K]V, min(max, 4096))}
}

// Get returns the value for k.
func (c *Map[K, V]) Get(k K) (V, bool) {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	return v, ok
}

// Put stores v for k, first dropping about half the entries if full.
func (c *Map[K, V]) Put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		n := 0
		for key := range c.m {
			delete(c.m, key)
			if n++; n >= c.max/2 {
				break
			}
		}
	}
	c.m[k] = v
}

// Delete removes k.
func (c *Map[K, V]) Delete(k K) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

// Len is the number of entries.
func (c *Map[K, V]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
