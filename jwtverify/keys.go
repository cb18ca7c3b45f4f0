package jwtverify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtapi/jwtapi/internal/issuerurl"
)

// keySet is an issuer's JWKS: parsed by jwkset, handed out by keyfunc
// (which matches kid and alg), fetched under this file's policy.
//
// The fetching is written here rather than left to jwkset's HTTP storage
// because that storage cannot meet what an authorizer under faults needs
// (TestSlowIssuer, TestKeysFetchedOneAtATime): it refetches on unknown kids
// behind a rate limiter on which every such request waits its turn and then
// fetches again itself, and it reads JWKS bodies without a size limit. Here:
//   - at most one fetch runs at a time, and requests needing keys join it;
//   - a request never waits longer than FetchTimeout for keys;
//   - a request whose key is known never waits for a fetch;
//   - an unknown kid fetches at most once per UnknownKIDPeriod, refused at
//     once in between;
//   - a failed fetch keeps the keys fetched before (an issuer outage does
//     not lock out tokens already verifiable), and a successful one replaces
//     them (a key the issuer stops publishing stops verifying).
type keySet struct {
	o       *Options
	storage *jwkset.MemoryJWKSet
	kf      keyfunc.Keyfunc
	// version changes whenever the published keys change.
	version atomic.Uint64
	// fetchedAt is the UnixNano time of the last successful fetch, 0 before.
	fetchedAt atomic.Int64
	fetches   atomic.Int64

	// resolved memoizes the keys keyfunc handed out for the current version,
	// by alg and kid, so a known key costs one map lookup.
	resolved atomic.Pointer[resolvedKeys]

	mu        sync.Mutex
	inflight  *fetch
	lastErr   error
	failedAt  time.Time
	unknownAt time.Time
	jwksURL   string // discovered, or Options.JWKSURL
	lastKeys  []byte // the raw "keys" member of the last JWKS, to spot changes
}

type resolvedKeys struct {
	version uint64
	keys    map[keyID]any
}

type keyID struct{ alg, kid string }

func (s *keySet) memo(version uint64, id keyID) (any, bool) {
	if r := s.resolved.Load(); r != nil && r.version == version {
		k, ok := r.keys[id]
		return k, ok
	}
	return nil, false
}

// remember adds a key to the memo, copying it: readers never lock.
func (s *keySet) remember(version uint64, id keyID, key any) {
	next := &resolvedKeys{version: version, keys: map[keyID]any{id: key}}
	if r := s.resolved.Load(); r != nil && r.version == version {
		for k, v := range r.keys {
			next.keys[k] = v
		}
	}
	s.resolved.Store(next)
}

// fetch is one discovery + JWKS fetch; done is closed when it has ended.
type fetch struct {
	done chan struct{}
	err  error
}

func newKeySet(o *Options) *keySet {
	s := &keySet{o: o, storage: jwkset.NewMemoryStorage(), jwksURL: o.JWKSURL}
	// keyfunc reads keys through lookup, which refetches on an unknown kid;
	// signing keys only: a key published for encryption never verifies.
	s.kf, _ = keyfunc.New(keyfunc.Options{Storage: lookup{s.storage, s}, UseWhitelist: []jwkset.USE{jwkset.UseSig, ""}})
	return s
}

// lookup is the storage keyfunc reads: the fetched keys, refetched once
// (under the policy above) when a kid is not among them.
type lookup struct {
	*jwkset.MemoryJWKSet
	set *keySet
}

func (l lookup) KeyRead(ctx context.Context, kid string) (jwkset.JWK, error) {
	j, err := l.MemoryJWKSet.KeyRead(ctx, kid)
	if errors.Is(err, jwkset.ErrKeyNotFound) && l.set.refetchForUnknownKID(ctx) {
		j, err = l.MemoryJWKSet.KeyRead(ctx, kid)
	}
	return j, err
}

// ready makes sure the keys were fetched once, waiting at most FetchTimeout.
func (s *keySet) ready(ctx context.Context) error {
	if s.fetchedAt.Load() != 0 {
		s.refreshIfStale()
		return nil
	}
	s.mu.Lock()
	f := s.startLocked()
	lastErr := s.lastErr
	s.mu.Unlock()
	if f == nil {
		return fmt.Errorf("%w: %v (next attempt in at most %s)", ErrKeysUnavailable, lastErr, s.o.RetryAfterError)
	}
	if err := s.wait(ctx, f); err != nil {
		return fmt.Errorf("%w: %v", ErrKeysUnavailable, err)
	}
	return nil
}

