package issuer

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// CognitoPool is a Cognito-like user pool served under the issuer's URL:
// its issuer is <issuer URL without the slash>/<ID>, as Cognito's is
// https://cognito-idp.<region>.amazonaws.com/<user pool id>.
type CognitoPool struct {
	// ID is the pool id, one URL path segment (letters, digits, _ and -).
	ID string `json:"id"`
	// Clients are the pool's app clients that may use client credentials.
	Clients []PoolClient `json:"clients"`
	// TokenLifetimeSeconds is the access token lifetime. Default: 3600, as Cognito.
	TokenLifetimeSeconds int `json:"tokenLifetimeSeconds,omitempty"`
}

// PoolClient is an app client of a pool with a secret (a machine client).
type PoolClient struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	// Scopes are the custom scopes (resource server/scope) it may request;
	// a request without scope gets them all, as Cognito does.
	Scopes []string `json:"scopes"`
	// Groups are written as cognito:groups (Cognito writes a user's groups;
	// a pre token generation trigger can add them to machine tokens).
	Groups []string `json:"groups,omitempty"`
}

// DefaultPoolLifetime is Cognito's default access token lifetime.
const DefaultPoolLifetime = time.Hour

var poolIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,55}$`)

func (c *Config) validatePools() error {
	seen := map[string]bool{}
	for i, p := range c.CognitoPools {
		where := fmt.Sprintf("cognitoPools[%d] (%s)", i, p.ID)
		if !poolIDPattern.MatchString(p.ID) {
			return fmt.Errorf("%w: %s: id must be one URL path segment of letters, digits, _ and - (like eu-west-1_AbCdEf123)", ErrConfig, where)
		}
		if seen[p.ID] {
			return fmt.Errorf("%w: %s: id listed twice", ErrConfig, where)
		}
		seen[p.ID] = true
		if p.TokenLifetimeSeconds < 0 {
			return fmt.Errorf("%w: %s: tokenLifetimeSeconds is negative", ErrConfig, where)
		}
		clients := map[string]bool{}
		for j, cl := range p.Clients {
			if cl.ClientID == "" || cl.ClientSecret == "" || clients[cl.ClientID] {
				return fmt.Errorf("%w: %s.clients[%d]: client_id and client_secret are required, and a client_id is listed once", ErrConfig, where, j)
			}
			clients[cl.ClientID] = true
			for _, s := range cl.Scopes {
				if s == "" || strings.ContainsAny(s, " \t\n") {
					return fmt.Errorf("%w: %s.clients[%d]: scope %q is empty or holds a space", ErrConfig, where, j, s)
				}
			}
		}
	}
	return nil
}

// Pool returns the pool with this id.
func (c *Config) Pool(id string) (CognitoPool, bool) {
	for _, p := range c.CognitoPools {
		if p.ID == id {
			return p, true
		}
	}
	return CognitoPool{}, false
}

func (p CognitoPool) client(id string) (PoolClient, bool) {
	for _, c := range p.Clients {
		if c.ClientID == id {
			return c, true
		}
	}
	return PoolClient{}, false
}

func (p CognitoPool) lifetime() time.Duration {
	if p.TokenLifetimeSeconds > 0 {
		return time.Duration(p.TokenLifetimeSeconds) * time.Second
	}
	return DefaultPoolLifetime
}

// PoolURL is the issuer (iss) of a pool's tokens: no trailing slash, as Cognito.
func (i *Issuer) PoolURL(id string) string { return strings.TrimSuffix(i.URL, "/") + "/" + id }

// PoolID is the pool whose issuer iss is, if iss is one of this issuer's
// pool issuers (configured or not: the caller says what is missing).
func (i *Issuer) PoolID(iss string) (string, bool) { return PoolOf(i.URL, iss) }

// PoolOf is the pool id of iss when iss is a pool issuer under issuerURL
// (the issuer's URL and one path segment).
func PoolOf(issuerURL, iss string) (string, bool) {
	if !strings.HasSuffix(issuerURL, "/") {
		issuerURL += "/"
	}
	id, ok := strings.CutPrefix(iss, issuerURL)
	return id, ok && poolIDPattern.MatchString(id)
}

// CognitoMintOptions describe a Cognito-shaped access token made directly.
type CognitoMintOptions struct {
	ClientID string
	// Scope is space-delimited; empty leaves the scope claim out.
	Scope  string
	Groups []string
	// Lifetime is exp - iat. Default: the pool's (1 hour).
	Lifetime time.Duration
	// IssuedAt defaults to now; set it in the past to mint an expired token.
	IssuedAt time.Time
	// Claims are added last and may override anything (nil removes one).
	Claims map[string]any
}

// MintCognito signs an access token as a Cognito user pool issues to a
// machine client: token_use access, client_id and sub the client, no aud.
func (i *Issuer) MintCognito(poolID string, o CognitoMintOptions) (string, error) {
	if !poolIDPattern.MatchString(poolID) {
		return "", fmt.Errorf("pool id %q is not one URL path segment of letters, digits, _ and -", poolID)
	}
	iat := o.IssuedAt
	if iat.IsZero() {
		iat = i.now()
	}
	if o.Lifetime == 0 {
		o.Lifetime = DefaultPoolLifetime
		if p, ok := i.cfg.Pool(poolID); ok {
			o.Lifetime = p.lifetime()
		}
	}
	jti := make([]byte, 16)
	rand.Read(jti)
	c := jwt.MapClaims{
		"iss": i.PoolURL(poolID), "sub": o.ClientID, "client_id": o.ClientID, "token_use": "access",
		"auth_time": iat.Unix(), "iat": iat.Unix(), "exp": iat.Add(o.Lifetime).Unix(),
		"version": 2, "jti": hex.EncodeToString(jti),
	}
	if o.Scope != "" {
		c["scope"] = o.Scope
	}
	if len(o.Groups) > 0 {
		c["cognito:groups"] = o.Groups
	}
	return i.sign(c, o.Claims)
}

func (i *Issuer) poolOf(w http.ResponseWriter, r *http.Request) (CognitoPool, bool) {
	p, ok := i.cfg.Pool(r.PathValue("pool"))
	if !ok {
		writeJSON(w, 404, errorf(404, "not_found", "No user pool %q here (the issuer's config lists its cognitoPools)", r.PathValue("pool")))
	}
	return p, ok
}

func (i *Issuer) poolDiscovery(w http.ResponseWriter, r *http.Request) {
	p, ok := i.poolOf(w, r)
	if !ok {
		return
	}
	iss := i.PoolURL(p.ID)
	var scopes []string
	for _, c := range p.Clients {
		for _, s := range c.Scopes {
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	}
	slices.Sort(scopes)
	writeJSON(w, 200, map[string]any{
		"issuer":                                iss,
		"jwks_uri":                              iss + "/.well-known/jwks.json",
		"token_endpoint":                        iss + "/oauth2/token",
		"grant_types_supported":                 []string{GrantClientCredentials},
		"response_types_supported":              []string{"token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"scopes_supported":                      scopes,
	})
}

// poolToken is Cognito's token endpoint for client credentials. Its errors
// are Cognito's: status 400 and an error code (invalid_client for a wrong
// secret, as Cognito answers), with a description added to say what to fix.
func (i *Issuer) poolToken(w http.ResponseWriter, r *http.Request) {
	p, ok := i.poolOf(w, r)
	if !ok {
		return
	}
	res, terr := i.poolIssue(w, r, p)
	if terr != nil {
		writeJSON(w, terr.Status, terr)
		return
	}
	w.Header().Set("cache-control", "no-store")
	writeJSON(w, 200, res)
}

func (i *Issuer) poolIssue(w http.ResponseWriter, r *http.Request, p CognitoPool) (*TokenResponse, *tokenError) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("content-type")); mt != "application/x-www-form-urlencoded" {
		return nil, errorf(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded, got %q", r.Header.Get("content-type"))
	}
	if err := r.ParseForm(); err != nil {
		return nil, errorf(400, "invalid_request", "The request body is not a valid form: %v", err)
	}
	f := r.PostForm
	switch g := f.Get("grant_type"); g {
	case GrantClientCredentials:
	case "":
		return nil, errorf(400, "invalid_request", "Missing required parameter: grant_type")
	default:
		return nil, errorf(400, "unsupported_grant_type", "Only client_credentials is served for user pool %s, got %q", p.ID, g)
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = f.Get("client_id"), f.Get("client_secret")
	}
	if id == "" {
		return nil, errorf(400, "invalid_request", "Missing client_id: send it with client_secret in an Authorization: Basic header or in the form")
	}
	client, ok := p.client(id)
	// Same answer for an unknown client and a wrong secret: no client enumeration.
	if !ok || !constantTimeEqual(client.ClientSecret, secret) {
		return nil, errorf(400, "invalid_client", "Client authentication failed")
	}
	scopes := client.Scopes
	if req := strings.Fields(f.Get("scope")); len(req) > 0 {
		for _, s := range req {
			if !slices.Contains(client.Scopes, s) {
				return nil, errorf(400, "invalid_scope", "The client may not request scope %q (allowed: %s)", s, strings.Join(client.Scopes, " "))
			}
		}
		scopes = req
	}
	if len(scopes) == 0 {
		return nil, errorf(400, "invalid_grant", "The client has no custom scopes to grant")
	}
	scope := strings.Join(scopes, " ")
	tok, err := i.MintCognito(p.ID, CognitoMintOptions{ClientID: id, Scope: scope, Groups: client.Groups, Lifetime: p.lifetime()})
	if err != nil {
		return nil, errorf(500, "server_error", "%v", err)
	}
	return &TokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int(p.lifetime().Seconds())}, nil
}
