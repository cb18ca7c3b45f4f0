package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/jwtapi/jwtapi/functions/internal/fixtures"
)

func TestReturnsParsedClaims(t *testing.T) {
	logs := fixtures.CaptureLogs(t)
	ev := fixtures.V2(t, "apigw-v2-jwt-user.json")
	res, err := handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Headers["content-type"] != "application/json" {
		t.Fatalf("got %d %v", res.StatusCode, res.Headers)
	}
	var body struct {
		Subject     string         `json:"subject"`
		Audiences   []string       `json:"audiences"`
		Scopes      []string       `json:"scopes"`
		Permissions []string       `json:"permissions"`
		Claims      map[string]any `json:"claims"`
	}
	if err := json.Unmarshal([]byte(res.Body), &body); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, res.Body)
	}
	if body.Subject != "auth0|655f1b2c9d1e" || len(body.Audiences) != 2 || len(body.Scopes) != 4 || len(body.Permissions) != 2 {
		t.Errorf("body = %s", res.Body)
	}
	if body.Claims["email_verified"] != true || body.Claims["iss"] != "https://example.us.auth0.com/" {
		t.Errorf("claims = %v", body.Claims)
	}
	fixtures.CheckLogs(t, logs.String(), ev.RequestContext.RequestID, fixtures.Token(ev.Headers))
}
