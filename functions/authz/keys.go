package authz

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"golang.org/x/time/rate"
)

// keySource holds the issuer's JWKS, set up on first use: discovery and the
// first fetch happen in the first invocation, and are retried (at most every
// few seconds) if they fail, so a cold start during an issuer outage heals
// without a redeploy.
type keySource struct {
	opts *Options
	log  *slog.Logger

	mu       sync.Mutex
	kf       keyfunc.Keyfunc
	triedAt  time.Time
	lastErr  error
	retryGap time.Duration
}

func (k *keySource) keyfunc(ctx context.Context) (keyfunc.Keyfunc, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.kf != nil {
		return k.kf, nil
	}
	now := k.opts.Now()
	if !k.triedAt.IsZero() && now.Sub(k.triedAt) < k.retryGap {
		return nil, k.lastErr
	}
	k.triedAt = now
	k.kf, k.lastErr = k.setup(ctx)
	return k.kf, k.lastErr
}

func (k *keySource) setup(ctx context.Context) (keyfunc.Keyfunc, error) {
	jwksURL := k.opts.JWKSURL
	if jwksURL == "" {
		var err error
		if jwksURL, err = discover(ctx, k.opts.HTTPClient, k.opts.Issuer); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrJWKS, err)
		}
	}
	fail := false
	kf, err := keyfunc.NewDefaultOverrideCtx(context.Background(), []string{jwksURL}, keyfunc.Override{
		Client:      k.opts.HTTPClient,
		HTTPTimeout: k.opts.HTTPTimeout,
		// Fail the first fetch loudly, so the next invocation tries again.
		NoErrorReturnFirstHTTPReq: &fail,
		RefreshInterval:           k.opts.RefreshInterval,
		// An unknown kid refetches at most once per period; requests in
		// between are refused at once instead of waiting.
		RefreshUnknownKID: rate.NewLimiter(rate.Every(k.opts.UnknownKIDPeriod), 1),
		RateLimitWaitMax:  k.opts.HTTPTimeout,
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(_ context.Context, err error) {
				k.log.Warn("JWKS refresh failed; the keys fetched before stay in use", "url", u, "error", err)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJWKS, err)
	}
	return kf, nil
}

// discover reads jwks_uri from the issuer's OIDC discovery document.
func discover(ctx context.Context, client *http.Client, issuer string) (string, error) {
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	res, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", u, res.Status)
	}
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&doc); err != nil || doc.JWKSURI == "" {
		return "", fmt.Errorf("GET %s: no jwks_uri in the discovery document", u)
	}
	if err := checkURL(doc.JWKSURI); err != nil {
		return "", fmt.Errorf("jwks_uri %q: %v", doc.JWKSURI, err)
	}
	return doc.JWKSURI, nil
}

// key returns the verification key for a token's alg and kid.
func (v *Verifier) key(ctx context.Context, alg, kid string) (any, error) {
	if alg == "HS256" {
		// Only the configured shared secret: a public key from the JWKS is
		// never handed out as an HMAC secret (algorithm confusion).
		return v.opts.HMACSecret, nil
	}
	kf, err := v.keys.keyfunc(ctx)
	if err != nil {
		return nil, err
	}
	var key any
	if kid != "" {
		// The storage refetches on an unknown kid (rate-limited).
		j, err := kf.Storage().KeyRead(ctx, kid)
		if err != nil {
			return nil, fmt.Errorf("%w: kid %q: %v", ErrNoKey, kid, err)
		}
		if a := j.Marshal().ALG; a != "" && a.String() != alg {
			return nil, fmt.Errorf("%w: kid %q is a %s key, the token says %s", ErrNoKey, kid, a, alg)
		}
		key = publicKey(j.Key())
	} else if key, err = onlyKey(ctx, kf.Storage(), alg); err != nil {
		return nil, err
	}
	if !keyFits(alg, key) {
		return nil, fmt.Errorf("%w: the key for alg %s is of type %T", ErrNoKey, alg, key)
	}
	return key, nil
}

// onlyKey picks the key for a token without kid: it must be the only
// signing key of the right type.
func onlyKey(ctx context.Context, storage jwkset.Storage, alg string) (any, error) {
	all, err := storage.KeyReadAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJWKS, err)
	}
	var found []any
	for _, j := range all {
		m := j.Marshal()
		if m.USE != "" && m.USE != jwkset.UseSig || (m.ALG != "" && m.ALG.String() != alg) {
			continue
		}
		if key := publicKey(j.Key()); keyFits(alg, key) {
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

// publicKey returns the public half of a JWK's key.
func publicKey(key any) any {
	if pk, ok := key.(interface{ Public() crypto.PublicKey }); ok {
		return pk.Public()
	}
	return key
}

func keyFits(alg string, key any) bool {
	switch alg[:2] {
	case "RS", "PS":
		_, ok := key.(*rsa.PublicKey)
		return ok
	case "ES":
		_, ok := key.(*ecdsa.PublicKey)
		return ok
	}
	return false
}
