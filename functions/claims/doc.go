// Package claims reads the JWT claims that API Gateway hands to a Lambda
// function after its authorizer verified the token.
//
// API Gateway delivers every claim as a string: numbers as decimal text,
// booleans as "true"/"false", arrays as Go-style "[a b]" text and nested
// objects as "map[k:v]" text. This package turns them back into useful values
// and offers checks (scopes, Auth0 permissions, claim values) whose failures
// become JSON 403 responses.
//
//	func handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
//		c, err := claims.FromV2(req)
//		if err != nil {
//			return claims.Response(err), nil
//		}
//		if err := c.RequireClaim("email_verified", "true"); err != nil {
//			return claims.Response(err), nil
//		}
//		...
//	}
package claims
