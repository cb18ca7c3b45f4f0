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

// responseV2 maps a payload 2.0 answer. A JSON object with statusCode is a
// structured response; any other valid JSON is sent as a 200
// application/json body, as API Gateway does for format 2.0.
func responseV2(payload []byte) (*response, error) {
	payload = bytes.TrimSpace(payload)
	if !json.Valid(payload) {
		return nil, fmt.Errorf("%w: not JSON", errMalformed)
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(payload, &probe) != nil || probe["statusCode"] == nil {
		return &response{status: 200, headers: http.Header{"Content-Type": {"application/json"}}, body: payload}, nil
	}
	return structured(payload, true)
}

// responseV1 maps a payload 1.0 answer, which must be structured.
func responseV1(payload []byte) (*response, error) {
	return structured(bytes.TrimSpace(payload), false)
}

func structured(payload []byte, v2 bool) (*response, error) {
	var r struct {
		StatusCode        *int                `json:"statusCode"`
		Headers           map[string]string   `json:"headers"`
		MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
		Cookies           []string            `json:"cookies"`
		Body              *string             `json:"body"`
		IsBase64Encoded   bool                `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(payload, &r); err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if r.StatusCode == nil || *r.StatusCode < 100 || *r.StatusCode > 599 {
		return nil, fmt.Errorf("%w: statusCode missing or not an HTTP status", errMalformed)
	}
	out := &response{status: *r.StatusCode, headers: http.Header{}}
	for k, vs := range r.MultiValueHeaders {
		for _, v := range vs {
			out.headers.Add(k, v)
		}
	}
	for k, v := range r.Headers {
		out.headers.Set(k, v)
	}
	if v2 {
		for _, c := range r.Cookies {
			out.headers.Add("Set-Cookie", c)
		}
	}
	if r.Body != nil {
		out.body = []byte(*r.Body)
		if r.IsBase64Encoded {
			b, err := base64.StdEncoding.DecodeString(*r.Body)
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
		413: "Request Entity Too Large", 500: "Internal Server Error", 503: "Service Unavailable",
	}
	body, _ := json.Marshal(map[string]string{"message": messages[status]})
	return &response{status: status, headers: http.Header{"Content-Type": {"application/json"}}, body: body}
}
