package authz

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// stdClaims decodes the same fields with encoding/json alone.
type stdClaims struct {
	jwt.RegisteredClaims
	Scope       any `json:"scope"`
	Scp         any `json:"scp"`
	Permissions any `json:"permissions"`
}

// caseVariantKeys reports keys like "SUB": encoding/json matches struct
// fields case-insensitively, the fast decoder (rightly, JWT claim names are
// case-sensitive) does not, so such inputs are compared by TestClaimNamesAreCaseSensitive.
func caseVariantKeys(data []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return false
	}
	for k := range m {
		for _, name := range []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scope", "scp", "permissions", "alg", "kid", "crit"} {
			if k != name && strings.EqualFold(k, name) {
				return true
			}
		}
	}
	return false
}

func TestClaimNamesAreCaseSensitive(t *testing.T) {
	var c wellKnown
	if err := json.Unmarshal([]byte(`{"SUB":"admin","Iss":"https://evil/","sub":"alice"}`), &c); err != nil {
		t.Fatal(err)
	}
	if c.Subject != "alice" || c.Issuer != "" {
		t.Errorf("decoded %+v: only exact claim names count", c.RegisteredClaims)
	}
}

func FuzzClaimsDecoding(f *testing.F) {
	for _, seed := range []string{
		`{"iss":"https://a/","sub":"auth0|1","aud":["x","y"],"exp":1795352400,"iat":1795348790.5,"scope":"a b","permissions":["p","q"]}`,
		`{"aud":"x","nbf":null,"scp":["a","b"],"other":{"nested":[1,{"k":"v\"}"}]},"sub":"esc\u00e9\"d"}`,
		`{"iss":1}`, `{"aud":[1]}`, `{"exp":"soon"}`, `{"sub":"x","sub":"y"}`, `{}`, `null`, `{"permissions":"a b"}`,
		` { "iss" : "x" , "aud" : [ "a" , "b" ] } `, `{"alg":"RS256","kid":"k\u0031","typ":"JWT"}`, `{"alg":"RS256","crit":["exp"]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if caseVariantKeys(data) {
			return
		}
		var std stdClaims
		stdErr := json.Unmarshal(data, &std)
		var fast wellKnown
		fastErr := json.Unmarshal(data, &fast)
		if (stdErr == nil) != (fastErr == nil) {
			// The fast decoder may refuse more (e.g. a number in aud), never less.
			if fastErr == nil {
				t.Fatalf("%s: encoding/json refused (%v) but the fast decoder accepted", data, stdErr)
			}
			return
		}
		if stdErr != nil {
			return
		}
		if !reflect.DeepEqual(std.RegisteredClaims, fast.RegisteredClaims) {
			t.Fatalf("%s:\nstd  %+v\nfast %+v", data, std.RegisteredClaims, fast.RegisteredClaims)
		}
		var stdH struct {
			Alg  string          `json:"alg"`
			Kid  string          `json:"kid"`
			Crit json.RawMessage `json:"crit"`
		}
		var fastH header
		if json.Unmarshal(data, &stdH) == nil && json.Unmarshal(data, &fastH) == nil &&
			(stdH.Alg != fastH.Alg || stdH.Kid != fastH.Kid || (stdH.Crit == nil) != (fastH.Crit == nil)) {
			t.Fatalf("%s: header std %+v fast %+v", data, stdH, fastH)
		}
		for _, pair := range [][2]any{{std.Scope, fast.Scope}, {std.Scp, fast.Scp}, {std.Permissions, fast.Permissions}} {
			if !reflect.DeepEqual(strings1(pair[0]), strings1(pair[1])) {
				t.Fatalf("%s: %v vs %v", data, pair[0], pair[1])
			}
		}
	})
}
