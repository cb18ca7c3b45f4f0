package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/internal/routekey"
	"github.com/jwtapi/jwtapi/jwtverify"
)

// Authorizer answers API Gateway's Lambda authorizer events.
type Authorizer struct {
	verifier *jwtverify.Verifier
	rules    authzspec.Rules
	table    *routekey.Table
	log      *slog.Logger
}

// VerifierOptions are the verifier options a configuration asks for.
func VerifierOptions(c authzspec.Config) jwtverify.Options {
	o := jwtverify.Options{
		Issuer: c.Issuer, Audiences: c.Audiences, ClientIDAudience: c.ClientIDAudience,
		JWKSURL: c.JWKSURL, Algorithms: c.Algorithms, Leeway: c.Leeway,
	}
	if c.HMACSecret != "" {
		o.HMACSecret = []byte(c.HMACSecret)
	}
	return o
}

// New returns the authorizer a configuration describes; logs go to out as
// JSON lines. A configuration error wraps authzspec.ErrConfig.
func New(c authzspec.Config, out io.Writer) (*Authorizer, error) {
	v, err := jwtverify.New(VerifierOptions(c))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", authzspec.ErrConfig, err)
	}
	return NewAuthorizer(v, c.Rules, out), nil
}

// NewAuthorizer returns an authorizer verifying with v and applying rules;
// logs go to out as JSON lines.
func NewAuthorizer(v *jwtverify.Verifier, rules authzspec.Rules, out io.Writer) *Authorizer {
	var keys []routekey.Key
	for k := range rules {
		if key, err := routekey.Parse(k); err == nil {
			keys = append(keys, key)
		}
	}
	return &Authorizer{verifier: v, rules: rules, table: routekey.NewTable(keys), log: slog.New(slog.NewJSONHandler(out, nil))}
}

// Denial is a refused request: a code, a message safe to show the caller,
// and the detail for the logs.
type Denial struct {
	Code jwtverify.Code
	// Message is short and says nothing an attacker could use.
	Message string
	// Forbidden is true when the token is valid but the route's rule refuses
	// it (403), false when the token itself is not acceptable (401).
	Forbidden bool
	// Rule is the route key of the rule that refused, if any.
	Rule string
	err  error
}

func (d *Denial) Error() string { return fmt.Sprintf("%s: %s (%v)", d.Code, d.Message, d.err) }

// Unwrap returns the underlying error, for errors.Is with jwtverify's sentinels.
func (d *Denial) Unwrap() error { return d.err }

// Detail is the underlying reason, for logs only.
func (d *Denial) Detail() string { return d.err.Error() }

// AsDenial explains err (from the verifier, or any other) as a Denial.
func AsDenial(err error) *Denial {
	var d *Denial
	if errors.As(err, &d) {
		return d
	}
	e := jwtverify.Explain(err)
	return &Denial{Code: e.Code, Message: e.Message, Forbidden: e.Status == 403, err: err}
}

// tokenClaims shows a verified token to authzspec's rules.
type tokenClaims struct{ *jwtverify.Token }

func (t tokenClaims) All() map[string]any { return t.Claims }

// Decision is the outcome for one token and route.
type Decision struct {
	Token  *jwtverify.Token
	Denial *Denial
	// Rule is the route key whose rule applied, empty when the route has none.
	Rule string
}

// Allowed reports whether the request may proceed.
func (d Decision) Allowed() bool { return d.Denial == nil }

// Decide verifies the token and applies the rule of routeKey, if any.
func (a *Authorizer) Decide(ctx context.Context, token, routeKey string) Decision {
	t, err := a.verifier.Verify(ctx, token)
	if err != nil {
		return Decision{Denial: AsDenial(err)}
	}
	d := Decision{Token: t}
	if rule, ok := a.rules[routeKey]; ok {
		d.Rule = routeKey
		d.Denial = ruleDenial(rule, t, routeKey)
	}
	return d
}

// ruleDenial checks a route's rule; nil when it holds.
func ruleDenial(rule authzspec.Rule, t *jwtverify.Token, routeKey string) *Denial {
	err := rule.Check(tokenClaims{t})
	if err == nil {
		return nil
	}
	return &Denial{Code: jwtverify.CodeClaimValidation, Message: err.Error(), Forbidden: true, Rule: routeKey,
		err: fmt.Errorf("%w: %v", jwtverify.ErrRule, err)}
}

// context is the flat context handed to the integration: strings only.
func (d Decision) context() map[string]any {
	c := map[string]any{"rule": d.Rule}
	if d.Token != nil {
		c["sub"] = d.Token.Subject()
		c["scope"] = strings.Join(d.Token.Scopes(), " ")
		c["permissions"] = strings.Join(d.Token.Permissions(), " ")
	}
	if d.Denial != nil {
		c["code"] = string(d.Denial.Code)
		c["error"] = d.Denial.Message
	}
	return c
}

// record logs one decision. requestID is API Gateway's request id when the
// event carries one (HTTP API REQUEST events); a REST TOKEN event has none,
// and the Lambda invocation's id, which CloudWatch shows beside the line,
// stands in for it. A line is never without an id.
func (a *Authorizer) record(ctx context.Context, requestID, routeKey string, d Decision) {
	if requestID == "" {
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			requestID = lc.AwsRequestID
		}
	}
	attrs := []any{"requestId", requestID, "routeKey", routeKey}
	if d.Token != nil {
		attrs = append(attrs, "sub", d.Token.Subject())
	}
	if d.Rule != "" {
		attrs = append(attrs, "rule", d.Rule)
	}
	if d.Allowed() {
		a.log.InfoContext(ctx, "allow", attrs...)
		return
	}
	// The code and reason, never the token.
	attrs = append(attrs, "code", string(d.Denial.Code), "reason", d.Denial.Message)
	if detail := d.Denial.Detail(); detail != "" {
		attrs = append(attrs, "detail", detail)
	}
	a.log.InfoContext(ctx, "deny", attrs...)
}

