package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/jwtapi/jwtapi/constructs/jwtapi"
)

// RestStackName returns the name of the REST API stack of a stage.
func RestStackName(stage string) string { return "JwtRestApi-" + stage }

// RestStack is the small REST API example of one stage.
type RestStack struct {
	Stack awscdk.Stack
	Api   *jwtapi.RestApi
}

// ExampleRestRoutes are the routes of the REST example: the same vocabulary
// as the HTTP API, one handler reading the payload 1.0 events.
func ExampleRestRoutes() map[string]jwtapi.Route {
	return map[string]jwtapi.Route{
		"GET /public":        {Handler: "functions/rest", Public: true},
		"GET /private":       {Handler: "functions/rest", Scopes: []string{"read:user"}},
		"DELETE /users/{id}": {Handler: "functions/rest", Rules: DeleteUserRule()},
	}
}

// NewRestStack creates the REST API stack of stage s.
func NewRestStack(scope constructs.Construct, s Stage) (*RestStack, error) {
	stack := newStack(scope, RestStackName(s.Name), fmt.Sprintf("JWT-protected REST API: API Gateway's JWT authorizer, a Go Lambda authorizer for the rule (%s stage)", s.Name), s)
	props := s.apiProps()
	props.ApiName = AppName + "-rest-" + s.Name
	props.Routes = ExampleRestRoutes()
	api, err := jwtapi.NewRestApi(stack, "RestApi", &jwtapi.RestApiProps{ApiProps: props, StageName: s.Name})
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", s.Name, err)
	}
	// The REST API construct outputs its URL already; give it a plain name.
	if out, ok := api.Api().Node().TryFindChild(jsii.String("Endpoint")).(awscdk.CfnOutput); ok {
		out.OverrideLogicalId(jsii.String("RestApiEndpoint"))
		out.SetDescription(jsii.String("Base URL of the REST API"))
	}
	if s.Local {
		refuseDeploy(stack, s.Name)
	}
	return &RestStack{Stack: stack, Api: api}, nil
}
