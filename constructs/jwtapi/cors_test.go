package jwtapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/jwtapi/jwtapi/constructs/jwtapi"
)

// TestCorsDefaultsAndChoices: a Cors with only its origins gets the
// documented defaults in the template (every method, the authorization and
// content-type headers, 10 minutes, nothing exposed); what the props set
// replaces them, on HTTP and REST APIs.
func TestCorsDefaultsAndChoices(t *testing.T) {
	origins := []string{"https://app.example.com"}
	chosen := &jwtapi.Cors{AllowOrigins: origins, AllowMethods: []string{"GET"}, AllowHeaders: []string{"x-team"},
		ExposeHeaders: []string{"x-request-id"}, MaxAge: time.Minute}
	for _, tt := range []struct {
		name                     string
		cors                     *jwtapi.Cors
		methods, headers, expose string
		maxAge                   float64
	}{
		{"defaults", &jwtapi.Cors{AllowOrigins: origins}, "GET,HEAD,OPTIONS,POST,PUT,PATCH,DELETE", "authorization,content-type", "", 600},
		{"chosen", chosen, "GET", "x-team", "x-request-id", 60},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stack := newStack()
			props := validProps()
			props.Cors = tt.cors
			if _, err := jwtapi.NewHttpApi(stack, "Http", props); err != nil {
				t.Fatal(err)
			}
			if _, err := jwtapi.NewRestApi(stack, "Rest", &jwtapi.RestApiProps{ApiProps: props.ApiProps}); err != nil {
				t.Fatal(err)
			}
			var tpl struct {
				Resources map[string]struct {
					Type       string
					Properties map[string]json.RawMessage
				}
			}
			raw, _ := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
			if err := json.Unmarshal(raw, &tpl); err != nil {
				t.Fatal(err)
			}
			sawHTTP, sawPreflight := false, false
			for id, r := range tpl.Resources {
				switch {
				case r.Type == "AWS::ApiGatewayV2::Api":
					sawHTTP = true
					var c struct {
						AllowMethods, AllowHeaders, ExposeHeaders []string
						MaxAge                                    float64
					}
					json.Unmarshal(r.Properties["CorsConfiguration"], &c)
					if has := strings.Contains(string(r.Properties["CorsConfiguration"]), "ExposeHeaders"); has != (tt.expose != "") {
						t.Errorf("HTTP API CORS %s: ExposeHeaders present %v, want %v", r.Properties["CorsConfiguration"], has, tt.expose != "")
					}
					got := []string{strings.Join(c.AllowMethods, ","), strings.Join(c.AllowHeaders, ","), strings.Join(c.ExposeHeaders, ",")}
					if got[0] != tt.methods || got[1] != tt.headers || got[2] != tt.expose || c.MaxAge != tt.maxAge {
						t.Errorf("HTTP API CORS: methods %q headers %q expose %q max age %v; want %q %q %q %v",
							got[0], got[1], got[2], c.MaxAge, tt.methods, tt.headers, tt.expose, tt.maxAge)
					}
				case r.Type == "AWS::ApiGateway::Method" && strings.Contains(string(r.Properties["HttpMethod"]), "OPTIONS"):
					var integ struct {
						IntegrationResponses []struct{ ResponseParameters map[string]string }
					}
					json.Unmarshal(r.Properties["Integration"], &integ)
					if len(integ.IntegrationResponses) == 0 {
						t.Fatalf("%s: no integration response", id)
					}
					sawPreflight = true
					p := integ.IntegrationResponses[0].ResponseParameters
					if _, has := p["method.response.header.Access-Control-Expose-Headers"]; has != (tt.expose != "") {
						t.Errorf("REST preflight %s: Access-Control-Expose-Headers present %v, want %v", id, has, tt.expose != "")
					}
					h := func(name string) string { return strings.Trim(p["method.response.header.Access-Control-"+name], "'") }
					if h("Allow-Methods") != tt.methods || h("Allow-Headers") != tt.headers || h("Expose-Headers") != tt.expose ||
						h("Max-Age") != fmt.Sprint(tt.maxAge) {
						t.Errorf("REST preflight %s: %v; want methods %q headers %q expose %q max age %v", id, p, tt.methods, tt.headers, tt.expose, tt.maxAge)
					}
				}
			}
			if !sawHTTP || !sawPreflight {
				t.Errorf("the template holds an HTTP API: %v, a REST preflight method: %v", sawHTTP, sawPreflight)
			}
		})
	}
}