// HandleHTTP answers an HTTP API REQUEST authorizer event (payload 2.0) with
// a simple response. The context reaches the integration as
// requestContext.authorizer.lambda.
func (a *Authorizer) HandleHTTP(ctx context.Context, e events.APIGatewayV2CustomAuthorizerV2Request) events.APIGatewayV2CustomAuthorizerSimpleResponse {
	token := ""
	if len(e.IdentitySource) > 0 {
		token = jwtverify.BearerToken(e.IdentitySource[0])
	}
	d := a.Decide(ctx, token, e.RouteKey)
	a.record(ctx, e.RequestContext.RequestID, e.RouteKey, d)
	if !d.Allowed() {
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: false}
	}
	return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true, Context: d.context()}
}

// HandleREST answers a REST API TOKEN authorizer event with an IAM policy.
//
// With result caching the policy is reused for the caller's other requests,
// so it must cover the whole API, not only methodArn: it allows every route
// and explicitly denies the routes whose rules this token fails. An invalid
// token gets a policy denying everything, whose context carries the code
// and message that the API's ACCESS_DENIED gateway response shows.
func (a *Authorizer) HandleREST(ctx context.Context, e events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	arn, err := parseMethodARN(e.MethodArn)
	if err != nil {
		// Not an API Gateway event we understand: fail (API Gateway answers 500).
		return events.APIGatewayCustomAuthorizerResponse{}, err
	}
	routeKey := ""
	if m, ok := a.table.Lookup(arn.method, arn.path); ok {
		routeKey = m.Key.String()
	}
	d := a.Decide(ctx, jwtverify.BearerToken(e.AuthorizationToken), routeKey)
	a.record(ctx, "", arn.method+" "+arn.path, d)
	all := arn.resource("*", "")
	if d.Token == nil {
		return events.APIGatewayCustomAuthorizerResponse{
			PrincipalID:    "anonymous",
			PolicyDocument: policy(statement("Deny", all)),
			Context:        d.context(),
		}, nil
	}
	doc := policy(statement("Allow", all))
	var denied []string
	for key, rule := range a.rules {
		if ruleDenial(rule, d.Token, key) == nil {
			continue
		}
		k, _ := routekey.Parse(key)
		denied = append(denied, arn.resource(k.Method, k.Path))
	}
	if len(denied) > 0 {
		sort.Strings(denied)
		doc.Statement = append(doc.Statement, statement("Deny", denied...))
	}
	return events.APIGatewayCustomAuthorizerResponse{PrincipalID: d.Token.Subject(), PolicyDocument: doc, Context: d.context()}, nil
}

// Handle dispatches a raw event: HTTP API REQUEST (payload 2.0) or REST TOKEN.
func (a *Authorizer) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		Type    string `json:"type"`
		Version string `json:"version"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("authorizer: event is not JSON: %w", err)
	}
	switch {
	case probe.Type == "TOKEN":
		var e events.APIGatewayCustomAuthorizerRequest
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, err
		}
		return a.HandleREST(ctx, e)
	case probe.Type == "REQUEST" && probe.Version == "2.0":
		var e events.APIGatewayV2CustomAuthorizerV2Request
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, err
		}
		return a.HandleHTTP(ctx, e), nil
	}
	return nil, fmt.Errorf("authorizer: unsupported event (type %q, version %q): use an HTTP API REQUEST authorizer with payload 2.0 or a REST TOKEN authorizer", probe.Type, probe.Version)
}

func policy(statements ...events.IAMPolicyStatement) events.APIGatewayCustomAuthorizerPolicy {
	return events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17", Statement: statements}
}

func statement(effect string, resources ...string) events.IAMPolicyStatement {
	return events.IAMPolicyStatement{Action: []string{"execute-api:Invoke"}, Effect: effect, Resource: resources}
}

// methodARN is arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/PATH.
type methodARN struct {
	prefix, method, path string // prefix is arn...:API/STAGE
}

func parseMethodARN(s string) (methodARN, error) {
	head, rest, ok := strings.Cut(s, "/")
	if !ok || !strings.HasPrefix(head, "arn:") || strings.Count(head, ":") != 5 {
		return methodARN{}, fmt.Errorf("authorizer: methodArn %q is not an execute-api ARN", s)
	}
	stage, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return methodARN{}, fmt.Errorf("authorizer: methodArn %q has no method", s)
	}
	method, path, _ := strings.Cut(rest, "/")
	return methodARN{prefix: head + "/" + stage, method: method, path: "/" + path}, nil
}

// resource is the ARN of a route: parameters become wildcards. "*" as the
// method means every method and path.
func (m methodARN) resource(method, path string) string {
	if method == "*" || method == "ANY" {
		method = "*"
	}
	if path == "" {
		return m.prefix + "/" + method + "/*"
	}
	k, err := routekey.Parse("GET " + path)
	if err != nil {
		return m.prefix + "/" + method + "/*"
	}
	var segs []string
	for _, s := range k.Segments {
		if s.Param != "" {
			segs = append(segs, "*")
		} else {
			segs = append(segs, s.Literal)
		}
	}
	return m.prefix + "/" + method + "/" + strings.Join(segs, "/")
}
