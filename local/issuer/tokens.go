package issuer

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Grant types the issuer supports.
const (
	GrantClientCredentials = "client_credentials"
	GrantPassword          = "password"
)

// oidcScopes are kept in a user token's scope when requested, as Auth0 does.
var oidcScopes = []string{"openid", "profile", "email", "offline_access"}

// DefaultLifetime is Auth0's default access token lifetime.
const DefaultLifetime = 24 * time.Hour

// Issuer issues Auth0-shaped tokens.
type Issuer struct {
	// URL is the issuer as written in iss, with Auth0's trailing slash.
	URL  string
	cfg  *Config
	keys *KeyStore
	now  func() time.Time
}

// New returns an issuer at url (a trailing slash is added if missing).
func New(url string, cfg *Config, keys *KeyStore, now func() time.Time) *Issuer {
	if now == nil {
		now = time.Now
	}
	if !strings.HasSuffix(url, "/") {
		url += "/"
	}
	return &Issuer{URL: url, cfg: cfg, keys: keys, now: now}
}

// Config returns the issuer's users, clients and APIs.
func (i *Issuer) Config() *Config { return i.cfg }

// MintOptions describe a token made directly, without a grant.
type MintOptions struct {
	Subject   string
	Audiences []string
	// Scope is space-delimited; empty leaves the scope claim out.
	Scope       string
	Permissions []string
	ClientID    string
	// Claims are added last and may override anything, for experiments.
	Claims map[string]any
	// Lifetime is exp - iat. Default: 1 hour.
	Lifetime time.Duration
	// IssuedAt defaults to now; set it in the past to mint an expired token.
	IssuedAt time.Time
	// NotBefore, when set, adds an nbf claim.
	NotBefore time.Time
}

// Mint signs a token with the current key.
func (i *Issuer) Mint(o MintOptions) (string, error) {
	iat := o.IssuedAt
	if iat.IsZero() {
		iat = i.now()
	}
	if o.Lifetime == 0 {
		o.Lifetime = time.Hour
	}
	c := jwt.MapClaims{"iss": i.URL, "iat": iat.Unix(), "exp": iat.Add(o.Lifetime).Unix()}
	if o.Subject != "" {
		c["sub"] = o.Subject
	}
	switch len(o.Audiences) {
	case 0:
	case 1:
		c["aud"] = o.Audiences[0]
	default:
		c["aud"] = o.Audiences
	}
	if o.Scope != "" {
		c["scope"] = o.Scope
	}
	if o.Permissions != nil {
		c["permissions"] = o.Permissions
	}
	if o.ClientID != "" {
		c["azp"] = o.ClientID
	}
	if !o.NotBefore.IsZero() {
		c["nbf"] = o.NotBefore.Unix()
	}
	return i.sign(c, o.Claims)
}

// sign signs claims with the current key after applying overrides: a nil
// value removes a claim, any other value sets it.
func (i *Issuer) sign(c jwt.MapClaims, overrides map[string]any) (string, error) {
	for k, v := range overrides {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	kid, key := i.keys.Signing()
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	t.Header["kid"] = kid
	return t.SignedString(key)
}

// tokenRequest is a parsed POST /oauth/token body.
type tokenRequest struct {
	GrantType, ClientID, ClientSecret, Audience, Scope, Username, Password string
}

// TokenResponse is the body of a successful token request.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
}

// tokenError is an Auth0-shaped error with its HTTP status.
type tokenError struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *tokenError) Error() string { return e.Code + ": " + e.Description }

func errorf(status int, code, format string, args ...any) *tokenError {
	return &tokenError{Status: status, Code: code, Description: fmt.Sprintf(format, args...)}
}

