package main

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/jwtapi/jwtapi/functions/internal/fixtures"
)

func TestAdmin(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		body    *string
		b64     bool
		env     string
		status  int
		want    string
	}{
		{name: "verified email", fixture: "apigw-v2-jwt-admin.json", status: 202, want: `"action":"reindex"`},
		{name: "base64 body", fixture: "apigw-v2-jwt-admin.json", b64: true, status: 202, want: `"by":"auth0|655f1b2c9d1e"`},
		{name: "unverified email", fixture: "apigw-v2-jwt-admin-unverified-email.json", status: 403, want: "email_verified"},
		{name: "claim name from env", fixture: "apigw-v2-jwt-admin.json", env: "https://example.com/email_verified", status: 403, want: "https://example.com/email_verified"},
		{name: "not JSON", fixture: "apigw-v2-jwt-admin.json", body: ptr("action=reindex"), status: 400, want: "JSON object"},
		{name: "unknown field", fixture: "apigw-v2-jwt-admin.json", body: ptr(`{"action":"x","as":"root"}`), status: 400},
		{name: "no action", fixture: "apigw-v2-jwt-admin.json", body: ptr(`{}`), status: 400},
		{name: "no claims", fixture: "apigw-v2-no-authorizer.json", status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("EMAIL_VERIFIED_CLAIM", tt.env)
			logs := fixtures.CaptureLogs(t)
			ev := fixtures.V2(t, tt.fixture)
			if tt.body != nil {
				ev.Body = *tt.body
			}
			if tt.b64 {
				ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(ev.Body)), true
			}
			res, err := handle(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.status || !strings.Contains(res.Body, tt.want) {
				t.Errorf("got %d %s, want %d with %q", res.StatusCode, res.Body, tt.status, tt.want)
			}
			if logs.Len() > 0 {
				fixtures.CheckLogs(t, logs.String(), ev.RequestContext.RequestID, fixtures.Token(ev.Headers))
			}
		})
	}
}

func ptr(s string) *string { return &s }
