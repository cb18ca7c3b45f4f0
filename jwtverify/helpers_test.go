package jwtverify

// fetching tells whether a fetch is in flight.
func (s *keySet) fetching() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inflight != nil
}

// lastFailure is the error of the last failed fetch.
func (s *keySet) lastFailure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}