func (i *Issuer) issue(r tokenRequest) (*TokenResponse, *tokenError) {
	if r.GrantType == "" {
		return nil, errorf(400, "invalid_request", "Missing required parameter: grant_type")
	}
	if r.GrantType != GrantClientCredentials && r.GrantType != GrantPassword {
		return nil, errorf(400, "unsupported_grant_type", "Unsupported grant type: %s", r.GrantType)
	}
	client, ok := i.cfg.client(r.ClientID)
	if r.ClientID == "" {
		return nil, errorf(401, "access_denied", "Missing required parameter: client_id")
	}
	// Same answer for an unknown client and a wrong secret: no client enumeration.
	if !ok || (client.ClientSecret != "" && !constantTimeEqual(client.ClientSecret, r.ClientSecret)) {
		return nil, errorf(401, "access_denied", "Unauthorized")
	}
	if !slices.Contains(client.GrantTypes, r.GrantType) {
		return nil, errorf(403, "unauthorized_client", "Grant type '%s' not allowed for the client.", r.GrantType)
	}
	if r.Audience == "" {
		return nil, errorf(403, "access_denied", "No audience parameter was provided, and no default audience has been configured")
	}
	api, ok := i.cfg.api(r.Audience)
	if !ok {
		return nil, errorf(403, "access_denied", "Service not found: %s", r.Audience)
	}
	lifetime := DefaultLifetime
	if api.TokenLifetimeSeconds > 0 {
		lifetime = time.Duration(api.TokenLifetimeSeconds) * time.Second
	}
	if r.GrantType == GrantClientCredentials {
		return i.clientCredentials(client, api, lifetime)
	}
	return i.password(r, client, api, lifetime)
}

func (i *Issuer) clientCredentials(client Client, api API, lifetime time.Duration) (*TokenResponse, *tokenError) {
	granted, ok := client.Grants[api.Identifier]
	if !ok {
		return nil, errorf(403, "access_denied", "Client is not authorized to access %q. You need to create a \"client-grant\" associated to this API.", api.Identifier)
	}
	scope := strings.Join(granted, " ")
	tok, err := i.Mint(MintOptions{
		Subject: client.ClientID + "@clients", Audiences: []string{api.Identifier}, Scope: scope,
		Permissions: nonNil(granted), ClientID: client.ClientID, Lifetime: lifetime,
		Claims: map[string]any{"gty": "client-credentials"},
	})
	if err != nil {
		return nil, errorf(500, "server_error", "%v", err)
	}
	return &TokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int(lifetime.Seconds()), Scope: scope}, nil
}

func (i *Issuer) password(r tokenRequest, client Client, api API, lifetime time.Duration) (*TokenResponse, *tokenError) {
	if r.Username == "" {
		return nil, errorf(400, "invalid_request", "Missing required parameter: username")
	}
	if r.Password == "" {
		return nil, errorf(400, "invalid_request", "Missing required parameter: password")
	}
	user, ok := i.cfg.user(r.Username)
	if !ok || !constantTimeEqual(user.Password, r.Password) {
		return nil, errorf(403, "invalid_grant", "Wrong email or password.")
	}
	perms := user.Permissions[api.Identifier]
	// RBAC: the token's scope is what was asked for and the user holds (plus
	// requested OIDC scopes); with nothing left, Auth0 leaves scope out.
	var scopes []string
	for _, s := range strings.Fields(r.Scope) {
		if (slices.Contains(perms, s) || slices.Contains(oidcScopes, s)) && !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	auds := []string{api.Identifier}
	if slices.Contains(scopes, "openid") {
		auds = append(auds, i.URL+"userinfo") // Auth0 adds its userinfo audience
	}
	scope := strings.Join(scopes, " ")
	claims := map[string]any{"gty": "password"}
	for k, v := range user.Claims {
		claims[k] = v
	}
	tok, err := i.Mint(MintOptions{
		Subject: user.UserID, Audiences: auds, Scope: scope, Permissions: nonNil(perms),
		ClientID: client.ClientID, Lifetime: lifetime, Claims: claims,
	})
	if err != nil {
		return nil, errorf(500, "server_error", "%v", err)
	}
	return &TokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int(lifetime.Seconds()), Scope: scope}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