// refreshIfStale starts a background fetch when the keys are older than
// RefreshInterval; the keys we have serve meanwhile. It costs an atomic load
// when they are fresh.
func (s *keySet) refreshIfStale() {
	at := s.fetchedAt.Load()
	if at == 0 || s.o.Now().UnixNano()-at <= int64(s.o.RefreshInterval) {
		return
	}
	s.mu.Lock()
	s.startLocked()
	s.mu.Unlock()
}

// refetchForUnknownKID joins the fetch in flight or, if the unknown-kid
// period allows, starts one; it reports whether a fetch ended well.
func (s *keySet) refetchForUnknownKID(ctx context.Context) bool {
	s.mu.Lock()
	f := s.inflight
	if f == nil {
		now := s.o.Now()
		if now.Sub(s.unknownAt) < s.o.UnknownKIDPeriod {
			s.mu.Unlock()
			return false // refused at once: a flood of made-up kids cannot hammer the issuer
		}
		if f = s.startLocked(); f != nil {
			s.unknownAt = now
		}
	}
	s.mu.Unlock()
	return f != nil && s.wait(ctx, f) == nil
}

// startLocked returns the fetch in flight, or starts one unless the last
// attempt failed less than RetryAfterError ago (then nil). s.mu is held.
func (s *keySet) startLocked() *fetch {
	if s.inflight != nil {
		return s.inflight
	}
	if s.o.Now().Sub(s.failedAt) < s.o.RetryAfterError {
		return nil
	}
	f := &fetch{done: make(chan struct{})}
	s.inflight = f
	go s.run(f)
	return f
}

