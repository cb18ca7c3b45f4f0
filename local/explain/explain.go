// Package explain says in plain words why a token was refused: the
// decision's sentinel error (jwtverify), the authorizer's configuration and
// what the token holds, read without verifying it — for people only; no
// decision is ever taken on what this package reads.
package explain

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jwtapi/jwtapi/jwtverify"
)

// Context is what a refusal is explained against.
type Context struct {
	// Issuers and Audiences are what the authorizer accepts.
	Issuers, Audiences []string
	// Algorithms is the authorizer's allow-list.
	Algorithms []string
	// RouteScopes are the route's scopes (at least one is needed).
	RouteScopes []string
	// KeysFetchedAt is when the issuer's keys were last fetched; zero
	// when unknown or never.
	KeysFetchedAt time.Time
	// Now is the time of the decision. Default: time.Now.
	Now time.Time
}

// Why returns the reason of a refusal in plain words, with what to do
// when there is something to do. err wraps one of jwtverify's sentinels
// (or is an authorizer's own message); token is the raw token ("" if none).
func Why(err error, token string, c Context) string {
	if err == nil {
		return ""
	}
	if c.Now.IsZero() {
		c.Now = time.Now()
	}
	t := peek(token)
	switch {
	case errors.Is(err, jwtverify.ErrNoToken):
		return "no token: send an access token as Authorization: Bearer <token>"
	case errors.Is(err, jwtverify.ErrSegments):
		return fmt.Sprintf("not a JWT: it has %d dot-separated parts, a JWT has 3 (header.payload.signature)", strings.Count(token, ".")+1)
	case errors.Is(err, jwtverify.ErrMalformed), errors.Is(err, jwtverify.ErrMalformedClaims):
		return "not a readable JWT: " + detail(err)
	case errors.Is(err, jwtverify.ErrCritical):
		return "the token's crit header asks for extensions no authorizer here understands"
	case errors.Is(err, jwtverify.ErrAlgorithm):
		alg, _ := t.header["alg"].(string)
		return fmt.Sprintf("alg %q is not allowed here (allowed: %s)", alg, strings.Join(orDefault(c.Algorithms, "RS256"), ", "))
	case errors.Is(err, jwtverify.ErrNoKID):
		return "the token has no kid header: the authorizer picks the issuer's key by kid"
	case errors.Is(err, jwtverify.ErrNoKey):
		kid, _ := t.header["kid"].(string)
		return fmt.Sprintf("kid %q is not in the issuer's keys%s: the token was signed with a key the issuer does not publish (another tenant or environment, or a rotated-out key)", kid, fetched(c))
	case errors.Is(err, jwtverify.ErrMultipleKeys):
		return "the token has no kid and several of the issuer's keys could have signed it"
	case errors.Is(err, jwtverify.ErrKeysUnavailable):
		return "the issuer's keys cannot be fetched, so no token can be verified: " + detail(err)
	case errors.Is(err, jwtverify.ErrSignature):
		kid, _ := t.header["kid"].(string)
		return fmt.Sprintf("the signature does not verify with the issuer's key %q: the token was altered, or signed by someone else with that kid", kid)
	case errors.Is(err, jwtverify.ErrIssuer):
		return issuerReason(t, c)
	case errors.Is(err, jwtverify.ErrAudience):
		return audienceReason(t, c)
	case errors.Is(err, jwtverify.ErrNoExpiry):
		return "the token has no exp claim: a token without expiry would be valid forever"
	case errors.Is(err, jwtverify.ErrExpired):
		if exp, ok := t.time("exp"); ok {
			return fmt.Sprintf("expired %s ago (exp %s): get a fresh token", ago(c.Now.Sub(exp)), exp.UTC().Format(time.RFC3339))
		}
		return "expired: get a fresh token"
	case errors.Is(err, jwtverify.ErrNotYetValid):
		if nbf, ok := t.time("nbf"); ok {
			return fmt.Sprintf("not valid for another %s (nbf %s): check the clocks of the issuer and this machine", ago(nbf.Sub(c.Now)), nbf.UTC().Format(time.RFC3339))
		}
		return "not valid yet (nbf)"
	case errors.Is(err, jwtverify.ErrIssuedFuture):
		if iat, ok := t.time("iat"); ok {
			return fmt.Sprintf("issued %s in the future (iat %s): the issuer's clock is ahead", ago(iat.Sub(c.Now)), iat.UTC().Format(time.RFC3339))
		}
		return "issued in the future (iat)"
	case errors.Is(err, jwtverify.ErrScope):
		return fmt.Sprintf("route wants any of [%s]; token has [%s]", strings.Join(c.RouteScopes, " "), strings.Join(t.scopes(), " "))
	case errors.Is(err, jwtverify.ErrRequiredClaim), errors.Is(err, jwtverify.ErrRule):
		return detail(err)
	}
	return err.Error()
}

