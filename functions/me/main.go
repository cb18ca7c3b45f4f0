// Command me serves GET /me: the caller's verified claims as JSON, every value
// parsed back from API Gateway's string form.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/jwtapi/jwtapi/functions/apigw"
	"github.com/jwtapi/jwtapi/functions/claims"
)

func handle(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	log := apigw.Logger(req)
	c, err := claims.FromV2(req)
	if err != nil {
		log.Warn("no claims", "error", err)
		return claims.Response(err), nil
	}
	log.Info("returned claims", "sub", c.Subject)
	return apigw.JSON(200, c), nil
}

func main() { lambda.Start(handle) }
