package main

import (
	"context"
	"testing"

	"github.com/jwtapi/jwtapi/functions/internal/fixtures"
)

func TestGreetsTheSubject(t *testing.T) {
	tests := []struct {
		fixture string
		status  int
		body    string
	}{
		{"apigw-v2-jwt-user.json", 200, `{"message":"Hello auth0|655f1b2c9d1e!"}`},
		{"apigw-v2-jwt-machine.json", 200, `{"message":"Hello Xo1bDp8sVw4kKmQ2@clients!"}`},
		// Reached without the authorizer (misconfigured route): refuse, don't greet "".
		{"apigw-v2-no-authorizer.json", 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			logs := fixtures.CaptureLogs(t)
			ev := fixtures.V2(t, tt.fixture)
			res, err := handle(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.status || (tt.body != "" && res.Body != tt.body) {
				t.Errorf("got %d %s, want %d %s", res.StatusCode, res.Body, tt.status, tt.body)
			}
			fixtures.CheckLogs(t, logs.String(), ev.RequestContext.RequestID, fixtures.Token(ev.Headers))
		})
	}
}