// token is a token read without verifying it.
type token struct {
	header, claims map[string]any
}

func peek(raw string) token {
	t := token{header: map[string]any{}, claims: map[string]any{}}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return t
	}
	for i, into := range []*map[string]any{&t.header, &t.claims} {
		if b, err := base64.RawURLEncoding.DecodeString(parts[i]); err == nil {
			json.Unmarshal(b, into)
		}
	}
	return t
}

func (t token) time(name string) (time.Time, bool) {
	f, ok := t.claims[name].(float64)
	if !ok {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

func (t token) list(name string) []string {
	switch v := t.claims[name].(type) {
	case string:
		if name == "aud" {
			return []string{v}
		}
		return strings.Fields(v)
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func (t token) scopes() []string {
	if _, ok := t.claims["scp"]; ok {
		return t.list("scp")
	}
	return t.list("scope")
}

func issuerReason(t token, c Context) string {
	iss, ok := t.claims["iss"].(string)
	if !ok {
		return fmt.Sprintf("the token has no iss claim; the authorizer accepts %s", quoteList(c.Issuers))
	}
	msg := fmt.Sprintf("iss %q is not %s", iss, oneOf(c.Issuers))
	for _, want := range c.Issuers {
		if strings.TrimSuffix(iss, "/") == strings.TrimSuffix(want, "/") {
			return msg + ": the issuer must match exactly, trailing slash included"
		}
	}
	return msg + ": the token comes from another issuer (another tenant, user pool or environment)"
}

func audienceReason(t token, c Context) string {
	aud := t.list("aud")
	var msg string
	switch {
	case len(aud) == 0:
		msg = fmt.Sprintf("the token has no aud claim; the authorizer accepts %s", quoteList(c.Audiences))
	case len(aud) == 1:
		msg = fmt.Sprintf("aud %q is not one of %s", aud[0], quoteList(c.Audiences))
	default:
		msg = fmt.Sprintf("aud %s holds none of %s", quoteList(aud), quoteList(c.Audiences))
	}
	if t.looksLikeIDToken() {
		who := "the issuer"
		if iss, _ := t.claims["iss"].(string); strings.Contains(iss, ".auth0.com") {
			who = "Auth0"
		} else if strings.Contains(iss, "cognito-idp.") {
			who = "Cognito"
		}
		want := ""
		if len(c.Audiences) > 0 {
			want = " with audience " + c.Audiences[0]
		}
		return msg + fmt.Sprintf(": this looks like an ID token — ask %s for an access token%s", who, want)
	}
	return msg
}

// looksLikeIDToken: ID tokens carry nonce or at_hash, or an aud that is a
// client id (not a URL) next to profile claims, and no scope.
func (t token) looksLikeIDToken() bool {
	if t.claims["nonce"] != nil || t.claims["at_hash"] != nil || t.claims["token_use"] == "id" {
		return true
	}
	_, hasScope := t.claims["scope"]
	aud := t.list("aud")
	if hasScope || len(aud) == 0 {
		return false
	}
	u, err := url.Parse(aud[0])
	notURL := err != nil || u.Scheme == ""
	_, profile := t.claims["email"]
	_, name := t.claims["name"]
	return notURL && (profile || name)
}

func fetched(c Context) string {
	if c.KeysFetchedAt.IsZero() {
		return ""
	}
	return fmt.Sprintf(" (refetched %s ago)", ago(c.Now.Sub(c.KeysFetchedAt)))
}

// detail is the part of an error after its sentinel's text, looked for
// down the chain of wrapped errors (an authorizer's denial wraps the
// verifier's error).
func detail(err error) string {
	for e := err; e != nil; e = errors.Unwrap(e) {
		s := e.Error()
		for _, sentinel := range []error{jwtverify.ErrRule, jwtverify.ErrRequiredClaim, jwtverify.ErrMalformed, jwtverify.ErrMalformedClaims, jwtverify.ErrKeysUnavailable} {
			if p := sentinel.Error() + ": "; strings.HasPrefix(s, p) {
				return strings.TrimPrefix(s, p)
			}
		}
	}
	return err.Error()
}

// ago writes a duration the way people say it.
func ago(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, " ") + "]"
}

func oneOf(l []string) string {
	if len(l) == 1 {
		return fmt.Sprintf("%q", l[0])
	}
	return "one of " + quoteList(l)
}

func orDefault(l []string, def string) []string {
	if len(l) == 0 {
		return []string{def}
	}
	return slices.Clone(l)
}
