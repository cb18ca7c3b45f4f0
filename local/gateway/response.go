package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// errMalformed: the function answered something API Gateway cannot turn
// into an HTTP response; the client gets 500.
var errMalformed = errors.New("malformed Lambda proxy response")

// response is an HTTP response ready to write.
type response struct {
	status  int
	headers http.Header
	body    []byte
}

// proxyResponse is a structured Lambda proxy response, fields kept raw so
// that one decoding tells a structured answer from any other JSON.
type proxyResponse struct {
	StatusCode        json.RawMessage `json:"statusCode"`
	Headers           json.RawMessage `json:"headers"`
	MultiValueHeaders json.RawMessage `json:"multiValueHeaders"`
	Cookies           json.RawMessage `json:"cookies"`
	Body              json.RawMessage `json:"body"`
	IsBase64Encoded   json.RawMessage `json:"isBase64Encoded"`
}

// responseV2 maps a payload 2.0 answer. A JSON object with statusCode is a
// structured response; any other valid JSON is sent as a 200
// application/json body, as API Gateway does for format 2.0.
func responseV2(payload []byte) (*response, error) {
	payload = bytes.TrimSpace(payload)
	var r proxyResponse
	if err := json.Unmarshal(payload, &r); err != nil || r.StatusCode == nil {
		if !json.Valid(payload) {
			return nil, fmt.Errorf("%w: not JSON", errMalformed)
		}
		return &response{status: 200, headers: http.Header{"Content-Type": {"application/json"}}, body: payload}, nil
	}
	return structured(&r, true)
}

// responseV1 maps a payload 1.0 answer, which must be structured.
func responseV1(payload []byte) (*response, error) {
	var r proxyResponse
	if err := json.Unmarshal(bytes.TrimSpace(payload), &r); err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	return structured(&r, false)
}

func structured(r *proxyResponse, v2 bool) (*response, error) {
	var status int
	if err := json.Unmarshal(r.StatusCode, &status); err != nil || status < 100 || status > 599 {
		return nil, fmt.Errorf("%w: statusCode missing or not an HTTP status", errMalformed)
	}
	var headers map[string]string
	var multi map[string][]string
	var cookies []string
	var body *string
	var b64 bool
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		v    any
	}{{"headers", r.Headers, &headers}, {"multiValueHeaders", r.MultiValueHeaders, &multi}, {"cookies", r.Cookies, &cookies},
		{"body", r.Body, &body}, {"isBase64Encoded", r.IsBase64Encoded, &b64}} {
		if f.raw != nil {
			if err := json.Unmarshal(f.raw, f.v); err != nil {
				return nil, fmt.Errorf("%w: %s: %v", errMalformed, f.name, err)
			}
		}
	}
	out := &response{status: status, headers: http.Header{}}
	for k, vs := range multi {
		for _, v := range vs {
			out.headers.Add(k, v)
		}
	}
	for k, v := range headers {
		out.headers.Set(k, v)
	}
	if v2 {
		for _, c := range cookies {
			out.headers.Add("Set-Cookie", c)
		}
	}
	if body != nil {
		out.body = []byte(*body)
		if b64 {
			b, err := base64.StdEncoding.DecodeString(*body)
			if err != nil {
				return nil, fmt.Errorf("%w: isBase64Encoded but the body is not base64", errMalformed)
			}
			out.body = b
		}
	}
	return out, nil
}

// apiError is one of API Gateway's own answers.
func apiError(status int) *response {
	messages := map[int]string{
		400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
		408: "Request Timeout", 413: "Request Entity Too Large", 431: "Request Header Fields Too Large", 500: "Internal Server Error", 503: "Service Unavailable",
	}
	body, _ := json.Marshal(map[string]string{"message": messages[status]})
	return &response{status: status, headers: http.Header{"Content-Type": {"application/json"}}, body: body}
}
