package main

import (
	"encoding/json"
	"slices"

	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/local/gateway"
)

// grant is what a token needs to pass every route of the APIs that trust
// an issuer with one of some audiences: the scopes the routes and their
// rules ask for, the permissions and the claim values their rules require.
type grant struct {
	Scopes, Permissions []string
	Claims              map[string]any
}

func (g *grant) addScopes(list ...[]string) {
	for _, l := range list {
		for _, s := range l {
			if !slices.Contains(g.Scopes, s) {
				g.Scopes = append(g.Scopes, s)
			}
		}
	}
}

// grantFor collects what the routes trusting issuerURL and one of auds ask
// of a token (all audiences when auds is empty).
func grantFor(issuerURL string, auds []string, apis []*gateway.API) grant {
	g := grant{Claims: map[string]any{}}
	accepts := func(list []string) bool {
		return len(auds) == 0 || slices.ContainsFunc(list, func(a string) bool { return slices.Contains(auds, a) })
	}
	for _, api := range apis {
		for _, r := range api.Routes {
			if r.Authorizer == nil || r.Authorizer.Function != nil {
				continue
			}
			for _, t := range r.Authorizer.Trusts() {
				if t.Issuer == issuerURL && accepts(t.Audiences) {
					g.addScopes(r.Scopes)
				}
			}
		}
		for _, a := range api.Authorizers {
			if a.Function == nil {
				continue
			}
			c, err := authzspec.FromEnv(func(k string) string { return a.Function.Env[k] })
			if err != nil || c.Issuer != issuerURL || !accepts(c.Audiences) {
				continue
			}
			for _, rule := range c.Rules {
				g.addScopes(rule.AnyScopes, rule.AllScopes)
				for _, p := range rule.Permissions {
					if !slices.Contains(g.Permissions, p) {
						g.Permissions = append(g.Permissions, p)
					}
				}
				for _, cr := range rule.Claims {
					g.setClaim(cr)
				}
			}
		}
	}
	slices.Sort(g.Scopes)
	slices.Sort(g.Permissions)
	return g
}

// setClaim makes the token meet one claim condition: the value it must
// equal, or an array holding the value it must contain.
func (g *grant) setClaim(cr authzspec.ClaimRule) {
	path := cr.Path
	if cr.Claim != "" {
		path = []string{cr.Claim}
	}
	if len(path) == 0 {
		return
	}
	m := g.Claims
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	last := path[len(path)-1]
	var v any
	switch {
	case cr.Equals != nil:
		if json.Unmarshal(cr.Equals, &v) == nil {
			m[last] = v
		}
	case cr.Contains != nil:
		if json.Unmarshal(cr.Contains, &v) == nil {
			list, _ := m[last].([]any)
			m[last] = append(list, v)
		}
	}
}
