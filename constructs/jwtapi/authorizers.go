package jwtapi

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// DefaultAuthorizerName is the name of the one JWT authorizer that
// ApiProps' Issuer, Auth0Domain and Audiences describe.
const DefaultAuthorizerName = "jwt"

// issuerAuth is a JWT authorizer resolved from props: its issuer URL and
// what API Gateway needs.
type issuerAuth struct {
	name           string
	field          string // where the props set it, for messages
	issuer         string
	audiences      []string
	identitySource string
	// clientID: the audiences are app client ids, found in client_id
	// (Cognito access tokens carry no aud).
	clientID bool
}

var (
	authorizerName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	awsRegion      = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	userPoolID     = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]_[A-Za-z0-9]+$`)
)

// CognitoIssuer is the issuer of a Cognito user pool's tokens.
func CognitoIssuer(pool CognitoUserPool) (string, error) {
	if !awsRegion.MatchString(pool.Region) {
		return "", propError("CognitoUserPool.Region", "%q is not an AWS region such as \"eu-west-1\"", pool.Region)
	}
	if !userPoolID.MatchString(pool.UserPoolID) || !strings.HasPrefix(pool.UserPoolID, pool.Region+"_") {
		return "", propError("CognitoUserPool.UserPoolID", "%q is not a user pool id of %s such as \"%s_AbCdEfGhI\"", pool.UserPoolID, pool.Region, pool.Region)
	}
	return "https://cognito-idp." + pool.Region + ".amazonaws.com/" + pool.UserPoolID, nil
}

// resolveAuthorizers checks the JWT authorizers: those of HttpApiProps,
// else the one ApiProps describes.
func resolveAuthorizers(p *ApiProps, list []JwtAuthorizer, rest bool) ([]issuerAuth, error) {
	if len(list) == 0 {
		a := JwtAuthorizer{Name: DefaultAuthorizerName, Issuer: p.Issuer, Auth0Domain: p.Auth0Domain, Audiences: p.Audiences, IdentitySource: p.IdentitySource}
		ia, err := resolveAuthorizer(a, "", rest)
		if err != nil {
			return nil, err
		}
		return []issuerAuth{ia}, nil
	}
	if p.Issuer != "" || p.Auth0Domain != "" || len(p.Audiences) > 0 || p.IdentitySource != "" {
		return nil, propError("Authorizers", "set either Authorizers or Issuer, Auth0Domain, Audiences and IdentitySource, not both")
	}
	var out []issuerAuth
	for i, a := range list {
		field := fmt.Sprintf("Authorizers[%d]", i)
		if !authorizerName.MatchString(a.Name) {
			return nil, propError(field+".Name", "%q must be 1-64 letters, digits, - or _", a.Name)
		}
		ia, err := resolveAuthorizer(a, field+".", rest)
		if err != nil {
			return nil, err
		}
		for _, prev := range out {
			switch {
			case prev.name == ia.name:
				return nil, propError(field+".Name", "%q is the name of %s too", a.Name, prev.field)
			case prev.issuer == ia.issuer && slices.Equal(prev.audiences, ia.audiences):
				// Two authorizers accepting the same tokens: a route picking
				// one over the other would make no difference.
				return nil, propError(field, "accepts the same issuer %s and audiences %v as %s", ia.issuer, ia.audiences, prev.field)
			}
		}
		ia.field = field
		out = append(out, ia)
	}
	return out, nil
}

func resolveAuthorizer(a JwtAuthorizer, prefix string, rest bool) (issuerAuth, error) {
	ia := issuerAuth{name: a.Name, field: strings.TrimSuffix(prefix, "."), audiences: a.Audiences, identitySource: a.IdentitySource}
	var err error
	switch {
	case a.CognitoUserPool != nil && (a.Issuer != "" || a.Auth0Domain != ""):
		return ia, propError(prefix+"CognitoUserPool", "set one of Issuer, Auth0Domain and CognitoUserPool")
	case a.CognitoUserPool != nil:
		if ia.issuer, err = CognitoIssuer(*a.CognitoUserPool); err != nil {
			return ia, prefixError(prefix, err)
		}
		ia.clientID = true
	default:
		if ia.issuer, err = ResolveIssuer(a.Issuer, a.Auth0Domain); err != nil {
			return ia, prefixError(prefix, err)
		}
	}
	if len(a.Audiences) == 0 {
		what := "the API identifier such as \"https://api.example.com\" for Auth0"
		if ia.clientID {
			what = "the app client ids of the user pool"
		}
		return ia, propError(prefix+"Audiences", "must list at least one audience (%s)", what)
	}
	for i, aud := range a.Audiences {
		if strings.TrimSpace(aud) == "" {
			return ia, propError(fmt.Sprintf("%sAudiences[%d]", prefix, i), "empty audience %q", aud)
		}
		if slices.Index(a.Audiences, aud) != i {
			return ia, propError(fmt.Sprintf("%sAudiences[%d]", prefix, i), "audience %q is listed twice", aud)
		}
	}
	if src := a.IdentitySource; src != "" {
		header := strings.HasPrefix(src, "$request.header.") && len(src) > len("$request.header.")
		query := strings.HasPrefix(src, "$request.querystring.") && len(src) > len("$request.querystring.")
		switch {
		case rest && !header:
			return ia, propError(prefix+"IdentitySource", "%q: a REST API's authorizers read a header, \"$request.header.<name>\"", src)
		case !header && !query:
			return ia, propError(prefix+"IdentitySource", "%q must be \"$request.header.<name>\" or \"$request.querystring.<name>\"", src)
		}
	} else {
		ia.identitySource = DefaultIdentitySource
	}
	return ia, nil
}

// prefixError names the authorizer in a field error of ResolveIssuer.
func prefixError(prefix string, err error) error {
	if prefix == "" {
		return err
	}
	msg := strings.TrimPrefix(err.Error(), ErrInvalidProps.Error()+": ")
	return fmt.Errorf("%w: %s%s", ErrInvalidProps, prefix, msg)
}

// authorizerFor is the JWT authorizer of a private route.
func (c *core) authorizerFor(r Route) issuerAuth {
	for _, a := range c.authorizers {
		if a.name == r.Authorizer {
			return a
		}
	}
	return c.authorizers[0]
}
