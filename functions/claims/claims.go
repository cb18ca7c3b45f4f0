package claims

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// ErrNoClaims means the request carries no verified claims: the route is
// public or the API has no JWT authorizer in front of this function.
var ErrNoClaims = errors.New("claims: the request carries no verified JWT claims")

// Claims are the verified claims of the caller's token.
type Claims struct {
	// Subject is `sub`: "auth0|123" for a user, "<client_id>@clients" for a machine.
	Subject string
	// Issuer is `iss`.
	Issuer string
	// Audiences is `aud`, one or more.
	Audiences []string
	// Scopes are the token's scopes: `scp` when present, else `scope`.
	Scopes []string
	// Permissions is Auth0's RBAC `permissions` claim.
	Permissions []string
	// ClientID is `azp`, else `client_id`: the application the token was issued to.
	ClientID string
	// ExpiresAt, IssuedAt and NotBefore are `exp`, `iat` and `nbf`; zero when absent.
	ExpiresAt, IssuedAt, NotBefore time.Time

	raw map[string]string
	// typed holds the claims with their JSON types when API Gateway handed
	// them over so (a REST API's JWT authorizer); nil for text claims.
	typed map[string]any
}

// FromV2 reads the claims of a payload 2.0 event (HTTP API): those of the
// managed JWT authorizer, or the context of the Go Lambda authorizer
// (functions/authorizer: sub, scope, permissions), whichever the route has.
func FromV2(req events.APIGatewayV2HTTPRequest) (*Claims, error) {
	a := req.RequestContext.Authorizer
	switch {
	case a == nil:
		return nil, ErrNoClaims
	case a.JWT != nil && len(a.JWT.Claims) > 0:
		return Parse(a.JWT.Claims), nil
	}
	return fromContext(a.Lambda) // none without sub
}

// fromContext reads the flat context the Go Lambda authorizer returns.
func fromContext(ctx map[string]any) (*Claims, error) {
	m := make(map[string]string, len(ctx))
	for k, v := range ctx {
		if v != nil {
			m[k] = fmt.Sprint(v)
		}
	}
	if m["sub"] == "" {
		return nil, ErrNoClaims
	}
	return Parse(m), nil
}

// FromV1 reads the claims of a payload 1.0 event: a REST API's JWT
// authorizer's claims under requestContext.authorizer.claims (each with
// its JSON type), an HTTP API's JWT claims there (as text), or the context
// a Lambda authorizer returned (a REST API's TOKEN authorizer) directly
// under requestContext.authorizer.
func FromV1(req events.APIGatewayProxyRequest) (*Claims, error) {
	raw, ok := req.RequestContext.Authorizer["claims"].(map[string]any)
	if !ok || len(raw) == 0 {
		if _, lambda := req.RequestContext.Authorizer["sub"]; lambda {
			return fromContext(req.RequestContext.Authorizer)
		}
		return nil, ErrNoClaims
	}
	typed := false
	for _, v := range raw {
		if _, isText := v.(string); !isText {
			typed = true
		}
	}
	if typed {
		return FromJSON(raw), nil
	}
	m := make(map[string]string, len(raw))
	for k, v := range raw {
		m[k] = v.(string)
	}
	return Parse(m), nil
}

// FromJSON reads claims that keep their JSON types (what a REST API's JWT
// authorizer hands a Lambda proxy integration, decoded). Get and Raw give
// them in API Gateway's text form, as for an HTTP API; List, Map and
// MarshalJSON use the types, so an array element may hold spaces.
func FromJSON(claims map[string]any) *Claims {
	raw := make(map[string]string, len(claims))
	for k, v := range claims {
		if v != nil {
			raw[k] = textOf(v)
		}
	}
	c := Parse(raw)
	c.typed = claims
	c.Audiences = c.List("aud")
	if _, ok := claims["scp"]; ok {
		c.Scopes = c.List("scp")
	} else {
		c.Scopes = c.List("scope")
	}
	c.Permissions = c.List("permissions")
	return c
}

// textOf writes a JSON value as API Gateway writes claims for HTTP APIs:
// numbers in decimal, arrays "[a b]", objects "map[k:v]".
func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, textOf(e))
		}
		return "[" + strings.Join(parts, " ") + "]"
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, k+":"+textOf(x[k]))
		}
		return "map[" + strings.Join(parts, " ") + "]"
	case nil:
		return "<nil>"
	}
	return fmt.Sprint(v)
}

