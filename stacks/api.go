package stacks

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/constructs/jwtapi"
)

// AppName prefixes stack and resource names and tags every resource.
const AppName = "jwt-api"

// PlaceholderTenant is the Auth0 domain cdk.json ships with for dev and prod.
const PlaceholderTenant = "your-tenant.us.auth0.com"

// PlaceholderPool is the Cognito user pool cdk.json ships with for dev and prod.
const PlaceholderPool = "eu-west-1_EXAMPLE00"

// StackName returns the name of the API stack of a stage, e.g. "JwtApi-dev".
func StackName(stage string) string { return "JwtApi-" + stage }

// ApiStack is the example API of one stage.
type ApiStack struct {
	Stack awscdk.Stack
	Api   *jwtapi.HttpApi
}

// ExampleRoutes are the routes of the example HTTP API.
func ExampleRoutes() map[string]jwtapi.Route {
	return map[string]jwtapi.Route{
		"GET /public":  {Handler: "functions/public", Public: true},
		"GET /private": {Handler: "functions/private", Scopes: []string{"read:user"}},
		"GET /me":      {Handler: "functions/me", Scopes: []string{"read:user"}},
		"POST /admin":  {Handler: "functions/admin", Scopes: []string{"write:user"}},
		// Beyond what the managed JWT authorizer can check: the Go Lambda
		// authorizer requires an Auth0 permission and a verified email.
		"DELETE /users/{id}": {Handler: "functions/users", Rules: DeleteUserRule()},
		// Machine clients of the second issuer (a Cognito user pool): their
		// client credentials tokens carry a resource server scope.
		"GET /machine/status": {Handler: "functions/private", Authorizer: MachinesAuthorizer, Scopes: []string{MachineScope}},
	}
}

// MachineScope is what machine clients need for GET /machine/status.
const MachineScope = "jwtapi/status.read"

// DeleteUserRule requires the delete:user permission and a verified email.
func DeleteUserRule() *authzspec.Rule {
	return &authzspec.Rule{
		Permissions: []string{"delete:user"},
		Claims:      []authzspec.ClaimRule{{Claim: "email_verified", Equals: json.RawMessage("true")}},
	}
}

// NewApiStack creates the example API stack of stage s.
func NewApiStack(scope constructs.Construct, s Stage) (*ApiStack, error) {
	stack := newStack(scope, StackName(s.Name), fmt.Sprintf("JWT-protected HTTP API (%s stage)", s.Name), s)

	props := s.apiProps()
	props.ApiName = AppName + "-" + s.Name
	props.Routes = ExampleRoutes()
	// The users' issuer and the machine clients' are the API's authorizers.
	props.Issuer, props.Auth0Domain, props.Audiences = "", "", nil
	api, err := jwtapi.NewHttpApi(stack, "Api", &jwtapi.HttpApiProps{ApiProps: props, Authorizers: s.authorizers(), Domain: s.domain()})
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", s.Name, err)
	}
	awscdk.NewCfnOutput(stack, jsii.String("ApiEndpoint"), &awscdk.CfnOutputProps{
		Value:       api.Url(),
		Description: jsii.String("Base URL of the API"),
	})
	if u := api.CustomDomainUrl(); u != nil {
		awscdk.NewCfnOutput(stack, jsii.String("CustomDomainUrl"), &awscdk.CfnOutputProps{
			Value:       u,
			Description: jsii.String("Base URL of the API on its custom domain"),
		})
	}
	if s.Local {
		refuseDeploy(stack, s.Name)
	}
	if s.Machines.CognitoUserPool != nil && s.Machines.CognitoUserPool.UserPoolID == PlaceholderPool {
		awscdk.Annotations_Of(stack).AddWarningV2(jsii.String("jwtapi:placeholder-pool"), jsii.String(fmt.Sprintf(
			"stage %s still uses the example Cognito user pool %s for machine clients: set machines in cdk.json before deploying", s.Name, PlaceholderPool)))
	}
	if strings.Contains(api.Issuer(), PlaceholderTenant) {
		awscdk.Annotations_Of(stack).AddWarningV2(jsii.String("jwtapi:placeholder-tenant"), jsii.String(fmt.Sprintf(
			"stage %s still uses the example Auth0 tenant %s: set AUTH0_DOMAIN and AUTH0_AUDIENCE, or edit cdk.json, before deploying",
			s.Name, PlaceholderTenant)))
	}
	return &ApiStack{Stack: stack, Api: api}, nil
}

// refuseDeploy makes CloudFormation reject the stack before creating anything:
// a local stage trusts a loopback issuer and only makes sense on a laptop.
func refuseDeploy(stack awscdk.Stack, stage string) {
	awscdk.NewCfnRule(stack, jsii.String("LocalStageIsNotDeployable"), &awscdk.CfnRuleProps{
		Assertions: &[]*awscdk.CfnRuleAssertion{{
			Assert: awscdk.Fn_ConditionEquals(jsii.String(stage), jsii.String("a deployable stage")),
			AssertDescription: jsii.String(fmt.Sprintf(
				"The %q stage runs only on your laptop (make dev); deploy with -c stage=dev or -c stage=prod", stage)),
		}},
	})
}

// newStack is a stack named after its stage, tagged with the app and the
// stage, so that stages never collide in one account.
func newStack(scope constructs.Construct, name, description string, s Stage) awscdk.Stack {
	stack := awscdk.NewStack(scope, jsii.String(name), &awscdk.StackProps{
		StackName:   jsii.String(name),
		Description: jsii.String(description),
	})
	awscdk.Tags_Of(stack).Add(jsii.String("app"), jsii.String(AppName), nil)
	awscdk.Tags_Of(stack).Add(jsii.String("stage"), jsii.String(s.Name), nil)
	// jwtapi-local serve --stage NAME finds the stage's stacks by this mark.
	jwtapi.MarkStage(stack, s.Name)
	return stack
}
