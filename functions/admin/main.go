// Command admin serves POST /admin. The route requires the write:user scope;
// the handler additionally requires a verified email, a check API Gateway's
// JWT authorizer cannot express.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/jwtapi/jwtapi/functions/apigw"
	"github.com/jwtapi/jwtapi/functions/claims"
)

// emailVerifiedClaim names the claim holding the verified-email flag. Auth0
// puts none in access tokens by default: add it with an Action (see README),
// under a namespaced name if you like, and set EMAIL_VERIFIED_CLAIM to match.
func emailVerifiedClaim() string {
	if v := os.Getenv("EMAIL_VERIFIED_CLAIM"); v != "" {
		return v
	}
	return "email_verified"
}

type adminRequest struct {
	Action string `json:"action"`
}

func handle(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	log := apigw.Logger(req)
	c, err := claims.FromV2(req)
	if err != nil {
		log.Warn("no claims", "error", err)
		return claims.Response(err), nil
	}
	if err := c.RequireClaim(emailVerifiedClaim(), "true"); err != nil {
		log.Info("denied", "sub", c.Subject, "reason", err.Error())
		return claims.Response(err), nil
	}
	var body adminRequest
	raw, err := apigw.Body(req)
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		err = dec.Decode(&body)
	}
	if err != nil || body.Action == "" {
		return apigw.Error(400, "Bad Request", `body must be a JSON object like {"action": "reindex"}`), nil
	}
	log.Info("admin action accepted", "sub", c.Subject, "action", body.Action)
	return apigw.JSON(202, map[string]string{"message": "Accepted", "action": body.Action, "by": c.Subject}), nil
}

func main() { lambda.Start(handle) }
