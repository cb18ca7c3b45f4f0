package gateway

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/jwtapi/jwtapi/jwtverify"
)

// serveHTTPAPI runs a request through an HTTP API: CORS preflight, route,
// authorizer, integration.
func (g *Gateway) serveHTTPAPI(q *request) (*response, outcome) {
	r := q.http
	if g.api.Cors != nil && isPreflight(r) {
		return g.api.Cors.preflight(r), outcome{route: "CORS preflight"}
	}
	match, ok := g.table.Lookup(r.Method, r.URL.EscapedPath())
	if !ok {
		return apiError(http.StatusNotFound), outcome{route: "no route"}
	}
	route := g.routes[match.Key.String()]
	q.route, q.match = route, match
	out := outcome{route: match.Key.String()}
	var res *response
	switch route.AuthType {
	case "JWT":
		res, out.auth = g.authorize(q)
	case "CUSTOM":
		res, out.auth = g.authorizeLambda(q)
	}
	if res != nil {
		return res, out
	}
	res, detail := g.integrate(q, httpAPIFailure)
	if detail != "" {
		out.auth = strings.TrimPrefix(strings.TrimSpace(out.auth+"; "+detail), "; ")
	}
	return res, out
}

// httpAPIFailure is an HTTP API's answer to a failed Lambda integration:
// 500, or 503 when the integration timed out.
func httpAPIFailure(kind int) *response {
	if kind == failTimeout {
		return apiError(http.StatusServiceUnavailable)
	}
	return apiError(http.StatusInternalServerError)
}

// authorize runs the route's JWT authorizer; a nil response means allowed.
func (g *Gateway) authorize(q *request) (*response, string) {
	a := q.route.Authorizer
	token := ""
	for _, src := range a.IdentitySource {
		switch {
		case strings.HasPrefix(src, "$request.header."):
			token = q.http.Header.Get(strings.TrimPrefix(src, "$request.header."))
		case strings.HasPrefix(src, "$request.querystring."):
			token = q.http.URL.Query().Get(strings.TrimPrefix(src, "$request.querystring."))
		}
	}
	q.token = jwtverify.BearerToken(token)
	if strings.TrimSpace(token) == "" {
		res := apiError(http.StatusUnauthorized)
		res.headers.Set("Www-Authenticate", "Bearer")
		q.refuse(jwtverify.ErrNoToken)
		return res, "jwt: no token"
	}
	d := g.authorizers[a.LogicalID].Authorize(q.http.Context(), q.token, q.route.Scopes)
	if d.Err != nil {
		q.refuse(d.Err)
		e := jwtverify.Explain(d.Err)
		res := apiError(d.Status)
		kind := "invalid_token"
		if d.Status == http.StatusForbidden {
			kind = "insufficient_scope"
		}
		res.headers.Set("Www-Authenticate", fmt.Sprintf(`Bearer scope=%q error=%q error_description=%q`, strings.Join(q.route.Scopes, " "), kind, e.Description))
		return res, "jwt: " + d.Err.Error()
	}
	q.decision = &d
	q.allow(d.Claims)
	return nil, "jwt: ok sub=" + d.Claims["sub"]
}
