package main

import (
	"context"
	"testing"

	"github.com/jwtapi/jwtapi/functions/internal/fixtures"
)

func TestHelloStranger(t *testing.T) {
	logs := fixtures.CaptureLogs(t)
	ev := fixtures.V2(t, "apigw-v2-no-authorizer.json")
	res, err := handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Body != `{"message":"Hello stranger!"}` {
		t.Errorf("got %d %s", res.StatusCode, res.Body)
	}
	fixtures.CheckLogs(t, logs.String(), ev.RequestContext.RequestID, "")
}
