package authzspec

import (
	"encoding/json"
	"errors"
	"fmt"
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
	if got, _ := FromEnv(func(k string) string { return minimal[k] }); got.Leeway != DefaultLeeway || minimal[EnvRules] != "{}" || got.ClientIDAudience {
		t.Errorf("defaults: leeway %s, rules %q, client_id as audience %v (want off: aud is required)", got.Leeway, minimal[EnvRules], got.ClientIDAudience)
	}
	// Only "true" turns client_id-as-audience on.
	for _, v := range []string{"", "false", "1", "TRUE ", "yes"} {
		env := Config{Issuer: "https://a.example/", Audiences: []string{"x"}}.Env()
		env[EnvClientID] = v
		if got, _ := FromEnv(func(k string) string { return env[k] }); got.ClientIDAudience {
			t.Errorf("%s=%q turned client_id-as-audience on", EnvClientID, v)
		}
	}
}

// claims is a verified token as rules see it.
type claims struct {
	scopes, permissions []string
	all                 map[string]any
}

func (c claims) Scopes() []string      { return c.scopes }
func (c claims) Permissions() []string { return c.permissions }
func (c claims) All() map[string]any   { return c.all }

func TestRuleCheck(t *testing.T) {
	token := claims{
		scopes: []string{"openid", "read:user"}, permissions: []string{"read:user", "delete:user"},
		all: map[string]any{"email_verified": true, "org": "acme", "seats": json.Number("5"), "roles": []any{"admin", "ops"},
			"st-ev": map[string]any{"v": true}, "nothing": nil},
	}
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	tests := []struct {
		name string
		rule Rule
		want string // "" when it holds; else part of the reason
	}{
		{"empty rule", Rule{}, ""},
		{"permissions only", Rule{Permissions: []string{"delete:user"}}, ""},
		{"any scope: the first", Rule{AnyScopes: []string{"read:user", "admin"}}, ""},
		{"any scope: the second", Rule{AnyScopes: []string{"admin", "openid"}}, ""},
		{"any scope: none", Rule{AnyScopes: []string{"admin", "root"}}, "one of the scopes admin, root"},
		{"all scopes", Rule{AllScopes: []string{"openid", "read:user"}}, ""},
		{"all scopes: one missing", Rule{AllScopes: []string{"openid", "write:user"}}, "lacks the scope write:user"},
		{"permissions: all of them", Rule{Permissions: []string{"read:user", "delete:user"}}, ""},
		{"permissions: one missing", Rule{Permissions: []string{"read:user", "write:user"}}, "lacks the permission write:user"},
		{"claim equals true", Rule{Claims: []ClaimRule{{Claim: "email_verified", Equals: raw("true")}}}, ""},
		{"claim equals a string", Rule{Claims: []ClaimRule{{Claim: "org", Equals: raw(`"acme"`)}}}, ""},
		{"claim equals a number", Rule{Claims: []ClaimRule{{Claim: "seats", Equals: raw("5.0")}}}, ""},
		{"claim differs", Rule{Claims: []ClaimRule{{Claim: "org", Equals: raw(`"evil"`)}}}, "claim org"},
		{"string is not a bool", Rule{Claims: []ClaimRule{{Claim: "org", Equals: raw("true")}}}, "claim org"},
		{"missing claim", Rule{Claims: []ClaimRule{{Claim: "tenant", Equals: raw(`"acme"`)}}}, "claim tenant"},
		{"null claim equals nothing", Rule{Claims: []ClaimRule{{Claim: "nothing", Equals: raw("{not json")}}}, "claim nothing"},
		{"list contains", Rule{Claims: []ClaimRule{{Claim: "roles", Contains: raw(`"ops"`)}}}, ""},
		{"list lacks", Rule{Claims: []ClaimRule{{Claim: "roles", Contains: raw(`"adm"`)}}}, "claim roles"},
		{"a string does not contain", Rule{Claims: []ClaimRule{{Claim: "org", Contains: raw(`"acme"`)}}}, "claim org"},
		{"nested path", Rule{Claims: []ClaimRule{{Path: []string{"st-ev", "v"}, Equals: raw("true")}}}, ""},
		{"nested path missing", Rule{Claims: []ClaimRule{{Path: []string{"st-ev", "w"}, Equals: raw("true")}}}, "claim st-ev.w"},
		{"path through a non-object", Rule{Claims: []ClaimRule{{Path: []string{"org", "id"}, Equals: raw(`"acme"`)}}}, "claim org.id"},
		{"every condition must hold", Rule{Permissions: []string{"delete:user"}, Claims: []ClaimRule{
			{Claim: "email_verified", Equals: raw("true")}, {Claim: "org", Equals: raw(`"other"`)}}}, "claim org"},
	}
	for _, tt := range tests {
		err := tt.rule.Check(token)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v, want it to hold", tt.name, err)
		case tt.want != "" && (!errors.Is(err, ErrNotMet) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want a refusal mentioning %q", tt.name, err, tt.want)
		}
	}
}

func TestRuleValidate(t *testing.T) {
	if err := (Rule{Claims: []ClaimRule{{Claim: "x", Equals: json.RawMessage("{bad")}}}).Validate(); err == nil || !strings.Contains(err.Error(), "is not JSON") {
		t.Errorf("an equals that is not JSON: %v", err)
	}
	if err := (Rule{Claims: []ClaimRule{{Claim: "x", Contains: json.RawMessage("[1")}}}).Validate(); err == nil || !strings.Contains(err.Error(), "(x)") {
		t.Errorf("a contains that is not JSON: %v", err)
	}
	if err := (Rule{Claims: []ClaimRule{{Path: []string{"a", "b"}, Contains: json.RawMessage("1")}}}).Validate(); err != nil {
		t.Errorf("a valid path rule: %v", err)
	}
}

func TestLeeway(t *testing.T) {
	for _, tt := range []struct {
		env  string
		want time.Duration
		ok   bool
	}{
		{"", 5 * time.Second, true}, {"0s", 0, true}, {"1ns", time.Nanosecond, true}, {"5m", 5 * time.Minute, true},
		{"5m1s", 0, false}, {"-1s", 0, false}, {"soon", 0, false},
	} {
		env := map[string]string{EnvIssuer: "https://a.example/", EnvAudiences: "x", EnvLeeway: tt.env}
		c, err := FromEnv(func(k string) string { return env[k] })
		if (err == nil) != tt.ok || tt.ok && c.Leeway != tt.want {
			t.Errorf("JWT_LEEWAY=%q: %v %v, want %v ok=%v", tt.env, c.Leeway, err, tt.want, tt.ok)
		}
		if !tt.ok && !strings.Contains(fmt.Sprint(err), EnvLeeway) {
			t.Errorf("JWT_LEEWAY=%q: the error %v does not name the variable", tt.env, err)
		}
	}
}
