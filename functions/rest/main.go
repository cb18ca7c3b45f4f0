// Command rest serves the REST API example (payload 1.0 events): GET /public,
// GET /private and DELETE /users/{id}, reading the context of the Go Lambda
// authorizer that guards the private routes.
package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/jwtapi/jwtapi/functions/claims"
)

var logOutput io.Writer = os.Stdout

func respond(status int, v any) events.APIGatewayProxyResponse {
	b, _ := json.Marshal(v)
	return events.APIGatewayProxyResponse{StatusCode: status, Headers: map[string]string{"content-type": "application/json"}, Body: string(b)}
}

func handle(_ context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	log := slog.New(slog.NewJSONHandler(logOutput, nil)).With("requestId", req.RequestContext.RequestID, "resource", req.Resource)
	if req.Resource == "/public" {
		log.Info("greeted a stranger")
		return respond(200, map[string]string{"message": "Hello stranger!"}), nil
	}
	c, err := claims.FromV1(req)
	if err != nil {
		log.Warn("no claims", "error", err)
		return respond(401, map[string]string{"message": "Unauthorized"}), nil
	}
	switch req.Resource {
	case "/private":
		log.Info("greeted a caller", "sub", c.Subject)
		return respond(200, map[string]string{"message": "Hello " + c.Subject + "!"}), nil
	case "/users/{id}":
		if err := c.RequirePermissions("delete:user"); err != nil {
			return respond(403, map[string]string{"message": "Forbidden", "error": err.Error()}), nil
		}
		id := req.PathParameters["id"]
		log.Info("deleted user", "sub", c.Subject, "user", id)
		return respond(200, map[string]string{"message": "Deleted user " + id, "id": id, "by": c.Subject}), nil
	}
	return respond(404, map[string]string{"message": "Not Found"}), nil
}

func main() { lambda.Start(handle) }
