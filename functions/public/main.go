// Command public serves GET /public: it needs no token.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/jwtapi/jwtapi/functions/apigw"
)

func handle(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	apigw.Logger(req).Info("greeted a stranger")
	return apigw.JSON(200, apigw.Message("Hello stranger!")), nil
}

func main() { lambda.Start(handle) }
