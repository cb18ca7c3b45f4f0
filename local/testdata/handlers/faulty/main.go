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
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

func handle(ctx context.Context, event json.RawMessage) (any, error) {
	var req struct {
		RawQueryString string            `json:"rawQueryString"`
		Query          map[string]string `json:"queryStringParameters"`
	}
	json.Unmarshal(event, &req)
	q, _ := url.ParseQuery(req.RawQueryString)
	do := q.Get("do")
	if do == "" {
		do = req.Query["do"]
	}
	switch do {
	case "panic":
		panic("faulty handler panicked on purpose")
	case "error":
		return nil, errors.New("faulty handler returned an error")
	case "exit":
		fmt.Println("exiting on purpose")
		os.Exit(3)
	case "sleep":
		ms, _ := strconv.Atoi(q.Get("ms"))
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

func main() { lambda.Start(handle) }
