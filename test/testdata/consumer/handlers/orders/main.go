// Command orders answers the HTTP API's routes (payload 2.0).
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/jwtapi/jwtapi/functions/claims"
)

func handle(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	caller := "anonymous"
	if c, err := claims.FromV2(req); err == nil {
		caller = c.Subject
	}
	body, _ := json.Marshal(map[string]string{"route": req.RouteKey, "order": req.PathParameters["id"], "caller": caller})
	return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"content-type": "application/json"}, Body: string(body)}, nil
}

func main() { lambda.Start(handle) }
