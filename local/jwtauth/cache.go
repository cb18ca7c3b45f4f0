package jwtauth

// DefaultCacheSize bounds the verified-token cache: a repeated token costs a
// map lookup instead of an RSA verification.
const DefaultCacheSize = 10000
