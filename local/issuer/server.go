package issuer

import (
	"crypto/subtle"
	"encoding/json"
	"math/big"
	"mime"
	"net/http"
	"sort"
	"strings"
)

// Handler serves discovery, the JWKS and the token endpoint.
func (i *Issuer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", i.discovery)
	mux.HandleFunc("GET /.well-known/jwks.json", i.jwks)
	mux.HandleFunc("POST /oauth/token", i.token)
	mux.HandleFunc("/oauth/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("allow", "POST")
		writeJSON(w, 405, errorf(405, "invalid_request", "Use POST for /oauth/token"))
	})
	mux.HandleFunc("GET /{pool}/.well-known/openid-configuration", i.poolDiscovery)
	mux.HandleFunc("GET /{pool}/.well-known/jwks.json", i.jwks)
	mux.HandleFunc("POST /{pool}/oauth2/token", i.poolToken)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, errorf(404, "not_found", "No such endpoint: %s %s", r.Method, r.URL.Path))
	})
	return mux
}

func (i *Issuer) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 200, map[string]any{
		"issuer":                                i.URL,
		"jwks_uri":                              i.URL + ".well-known/jwks.json",
		"token_endpoint":                        i.URL + "oauth/token",
		"grant_types_supported":                 []string{GrantClientCredentials, GrantPassword},
		"response_types_supported":              []string{"token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
		"scopes_supported":                      i.scopesSupported(),
	})
}

func (i *Issuer) scopesSupported() []string {
	out := append([]string{}, oidcScopes...)
	for _, a := range i.cfg.APIs {
		out = append(out, a.Scopes...)
	}
	return out
}

func (i *Issuer) jwks(w http.ResponseWriter, _ *http.Request) {
	keys := []map[string]string{}
	for kid, pub := range i.keys.Published() {
		keys = append(keys, map[string]string{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
			"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
		})
	}
	sort.Slice(keys, func(a, b int) bool { return keys[a]["kid"] < keys[b]["kid"] })
	w.Header().Set("cache-control", "public, max-age=15")
	writeJSON(w, 200, map[string]any{"keys": keys})
}

// maxBody bounds a token request body.
const maxBody = 64 << 10

func (i *Issuer) token(w http.ResponseWriter, r *http.Request) {
	req, terr := parseTokenRequest(w, r)
	if terr == nil {
		var res *TokenResponse
		if res, terr = i.issue(req); terr == nil {
			w.Header().Set("cache-control", "no-store")
			writeJSON(w, 200, res)
			return
		}
	}
	if terr.Status == 401 {
		w.Header().Set("www-authenticate", `Basic realm="oauth"`)
	}
	writeJSON(w, terr.Status, terr)
}

func parseTokenRequest(w http.ResponseWriter, r *http.Request) (tokenRequest, *tokenError) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	var req tokenRequest
	mt, _, _ := mime.ParseMediaType(r.Header.Get("content-type"))
	switch mt {
	case "application/json":
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return req, errorf(400, "invalid_request", "The request body is not valid JSON: %v", err)
		}
		get := func(k string) string {
			switch v := body[k].(type) {
			case string:
				return v
			case []any: // some clients send scope as a list
				var parts []string
				for _, x := range v {
					if s, ok := x.(string); ok {
						parts = append(parts, s)
					}
				}
				return strings.Join(parts, " ")
			}
			return ""
		}
		req = tokenRequest{get("grant_type"), get("client_id"), get("client_secret"), get("audience"), get("scope"), get("username"), get("password")}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return req, errorf(400, "invalid_request", "The request body is not a valid form: %v", err)
		}
		f := r.PostForm
		req = tokenRequest{f.Get("grant_type"), f.Get("client_id"), f.Get("client_secret"), f.Get("audience"), f.Get("scope"), f.Get("username"), f.Get("password")}
	default:
		return req, errorf(400, "invalid_request", "Content-Type must be application/json or application/x-www-form-urlencoded, got %q", r.Header.Get("content-type"))
	}
	if id, secret, ok := r.BasicAuth(); ok && req.ClientID == "" {
		req.ClientID, req.ClientSecret = id, secret
	}
	return req, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("content-type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