// Parse reads claims in API Gateway's string form.
func Parse(raw map[string]string) *Claims {
	c := &Claims{raw: raw, Subject: raw["sub"], Issuer: raw["iss"]}
	c.Audiences = c.List("aud")
	if v, ok := raw["scp"]; ok {
		c.Scopes = ParseList(v)
	} else {
		c.Scopes = ParseList(raw["scope"])
	}
	c.Permissions = c.List("permissions")
	c.ClientID = raw["azp"]
	if c.ClientID == "" {
		c.ClientID = raw["client_id"]
	}
	c.ExpiresAt, _ = c.Time("exp")
	c.IssuedAt, _ = c.Time("iat")
	c.NotBefore, _ = c.Time("nbf")
	return c
}

// Get returns a claim in API Gateway's text form.
func (c *Claims) Get(name string) (string, bool) {
	v, ok := c.raw[name]
	return v, ok
}

// List returns an array claim's elements (see ParseList); a string claim
// is split on spaces (scope).
func (c *Claims) List(name string) []string {
	if list, ok := c.typed[name].([]any); ok {
		out := make([]string, 0, len(list))
		for _, e := range list {
			out = append(out, textOf(e))
		}
		return out
	}
	return ParseList(c.raw[name])
}

// Bool returns a boolean claim; ok is false when it is absent or not a boolean.
func (c *Claims) Bool(name string) (value, ok bool) {
	v, err := strconv.ParseBool(c.raw[name])
	return v, err == nil
}

// Int returns an integer claim; ok is false when it is absent or not a number.
func (c *Claims) Int(name string) (int64, bool) {
	v, err := strconv.ParseInt(c.raw[name], 10, 64)
	return v, err == nil
}

// Time returns a NumericDate claim (seconds since the epoch) as a time.
func (c *Claims) Time(name string) (time.Time, bool) {
	s, ok := c.raw[name]
	if !ok {
		return time.Time{}, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0).UTC(), true
}

// Map returns an object claim's entries (see ParseMap), each value in
// API Gateway's text form.
func (c *Claims) Map(name string) (map[string]string, bool) {
	if m, ok := c.typed[name].(map[string]any); ok {
		out := make(map[string]string, len(m))
		for k, v := range m {
			out[k] = textOf(v)
		}
		return out, true
	}
	return ParseMap(c.raw[name])
}

// Raw returns a copy of all claims in API Gateway's text form.
func (c *Claims) Raw() map[string]string {
	out := make(map[string]string, len(c.raw))
	for k, v := range c.raw {
		out[k] = v
	}
	return out
}

// HasScope reports whether the token carries scope s (exact, case-sensitive).
func (c *Claims) HasScope(s string) bool { return slices.Contains(c.Scopes, s) }

// HasPermission reports whether Auth0's `permissions` claim holds p.
func (c *Claims) HasPermission(p string) bool { return slices.Contains(c.Permissions, p) }

// MarshalJSON writes the claims with every value parsed back to its JSON type.
func (c *Claims) MarshalJSON() ([]byte, error) {
	all := make(map[string]any, len(c.raw))
	for k, v := range c.raw {
		all[k] = Value(v)
		if t, ok := c.typed[k]; ok {
			all[k] = t
		}
	}
	out := struct {
		Subject     string         `json:"subject"`
		Issuer      string         `json:"issuer"`
		Audiences   []string       `json:"audiences"`
		Scopes      []string       `json:"scopes"`
		Permissions []string       `json:"permissions"`
		ClientID    string         `json:"clientId,omitempty"`
		ExpiresAt   *time.Time     `json:"expiresAt,omitempty"`
		IssuedAt    *time.Time     `json:"issuedAt,omitempty"`
		Claims      map[string]any `json:"claims"`
	}{c.Subject, c.Issuer, nonNil(c.Audiences), nonNil(c.Scopes), nonNil(c.Permissions), c.ClientID,
		timePtr(c.ExpiresAt), timePtr(c.IssuedAt), all}
	return json.Marshal(out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