// wait waits for f, at most FetchTimeout or until ctx ends.
func (s *keySet) wait(ctx context.Context, f *fetch) error {
	timer := time.NewTimer(s.o.FetchTimeout)
	defer timer.Stop()
	select {
	case <-f.done:
		return f.err
	case <-timer.C:
		return fmt.Errorf("no answer from the issuer within %s", s.o.FetchTimeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run performs a fetch, detached from the request that started it: a
// client giving up does not cancel what others wait for.
func (s *keySet) run(f *fetch) {
	s.fetches.Add(1)
	s.mu.Lock()
	jwksURL := s.jwksURL
	s.mu.Unlock()
	var err error
	if jwksURL == "" {
		jwksURL, err = Discover(context.Background(), s.o.HTTPClient, s.o.Issuer, s.o.FetchTimeout, s.o.MaxJWKSBytes)
	}
	var keys []jwkset.JWK
	var raw []byte
	if err == nil {
		keys, raw, err = s.download(jwksURL)
	}
	s.mu.Lock()
	s.inflight = nil
	if err != nil {
		s.lastErr, s.failedAt = err, s.o.Now()
		if s.o.JWKSURL == "" {
			s.jwksURL = "" // discover again next time: the issuer may have moved its keys
		}
	} else {
		s.jwksURL, s.failedAt = jwksURL, time.Time{}
		s.storage.KeyReplaceAll(context.Background(), keys)
		if !bytes.Equal(raw, s.lastKeys) {
			s.lastKeys = raw
			s.version.Add(1)
		}
		s.fetchedAt.Store(s.o.Now().UnixNano())
	}
	s.mu.Unlock()
	f.err = err
	close(f.done)
}

// download fetches and parses the JWKS. A key jwkset cannot read (an
// unsupported type, bad parameters) is skipped rather than failing the set.
func (s *keySet) download(jwksURL string) ([]jwkset.JWK, []byte, error) {
	body, err := getBounded(context.Background(), s.o.HTTPClient, jwksURL, s.o.FetchTimeout, s.o.MaxJWKSBytes)
	if err != nil {
		return nil, nil, err
	}
	var doc struct {
		Keys json.RawMessage `json:"keys"`
	}
	var set jwkset.JWKSMarshal
	if err := json.Unmarshal(body, &doc); err != nil || doc.Keys == nil || json.Unmarshal(body, &set) != nil {
		return nil, nil, fmt.Errorf("GET %s: not a JWK Set (want {\"keys\": [...]})", jwksURL)
	}
	var keys []jwkset.JWK
	for _, m := range set.Keys {
		if j, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{}); err == nil {
			keys = append(keys, j)
		}
	}
	return keys, doc.Keys, nil
}

// Discover reads jwks_uri from the issuer's OIDC discovery document
// (<issuer>/.well-known/openid-configuration). The document must name the
// same issuer, and its jwks_uri must pass the issuer-URL rule: a document
// describing another issuer, or keys served over plain http elsewhere,
// would let someone else's keys verify this issuer's tokens.
func Discover(ctx context.Context, client *http.Client, issuer string, timeout time.Duration, maxBytes int64) (string, error) {
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	body, err := getBounded(ctx, client, u, timeout, maxBytes)
	if err != nil {
		return "", err
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.JWKSURI == "" {
		return "", fmt.Errorf("GET %s: no jwks_uri in the discovery document", u)
	}
	if doc.Issuer != issuer {
		return "", fmt.Errorf("GET %s: the document is for the issuer %q, not %q", u, doc.Issuer, issuer)
	}
	if err := issuerurl.Check(doc.JWKSURI); err != nil {
		return "", fmt.Errorf("GET %s: jwks_uri %q: %v", u, doc.JWKSURI, err)
	}
	return doc.JWKSURI, nil
}

// getBounded GETs u within timeout and reads at most maxBytes of a 200 answer.
func getBounded(ctx context.Context, client *http.Client, u string, timeout time.Duration, maxBytes int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, res.Status)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %v", u, err)
	}
	if int64(len(body)) > maxBytes {
		return nil, fmt.Errorf("GET %s: the document is larger than %d bytes", u, maxBytes)
	}
	return body, nil
}

// key returns the verification key for a token whose algorithm is allowed,
// and the version of the key set read before the key was looked up: a
// token cached under that version is verified afresh once the set changes.
func (v *Verifier) key(ctx context.Context, t *jwt.Token, version *uint64) (any, error) {
	if _, ok := t.Header["crit"]; ok {
		// No extension is understood, so none can be honoured (RFC 7515 4.1.11).
		return nil, ErrCritical
	}
	alg := t.Method.Alg()
	if alg == "HS256" {
		// Only the configured shared secret: a public key from the JWKS is
		// never handed out as an HMAC secret (algorithm confusion), and
		// without a secret there is no HS256 at all: an empty key would
		// verify a token anyone can sign.
		if len(v.o.HMACSecret) == 0 {
			return nil, fmt.Errorf("%w: HS256 without a configured secret", ErrAlgorithm)
		}
		return v.o.HMACSecret, nil
	}
	raw, hasKID := t.Header["kid"]
	kid, isString := raw.(string)
	if hasKID && !isString {
		// A kid that is not a string is a malformed header, whatever the
		// key set holds: it must not fall through to the no-kid rule.
		return nil, fmt.Errorf("%w: the kid header is %s, not a string", ErrMalformed, jsonKind(raw))
	}
	if err := v.keys.ready(ctx); err != nil {
		return nil, err
	}
	*version = v.keys.version.Load()
	if kid == "" {
		if v.o.RequireKID {
			return nil, ErrNoKID
		}
		return v.onlyKey(ctx, alg)
	}
	id := keyID{alg, kid}
	if key, ok := v.keys.memo(*version, id); ok {
		return key, nil
	}
	key, err := v.keys.kf.KeyfuncCtx(ctx)(t)
	if err != nil {
		if errors.Is(err, jwkset.ErrKeyNotFound) {
			return nil, fmt.Errorf("%w: kid %q", ErrNoKey, kid)
		}
		return nil, fmt.Errorf("%w: kid %q: %v", ErrNoKey, kid, err)
	}
	if err := fits(alg, key); err != nil {
		return nil, fmt.Errorf("%w: kid %q: %v", ErrNoKey, kid, err)
	}
	v.keys.remember(*version, id, key)
	return key, nil
}

// jsonKind names the JSON type of a decoded value, for messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// onlyKey picks the key for a token without kid: the one signing key of the
// set that fits its algorithm, or none when several do.
func (v *Verifier) onlyKey(ctx context.Context, alg string) (any, error) {
	all, _ := v.keys.storage.KeyReadAll(ctx)
	var found []any
	for _, j := range all {
		m := j.Marshal()
		if m.USE != "" && m.USE != jwkset.UseSig || m.ALG != "" && m.ALG.String() != alg {
			continue
		}
		if key := publicKey(j.Key()); fits(alg, key) == nil {
			found = append(found, key)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%w: the token has no kid and no %s key fits", ErrNoKey, alg)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("%w: %d keys", ErrMultipleKeys, len(found))
}

func publicKey(key any) any {
	if pk, ok := key.(interface{ Public() crypto.PublicKey }); ok {
		return pk.Public()
	}
	return key
}

// fits checks that key can verify alg: the right type, and RSA keys of at
// least 2048 bits (shorter ones can be factored).
func fits(alg string, key any) error {
	switch alg[:2] {
	case "RS", "PS":
		k, ok := key.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("a %T cannot verify %s", key, alg)
		}
		if k.N.BitLen() < minRSABits {
			return fmt.Errorf("the RSA key has %d bits; at least %d are required", k.N.BitLen(), minRSABits)
		}
		return nil
	case "ES":
		if _, ok := key.(*ecdsa.PublicKey); !ok {
			return fmt.Errorf("a %T cannot verify %s", key, alg)
		}
		return nil
	}
	return fmt.Errorf("no key type verifies %s", alg)
}
