package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/jwtapi/jwtapi/functions/internal/fixtures"
)

func TestRestRoutes(t *testing.T) {
	tests := []struct {
		name     string
		resource string
		perms    *string
		status   int
		want     string
	}{
		{"public", "/public", nil, 200, "Hello stranger!"},
		{"private", "/private", nil, 200, "Hello auth0|admin!"},
		{"delete with the permission", "/users/{id}", nil, 200, `"message":"Deleted user 42"`},
		{"delete without it", "/users/{id}", ptr("read:user"), 403, "delete:user"},
		{"unknown resource", "/other", nil, 404, "Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			old := logOutput
			logOutput = &logs
			defer func() { logOutput = old }()
			ev := fixtures.V1(t, "apigw-v1-lambda-authorizer.json")
			ev.Resource = tt.resource
			if tt.perms != nil {
				ev.RequestContext.Authorizer["permissions"] = *tt.perms
			}
			res, err := handle(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.status || !strings.Contains(res.Body, tt.want) {
				t.Errorf("got %d %s, want %d with %s", res.StatusCode, res.Body, tt.status, tt.want)
			}
			if strings.Contains(logs.String(), fixtures.Token(map[string]string{"authorization": ev.Headers["Authorization"]})) {
				t.Error("the log contains the token")
			}
		})
	}
	ev := fixtures.V1(t, "apigw-v1-lambda-authorizer.json")
	ev.Resource, ev.RequestContext.Authorizer = "/private", nil
	if res, _ := handle(context.Background(), ev); res.StatusCode != 401 {
		t.Errorf("private without authorizer context: %d, want 401", res.StatusCode)
	}
}

func ptr(s string) *string { return &s }
