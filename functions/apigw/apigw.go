// Package apigw holds what every handler needs besides claims: JSON responses
// in API Gateway's shape and a JSON-lines logger bound to the request.
package apigw

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
)

// JSON returns a payload 2.0 response (HTTP APIs) with v encoded as its
// JSON body.
func JSON(status int, v any) events.APIGatewayV2HTTPResponse {
	status, body := encode(status, v)
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: jsonHeaders(), Body: body}
}

// JSONV1 returns a payload 1.0 response (REST APIs, and HTTP API routes on
// payload 1.0) with v encoded as its JSON body.
func JSONV1(status int, v any) events.APIGatewayProxyResponse {
	status, body := encode(status, v)
	return events.APIGatewayProxyResponse{StatusCode: status, Headers: jsonHeaders(), Body: body}
}

// encode is v as JSON, or a 500 when v cannot be encoded.
func encode(status int, v any) (int, string) {
	b, err := json.Marshal(v)
	if err != nil {
		return 500, `{"message":"Internal Server Error"}`
	}
	return status, string(b)
}

func jsonHeaders() map[string]string { return map[string]string{"content-type": "application/json"} }

// Message returns {"message": text}, the body shape API Gateway itself uses.
func Message(text string) map[string]string { return map[string]string{"message": text} }

// Error returns a JSON error response {"message": ..., "error": ...}.
func Error(status int, message, detail string) events.APIGatewayV2HTTPResponse {
	return JSON(status, map[string]string{"message": message, "error": detail})
}

// Body returns the request body, decoding it when API Gateway sent it base64-encoded.
func Body(req events.APIGatewayV2HTTPRequest) ([]byte, error) {
	if req.IsBase64Encoded {
		return base64.StdEncoding.DecodeString(req.Body)
	}
	return []byte(req.Body), nil
}

// Output is where Logger writes; tests replace it.
var Output io.Writer = os.Stdout

// Logger returns a JSON-lines logger carrying the request id and route key.
// It never logs headers: the Authorization header holds the caller's token.
func Logger(req events.APIGatewayV2HTTPRequest) *slog.Logger {
	return slog.New(slog.NewJSONHandler(Output, nil)).With(
		"requestId", req.RequestContext.RequestID,
		"routeKey", req.RequestContext.RouteKey,
	)
}
