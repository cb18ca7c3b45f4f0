package gateway

import (
	"encoding/json"
	"testing"
)

func TestPolicyEvaluation(t *testing.T) {
	const arn = "arn:aws:execute-api:us-east-1:123456789012:abc/dev/DELETE/users/42"
	tests := []struct {
		name   string
		policy string
		want   verdict
	}{
		{"allow the method", `[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"` + arn + `"}]`, allow},
		{"no statement matches", `[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/users/42"}]`, implicitDeny},
		{"explicit deny wins over allow", `[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"},{"Effect":"Deny","Action":"execute-api:Invoke","Resource":"` + arn + `"}]`, explicitDeny},
		{"deny listed first still wins", `[{"Effect":"Deny","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:abc/dev/DELETE/*"},{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]`, explicitDeny},
		{"* spans slashes", `[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc/dev/*"}]`, allow},
		{"a path wildcard covers deeper paths", `[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc/dev/DELETE/users/*"}]`, allow},
		{"? is one character", `[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc/dev/DELETE/users/4?"}]`, allow},
		{"? is not two characters", `[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc/dev/DELETE/users/?"}]`, implicitDeny},
		{"other stage", `[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc/prod/*"}]`, implicitDeny},
		{"other method", `[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/*"}]`, implicitDeny},
		{"other API", `[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:xyz/*"}]`, implicitDeny},
		{"resources are case-sensitive", `[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc/dev/delete/*"}]`, implicitDeny},
		{"actions are not", `[{"Effect":"Allow","Action":"EXECUTE-API:invoke","Resource":"*"}]`, allow},
		{"action wildcard", `[{"Effect":"Allow","Action":"execute-api:*","Resource":"*"}]`, allow},
		{"another action", `[{"Effect":"Allow","Action":"execute-api:ManageConnections","Resource":"*"}]`, implicitDeny},
		{"a list of resources", `[{"Effect":"Allow","Action":["execute-api:Invoke"],"Resource":["arn:x","` + arn + `"]}]`, allow},
		{"one statement, not a list", `{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}`, allow},
		{"NotResource", `[{"Effect":"Allow","Action":"execute-api:Invoke","NotResource":"arn:aws:execute-api:*:*:abc/dev/GET/*"}]`, allow},
		{"NotResource excluding the method", `[{"Effect":"Allow","Action":"execute-api:Invoke","NotResource":"arn:aws:execute-api:*:*:abc/dev/DELETE/*"}]`, implicitDeny},
		{"NotAction", `[{"Effect":"Deny","NotAction":"execute-api:ManageConnections","Resource":"*"}]`, explicitDeny},
		{"a conditional allow never allows", `[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]`, implicitDeny},
		{"a conditional deny always denies", `[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"},{"Effect":"Deny","Action":"execute-api:Invoke","Resource":"*","Condition":{"Bool":{"x":"true"}}}]`, explicitDeny},
		{"a deny of another action does not deny", `[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"},{"Effect":"Deny","Action":"execute-api:ManageConnections","Resource":"*"}]`, allow},
		{"a conditional deny of another resource does not deny", `[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"},{"Effect":"Deny","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:abc/dev/GET/*","Condition":{"Bool":{"x":"true"}}}]`, allow},
		{"an unknown effect does nothing", `[{"Effect":"allow","Action":"execute-api:Invoke","Resource":"*"}]`, implicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p policyDocument
			if err := json.Unmarshal([]byte(`{"Version":"2012-10-17","Statement":`+tt.policy+`}`), &p); err != nil {
				t.Fatal(err)
			}
			if got := p.evaluate(arn); got != tt.want {
				t.Errorf("evaluate = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWildcardMatch(t *testing.T) {
	for _, tt := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true}, {"*", "anything/at/all", true}, {"a*c", "abbbc", true}, {"a*c", "abbb", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"*/GET/*", "x/GET/y/z", true}, {"**", "x", true},
		{"a*b*c*d", "aXbYcZd", true}, {"a*b*c*d", "aXbYcZ", false}, {"", "", true}, {"", "x", false},
	} {
		if got := wildcardMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}
