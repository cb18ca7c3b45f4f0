package authzspec

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseRulesErrors(t *testing.T) {
	for _, tt := range []struct{ json, want string }{
		{`{"GET users": {}}`, "malformed route key"},
		{`{"GET /x": {"permisions": ["a"]}}`, `unknown field "permisions"`},
		{`{"GET /x": {"claims": [{"equals": true}]}}`, "exactly one of claim or path"},
		{`{"GET /x": {"claims": [{"claim": "a", "path": ["b"], "equals": 1}]}}`, "exactly one of claim or path"},
		{`{"GET /x": {"claims": [{"claim": "a"}]}}`, "exactly one of equals or contains"},
		{`{"GET /x": {"claims": [{"claim": "a", "equals": 1, "contains": 1}]}}`, "exactly one of equals or contains"},
		{`{"GET /x": {"anyScopes": ["a b"]}}`, `"a b"`},
		{`{"GET /x": {"permissions": [""]}}`, `""`},
		{`[1]`, "rules"},
	} {
		if _, err := ParseRules([]byte(tt.json)); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseRules(%s) = %v, want %q", tt.json, err, tt.want)
		}
	}
	if r, err := ParseRules([]byte("  ")); err != nil || len(r) != 0 {
		t.Errorf("empty rules: %v %v", r, err)
	}
}

func TestConfigRoundTripsThroughTheEnvironment(t *testing.T) {
	c := Config{Issuer: "https://a.example/", Audiences: []string{"x", "y"}, JWKSURL: "https://a.example/keys", Algorithms: []string{"RS256", "ES256"},
		Leeway: 2 * time.Second, ClientIDAudience: true, Rules: Rules{"GET /x": {Permissions: []string{"p"}}}}
	env := c.Env()
	got, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if got.Issuer != c.Issuer || strings.Join(got.Audiences, ",") != "x,y" || got.JWKSURL != c.JWKSURL || len(got.Algorithms) != 2 ||
		got.Leeway != c.Leeway || !got.ClientIDAudience || got.Rules["GET /x"].Permissions[0] != "p" {
		t.Errorf("round trip: %+v", got)
	}
	minimal := Config{Issuer: "https://a.example/", Audiences: []string{"x"}}.Env()
	for _, k := range []string{EnvJWKSURL, EnvAlgorithms, EnvHMACSecret, EnvLeeway, EnvClientID} {
		if _, ok := minimal[k]; ok {
			t.Errorf("%s set for a config that leaves it out", k)
		}
	}
	if got, _ := FromEnv(func(k string) string { return minimal[k] }); got.Leeway != DefaultLeeway || minimal[EnvRules] != "{}" {
		t.Errorf("defaults: leeway %s, rules %q", got.Leeway, minimal[EnvRules])
	}
}
