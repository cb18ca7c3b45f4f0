package jwtauth

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// KeySet defaults. API Gateway documents caching keys for up to two hours.
const (
	DefaultMaxAge       = 2 * time.Hour
	DefaultRefetchEvery = time.Second
	DefaultFetchTimeout = 5 * time.Second
	maxJWKSBytes        = 1 << 20
)

// KeySet is an issuer's RSA signing keys, found through OIDC discovery and
// cached. An unknown kid triggers a refetch, at most once per RefetchEvery,
// so that a flood of made-up kids cannot hammer the issuer. A refetch
// replaces the set: a key the issuer stops publishing stops verifying.
type KeySet struct {
	issuer string
	// Client fetches discovery and JWKS documents. Default: 5 s timeout.
	Client *http.Client
	// MaxAge is how long a fetched key set is trusted. Default: 2 hours.
	MaxAge time.Duration
	// RefetchEvery is the minimum time between two fetches. Default: 1 s.
	RefetchEvery time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time

	mu        sync.Mutex
	keys      map[string]*rsa.PublicKey
	version   atomic.Uint64
	fetchedAt time.Time
	// fetchedNano mirrors fetchedAt for the lock-free staleness check.
	fetchedNano atomic.Int64
	triedAt     time.Time
	fetches     int
}

// NewKeySet returns an empty key set for issuer; nothing is fetched until a
// key is needed.
func NewKeySet(issuer string) *KeySet {
	return &KeySet{
		issuer:       issuer,
		Client:       &http.Client{Timeout: DefaultFetchTimeout},
		MaxAge:       DefaultMaxAge,
		RefetchEvery: DefaultRefetchEvery,
		Now:          time.Now,
	}
}

// Key returns the key for kid and the version of the set it came from. It
// fetches when the set is empty, too old, or lacks kid (rate-limited).
func (s *KeySet) Key(ctx context.Context, kid string) (*rsa.PublicKey, uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	k, ok := s.keys[kid]
	stale := s.keys == nil || now.Sub(s.fetchedAt) > s.MaxAge
	if ok && !stale {
		return k, s.version.Load(), nil
	}
	if now.Sub(s.triedAt) >= s.RefetchEvery || s.triedAt.IsZero() {
		s.triedAt = now
		if err := s.fetch(ctx); err != nil {
			if s.keys == nil {
				return nil, 0, fmt.Errorf("%w: %v", ErrKeysUnavailable, err)
			}
			// Keep serving the keys we have: an issuer outage must not
			// lock everybody out while their keys are still known.
		}
		k, ok = s.keys[kid]
	}
	if !ok {
		return nil, s.version.Load(), fmt.Errorf("%w: kid %q", ErrUnknownKID, kid)
	}
	return k, s.version.Load(), nil
}

// RefreshIfStale refetches a key set older than MaxAge, so that tokens
// served from the verified-token cache notice a revoked key. Cheap when fresh.
func (s *KeySet) RefreshIfStale(ctx context.Context) {
	fetched := s.fetchedNano.Load()
	if fetched == 0 || s.Now().UnixNano()-fetched <= int64(s.MaxAge) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	if now.Sub(s.fetchedAt) > s.MaxAge && now.Sub(s.triedAt) >= s.RefetchEvery {
		s.triedAt = now
		_ = s.fetch(ctx) // on failure the known keys stay in use
	}
}

// Version changes whenever the set of keys changes; reading it takes no lock.
func (s *KeySet) Version() uint64 { return s.version.Load() }

// Fetches counts the JWKS fetches made so far (for tests and logs).
func (s *KeySet) Fetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

// DiscoveryURL is where the issuer's OIDC configuration lives.
func DiscoveryURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
}

func (s *KeySet) fetch(ctx context.Context) error {
	s.fetches++
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := s.getJSON(ctx, DiscoveryURL(s.issuer), &doc); err != nil {
		return err
	}
	if doc.JWKSURI == "" {
		return fmt.Errorf("%s has no jwks_uri", DiscoveryURL(s.issuer))
	}
	var jwks struct {
		Keys []jwk `json:"keys"`
	}
	if err := s.getJSON(ctx, doc.JWKSURI, &jwks); err != nil {
		return err
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range jwks.Keys {
		pub, err := k.rsa()
		if err != nil || k.Kid == "" {
			continue // not an RSA signing key API Gateway could use
		}
		keys[k.Kid] = pub
	}
	if !sameKeys(keys, s.keys) {
		s.version.Add(1)
	}
	s.keys = keys
	s.fetchedAt = s.Now()
	s.fetchedNano.Store(s.fetchedAt.UnixNano())
	return nil
}

func (s *KeySet) getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := s.Client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, res.Status)
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, maxJWKSBytes)).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %v", url, err)
	}
	return nil
}

type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
}

func (k jwk) rsa() (*rsa.PublicKey, error) {
	if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") {
		return nil, fmt.Errorf("not an RSA signing key")
	}
	n, err := base64.RawURLEncoding.DecodeString(k.N)
	if err != nil {
		return nil, err
	}
	e, err := base64.RawURLEncoding.DecodeString(k.E)
	if err != nil || len(e) == 0 || len(e) > 4 {
		return nil, fmt.Errorf("bad exponent")
	}
	exp := 0
	for _, b := range e {
		exp = exp<<8 | int(b)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}
	if pub.N.BitLen() < 2048 {
		return nil, fmt.Errorf("RSA key shorter than 2048 bits")
	}
	return pub, nil
}

func sameKeys(a, b map[string]*rsa.PublicKey) bool {
	if len(a) != len(b) {
		return false
	}
	for kid, k := range a {
		if o, ok := b[kid]; !ok || !o.Equal(k) {
			return false
		}
	}
	return true
}
