package main

import (
	"context"
	"strings"
	"testing"

	"github.com/jwtapi/jwtapi/functions/internal/fixtures"
)

func TestDeleteUser(t *testing.T) {
	tests := []struct {
		fixture string
		status  int
		want    string
	}{
		{"apigw-v2-lambda-authorizer.json", 200, `{"by":"auth0|admin","id":"42","message":"Deleted user 42"}`},
		{"apigw-v2-lambda-authorizer-no-permission.json", 403, "delete:user"},
		{"apigw-v2-no-authorizer.json", 401, "Unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			logs := fixtures.CaptureLogs(t)
			ev := fixtures.V2(t, tt.fixture)
			res, err := handle(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.status || !strings.Contains(res.Body, tt.want) {
				t.Errorf("got %d %s, want %d with %s", res.StatusCode, res.Body, tt.status, tt.want)
			}
			if logs.Len() > 0 {
				fixtures.CheckLogs(t, logs.String(), ev.RequestContext.RequestID, fixtures.Token(ev.Headers))
			}
		})
	}
}
