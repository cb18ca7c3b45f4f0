// Command users serves DELETE /users/{id}. The route is guarded by the Go
// Lambda authorizer's rule (the delete:user permission and a verified email),
// and the handler checks the permission again: defence in depth costs nothing.
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
	if err := c.RequirePermissions("delete:user"); err != nil {
		log.Info("denied", "sub", c.Subject, "reason", err.Error())
		return claims.Response(err), nil
	}
	id := req.PathParameters["id"]
	if id == "" {
		return apigw.Error(400, "Bad Request", "the path must name a user: /users/{id}"), nil
	}
	log.Info("deleted user", "sub", c.Subject, "user", id)
	return apigw.JSON(200, map[string]string{"message": "Deleted user " + id, "id": id, "by": c.Subject}), nil
}

func main() { lambda.Start(handle) }
