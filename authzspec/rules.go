package authzspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/jwtapi/jwtapi/internal/routekey"
)

// Rule is what a route requires of a valid token beyond its validity. All
// listed requirements must hold; an empty Rule only needs a valid token.
type Rule struct {
	// AnyScopes: the token has at least one of these scopes.
	AnyScopes []string `json:"anyScopes,omitempty"`
	// AllScopes: the token has every one of these scopes.
	AllScopes []string `json:"allScopes,omitempty"`
	// Permissions: Auth0's permissions claim holds every one of these.
	Permissions []string `json:"permissions,omitempty"`
	// Claims: every one of these claim conditions holds.
	Claims []ClaimRule `json:"claims,omitempty"`
}

// ClaimRule is a condition on one claim: it Equals a JSON value, or (for an
// array claim) Contains one.
type ClaimRule struct {
	// Claim names a top-level claim, e.g. "email_verified" or
	// "https://example.com/roles" (dots and slashes are part of the name).
	Claim string `json:"claim,omitempty"`
	// Path names a nested claim instead, e.g. ["st-ev", "v"] for
	// SuperTokens' email-verification claim.
	Path []string `json:"path,omitempty"`
	// Equals is the JSON value the claim must equal, e.g. true or "acme".
	Equals json.RawMessage `json:"equals,omitempty"`
	// Contains is the JSON value an array claim must contain, e.g. "admin".
	Contains json.RawMessage `json:"contains,omitempty"`
}

// Rules maps route keys ("DELETE /users/{id}") to their rules.
type Rules map[string]Rule

// ParseRules decodes and checks rules given as JSON (the AUTHZ_RULES
// variable); unknown fields are errors, so a typo cannot weaken a rule.
func ParseRules(data []byte) (Rules, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return Rules{}, nil
	}
	var r Rules
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: rules: %v", ErrConfig, err)
	}
	return r, r.Validate()
}

// Validate checks route keys and conditions.
func (rs Rules) Validate() error {
	for key, r := range rs {
		if _, err := routekey.Parse(key); err != nil {
			return fmt.Errorf("%w: rules: %v", ErrConfig, err)
		}
		if err := r.Validate(); err != nil {
			return fmt.Errorf("%w: rules[%q]: %v", ErrConfig, key, err)
		}
	}
	return nil
}

// Validate checks one rule's conditions.
func (r Rule) Validate() error {
	for _, list := range [][]string{r.AnyScopes, r.AllScopes, r.Permissions} {
		for _, s := range list {
			if s == "" || strings.ContainsAny(s, " \t\n") {
				return fmt.Errorf("scope or permission %q must be non-empty without spaces", s)
			}
		}
	}
	for i, c := range r.Claims {
		switch {
		case (c.Claim == "") == (len(c.Path) == 0):
			return fmt.Errorf("claims[%d]: give exactly one of claim or path", i)
		case (c.Equals == nil) == (c.Contains == nil):
			return fmt.Errorf("claims[%d] (%s): give exactly one of equals or contains", i, c.name())
		}
		for _, raw := range []json.RawMessage{c.Equals, c.Contains} {
			if raw != nil && !json.Valid(raw) {
				return fmt.Errorf("claims[%d] (%s): %s is not JSON", i, c.name(), raw)
			}
		}
	}
	return nil
}

func (c ClaimRule) name() string {
	if c.Claim != "" {
		return c.Claim
	}
	return strings.Join(c.Path, ".")
}

// Claims is what a rule is checked against: a verified token's scopes (scp
// before scope), Auth0 permissions and every claim.
type Claims interface {
	Scopes() []string
	Permissions() []string
	All() map[string]any
}

// Check applies the rule to a verified token. The error wraps ErrNotMet and
// says, in words safe to show the caller, what is missing.
func (r Rule) Check(c Claims) error {
	forbid := func(format string, args ...any) error {
		return &Unmet{Reason: fmt.Sprintf(format, args...)}
	}
	if len(r.AnyScopes) > 0 {
		scopes := c.Scopes()
		if !slices.ContainsFunc(r.AnyScopes, func(s string) bool { return slices.Contains(scopes, s) }) {
			return forbid("Token needs one of the scopes %s.", strings.Join(r.AnyScopes, ", "))
		}
	}
	for _, s := range r.AllScopes {
		if !slices.Contains(c.Scopes(), s) {
			return forbid("Token lacks the scope %s.", s)
		}
	}
	for _, p := range r.Permissions {
		if !slices.Contains(c.Permissions(), p) {
			return forbid("Token lacks the permission %s.", p)
		}
	}
	for _, cr := range r.Claims {
		if !cr.holds(c.All()) {
			return forbid("Token claim %s does not meet the route's requirement.", cr.name())
		}
	}
	return nil
}

// ErrNotMet is wrapped by every failed Check.
var ErrNotMet = errors.New("the token does not meet the route's rule")

// Unmet is a failed Check; Reason is safe to show the caller.
type Unmet struct{ Reason string }

func (u *Unmet) Error() string { return u.Reason }

// Unwrap makes errors.Is(err, ErrNotMet) hold.
func (u *Unmet) Unwrap() error { return ErrNotMet }

func (c ClaimRule) holds(claims map[string]any) bool {
	var v any
	var ok bool
	if c.Claim != "" {
		v, ok = claims[c.Claim]
	} else {
		v, ok = lookup(claims, c.Path)
	}
	if !ok {
		return false
	}
	if c.Equals != nil {
		return jsonEqual(v, c.Equals)
	}
	list, isList := v.([]any)
	return isList && slices.ContainsFunc(list, func(e any) bool { return jsonEqual(e, c.Contains) })
}

func lookup(m map[string]any, path []string) (any, bool) {
	var v any = m
	for _, p := range path {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = obj[p]; !ok {
			return nil, false
		}
	}
	return v, true
}

// jsonEqual compares a decoded claim with a JSON literal by JSON value:
// true equals true, "true" does not, 1 equals 1.0. Both sides go through
// encoding/json, so a claim decoded with json.Number compares as a number.
// A literal that is not JSON equals nothing.
func jsonEqual(v any, want json.RawMessage) bool {
	var w, got any
	if json.Unmarshal(want, &w) != nil {
		return false
	}
	b, _ := json.Marshal(v) // a decoded claim always marshals
	json.Unmarshal(b, &got)
	return reflect.DeepEqual(got, w)
}
