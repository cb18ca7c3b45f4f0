package issuer

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// DefaultGrace is how long a rotated-out key stays published, so that
// tokens it signed keep verifying until they expire.
const DefaultGrace = 24 * time.Hour

const keyFile = "keys.json"

// KeyStore holds the issuer's RSA signing keys in a state folder, so tokens
// survive restarts. Another process (the rotate command) may change the
// file: the store reloads it when it changes.
type KeyStore struct {
	path string
	now  func() time.Time

	mu      sync.Mutex
	keys    []*storedKey
	modTime time.Time
}

type storedKey struct {
	Kid     string    `json:"kid"`
	Created time.Time `json:"created"`
	// RetireAt is when a rotated-out key stops being published; nil for the
	// current signing key.
	RetireAt *time.Time `json:"retire_at,omitempty"`
	PEM      string     `json:"private_key_pem"`

	priv *rsa.PrivateKey
}

// OpenKeyStore opens (or creates, with a first key) the key store in dir.
func OpenKeyStore(dir string, now func() time.Time) (*KeyStore, error) {
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("issuer state folder: %w", err)
	}
	s := &KeyStore{path: filepath.Join(dir, keyFile), now: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); errors.Is(err, os.ErrNotExist) {
		k, err := newKey(now())
		if err != nil {
			return nil, err
		}
		s.keys = []*storedKey{k}
		return s, s.save()
	} else if err != nil {
		return nil, err
	}
	return s, nil
}

func newKey(now time.Time) (*storedKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	return &storedKey{
		Kid:     thumbprint(&priv.PublicKey),
		Created: now.UTC(),
		PEM:     string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		priv:    priv,
	}, nil
}

// thumbprint is the RFC 7638 JWK thumbprint, used as kid.
func thumbprint(pub *rsa.PublicKey) string {
	j := fmt.Sprintf(`{"e":"%s","kty":"RSA","n":"%s"}`, b64(big.NewInt(int64(pub.E)).Bytes()), b64(pub.N.Bytes()))
	sum := sha256.Sum256([]byte(j))
	return b64(sum[:])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (s *KeyStore) load() error {
	st, err := os.Stat(s.path)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(s.path)
	if err != nil {
		return err
	}
	var keys []*storedKey
	if err := json.Unmarshal(b, &keys); err != nil {
		return fmt.Errorf("%s is corrupt (%v): delete it to start over with new keys", s.path, err)
	}
	for _, k := range keys {
		block, _ := pem.Decode([]byte(k.PEM))
		if block == nil {
			return fmt.Errorf("%s: key %s has no PEM block; delete the file to start over", s.path, k.Kid)
		}
		priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		rsaKey, ok := priv.(*rsa.PrivateKey)
		if err != nil || !ok {
			return fmt.Errorf("%s: key %s is not an RSA private key; delete the file to start over", s.path, k.Kid)
		}
		k.priv = rsaKey
	}
	if len(keys) == 0 {
		return fmt.Errorf("%s holds no keys; delete it to start over", s.path)
	}
	s.keys, s.modTime = keys, st.ModTime()
	return nil
}

func (s *KeyStore) save() error {
	b, err := json.MarshalIndent(s.keys, "", "  ")
	if err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	// Private keys: readable by the owner only.
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return err
	}
	if st, err := os.Stat(s.path); err == nil {
		s.modTime = st.ModTime()
	}
	return nil
}

// refresh reloads the file if another process changed it.
func (s *KeyStore) refresh() {
	if st, err := os.Stat(s.path); err == nil && !st.ModTime().Equal(s.modTime) {
		_ = s.load() // a half-written file is retried on the next call
	}
}

// Signing returns the current signing key and its kid.
func (s *KeyStore) Signing() (string, *rsa.PrivateKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh()
	k := s.keys[len(s.keys)-1]
	return k.Kid, k.priv
}

// Published returns the keys the JWKS publishes: the signing key and the
// rotated-out keys still in their grace period.
func (s *KeyStore) Published() map[string]*rsa.PublicKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh()
	now := s.now()
	out := map[string]*rsa.PublicKey{}
	for _, k := range s.keys {
		if k.RetireAt == nil || now.Before(*k.RetireAt) {
			out[k.Kid] = &k.priv.PublicKey
		}
	}
	return out
}

// Rotate makes a new signing key; the previous one stays published for grace.
func (s *KeyStore) Rotate(grace time.Duration) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh()
	now := s.now()
	k, err := newKey(now)
	if err != nil {
		return "", err
	}
	var kept []*storedKey
	for _, old := range s.keys {
		if old.RetireAt == nil {
			until := now.Add(grace).UTC()
			old.RetireAt = &until
		}
		if now.Before(*old.RetireAt) {
			kept = append(kept, old)
		}
	}
	s.keys = append(kept, k)
	return k.Kid, s.save()
}
