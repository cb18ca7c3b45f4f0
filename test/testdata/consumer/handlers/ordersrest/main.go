// Command ordersrest answers the REST API's methods (payload 1.0).
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/jwtapi/jwtapi/functions/claims"
)

func handle(_ context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	caller := "anonymous"
	if c, err := claims.FromV1(req); err == nil {
		caller = c.Subject
	}
	body, _ := json.Marshal(map[string]string{"resource": req.Resource, "method": req.HTTPMethod, "caller": caller})
	return events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"content-type": "application/json"}, Body: string(body)}, nil
}

func main() { lambda.Start(handle) }
