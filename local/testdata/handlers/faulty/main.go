// Command faulty is a test handler: by default it answers with the event it
// received; the query parameter "do" makes it misbehave in the ways the local
// gateway must handle like API Gateway does.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

func handle(ctx context.Context, event json.RawMessage) (any, error) {
	var req struct {
		RawQueryString string            `json:"rawQueryString"`
		Query          map[string]string `json:"queryStringParameters"`
		// A REST TOKEN authorizer event: the token says what to answer.
		Type      string `json:"type"`
		Token     string `json:"authorizationToken"`
		MethodArn string `json:"methodArn"`
	}
	json.Unmarshal(event, &req)
	if req.Type == "TOKEN" {
		return tokenAuthorizer(strings.TrimPrefix(req.Token, "Bearer "), req.MethodArn)
	}
	q, _ := url.ParseQuery(req.RawQueryString)
	param := func(name string) string { // payload 2.0, or 1.0 (REST)
		if v := q.Get(name); v != "" {
			return v
		}
		return req.Query[name]
	}
	do := param("do")
	switch do {
	case "panic":
		panic("faulty handler panicked on purpose")
	case "error":
		return nil, errors.New("faulty handler returned an error")
	case "exit":
		fmt.Println("exiting on purpose")
		os.Exit(3)
	case "sleep":
		ms, _ := strconv.Atoi(param("ms"))
		time.Sleep(time.Duration(ms) * time.Millisecond)
	case "not-json":
		return json.RawMessage(`{"statusCode": 200, "body": `), nil
	case "bad-status":
		return map[string]any{"statusCode": "two hundred", "body": "x"}, nil
	case "bad-headers":
		return map[string]any{"statusCode": 200, "headers": map[string]any{"x": 1}, "body": "x"}, nil
	case "bad-base64":
		return map[string]any{"statusCode": 200, "isBase64Encoded": true, "body": "%%%"}, nil
	case "string":
		return "just a string", nil
	case "object":
		return map[string]any{"hello": "world"}, nil
	case "custom":
		return map[string]any{
			"statusCode": 201, "headers": map[string]string{"x-custom": "yes", "content-type": "text/plain"},
			"multiValueHeaders": map[string][]string{"x-multi": {"a", "b"}},
			"cookies":           []string{"a=1; Path=/", "b=2"}, "body": "aGVsbG8=", "isBase64Encoded": true,
		}, nil
	case "big":
		// A response of about n bytes: Lambda's limit is 6,291,556.
		n, _ := strconv.Atoi(param("bytes"))
		return map[string]any{"statusCode": 200, "body": strings.Repeat("x", max(0, n-64)), "headers": map[string]string{"pid": strconv.Itoa(os.Getpid())}}, nil
	case "log":
		fmt.Println(`{"level":"INFO","msg":"a log line"}`)
	}
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	body, _ := json.Marshal(map[string]any{
		"event":     event,
		"requestId": lc.AwsRequestID,
		"arn":       lc.InvokedFunctionArn,
		"deadline":  deadline.UnixMilli(),
		"env":       map[string]string{"GREETING": os.Getenv("GREETING"), "AWS_LAMBDA_FUNCTION_NAME": os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")},
		"pid":       os.Getpid(),
	})
	return map[string]any{"statusCode": 200, "headers": map[string]string{"content-type": "application/json"}, "body": string(body)}, nil
}

// tokenAuthorizer answers a REST TOKEN authorizer event as the token asks:
// "allow", "deny", "deny-other" (allows the API but denies methodArn's
// method), or one of the faults API Gateway must answer 401 or 500 to.
func tokenAuthorizer(token, methodArn string) (any, error) {
	api, _, _ := strings.Cut(methodArn, "/")
	stage := strings.Split(methodArn, "/")[1]
	all := api + "/" + stage + "/*"
	policy := func(statements ...map[string]any) map[string]any {
		return map[string]any{"principalId": "user-" + token, "policyDocument": map[string]any{"Version": "2012-10-17", "Statement": statements},
			"context": map[string]any{"token": token, "n": 7, "ok": true}}
	}
	stmt := func(effect string, resource any) map[string]any {
		return map[string]any{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
	}
	switch token {
	case "allow":
		return policy(stmt("Allow", all)), nil
	case "deny":
		return policy(stmt("Deny", all)), nil
	case "deny-other":
		return policy(stmt("Allow", all), stmt("Deny", []string{api + "/" + stage + "/DELETE/*"})), nil
	case "allow-get":
		return policy(stmt("Allow", api+"/"+stage+"/GET/*")), nil
	case "unauthorized":
		return nil, errors.New("Unauthorized")
	case "panic":
		panic("faulty authorizer panicked on purpose")
	case "no-principal":
		return map[string]any{"policyDocument": map[string]any{"Statement": []any{stmt("Allow", all)}}}, nil
	case "nested-context":
		p := policy(stmt("Allow", all))
		p["context"] = map[string]any{"nested": map[string]any{"a": 1}}
		return p, nil
	case "string":
		return "just a string", nil
	}
	return nil, fmt.Errorf("faulty authorizer: unknown instruction %q", token)
}

func main() { lambda.Start(handle) }
