package jwtauth

import "sync"

// DefaultCacheSize bounds the verified-token cache.
const DefaultCacheSize = 10000

// tokenCache remembers verified tokens so that a repeated token costs a map
// lookup instead of an RSA verification. Entries verified with an older key
// set are ignored, so a rotation or revocation takes effect at once.
type tokenCache struct {
	mu      sync.RWMutex
	max     int
	entries map[string]*verified
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, entries: make(map[string]*verified)}
}

func (c *tokenCache) get(token string, keyVersion uint64) (*verified, bool) {
	c.mu.RLock()
	v, ok := c.entries[token]
	c.mu.RUnlock()
	if !ok || v.keyVersion != keyVersion {
		return nil, false
	}
	return v, true
}

func (c *tokenCache) put(token string, v *verified) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		// Drop about half, in map order (effectively random): cheap, and a
		// dropped token only costs one more verification.
		n := 0
		for k := range c.entries {
			delete(c.entries, k)
			if n++; n >= c.max/2 {
				break
			}
		}
	}
	c.entries[token] = v
}

func (c *tokenCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
