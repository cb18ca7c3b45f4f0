package stacks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jwtapi/jwtapi/constructs/jwtapi"
)

// ErrConfig is wrapped by every stage configuration error.
var ErrConfig = errors.New("stage config")

// Stage is one entry of the "stages" map in cdk.json.
type Stage struct {
	// Name is the stage's key in the map ("dev", "prod", ...).
	Name string `json:"-"`
	// Issuer is the token issuer URL, exactly as in `iss`.
	Issuer string `json:"issuer,omitempty"`
	// Auth0Domain is an Auth0 tenant domain; the issuer becomes https://DOMAIN/.
	Auth0Domain string `json:"auth0Domain,omitempty"`
	// Audiences are the accepted `aud` values.
	Audiences []string `json:"audiences"`
	// LogRetentionDays is how long logs are kept. Default: 30.
	LogRetentionDays int `json:"logRetentionDays,omitempty"`
	// RetainLogs keeps log groups when the stack is deleted. Default: false.
	RetainLogs bool `json:"retainLogs,omitempty"`
	// Throttle is the stage's default throttling. Default: the construct's.
	Throttle *StageThrottle `json:"throttle,omitempty"`
	// CorsOrigins enables CORS for these origins. Default: CORS off.
	CorsOrigins []string `json:"corsOrigins,omitempty"`
	// Local marks a stage that runs only on a laptop (make dev) and must not
	// be deployed. Default: false.
	Local bool `json:"local,omitempty"`
	// Machines is the issuer of machine clients (a Cognito user pool, or any
	// OIDC issuer) for the HTTP API's machine routes. Required.
	Machines *MachineIssuer `json:"machines"`
	// Domain serves the HTTP API on a custom domain. Default: none.
	Domain *StageDomain `json:"domain,omitempty"`
}

// MachineIssuer is the second JWT authorizer of a stage, for machine clients.
type MachineIssuer struct {
	// CognitoUserPool is the pool whose app clients call the machine routes.
	CognitoUserPool *StagePool `json:"cognitoUserPool,omitempty"`
	// Issuer is any other issuer instead (the local stage's embedded pool).
	Issuer string `json:"issuer,omitempty"`
	// ClientIDs are the app clients accepted (client_id of their tokens).
	ClientIDs []string `json:"clientIds"`
}

// StagePool is a Cognito user pool in cdk.json.
type StagePool struct {
	Region     string `json:"region"`
	UserPoolID string `json:"userPoolId"`
}

// StageDomain is a stage's custom domain in cdk.json.
type StageDomain struct {
	Name           string `json:"name"`
	CertificateArn string `json:"certificateArn"`
	HostedZoneID   string `json:"hostedZoneId,omitempty"`
	ZoneName       string `json:"zoneName,omitempty"`
}

// StageThrottle is a stage's throttling in cdk.json.
type StageThrottle struct {
	Burst int     `json:"burst"`
	Rate  float64 `json:"rate"`
}

// Overrides replace a stage's issuer or audiences at the edge (-c context or
// environment). Empty fields leave the stage as it is.
type Overrides struct {
	Issuer      string
	Auth0Domain string
	Audiences   []string
	// MachinesIssuer replaces the machine clients' issuer (the local stage's
	// embedded pool follows the embedded issuer's address).
	MachinesIssuer string
}

// EdgeOverrides reads the overrides from CDK context (-c issuer=...,
// -c auth0Domain=..., -c audience=a,b) and then from AUTH0_DOMAIN and
// AUTH0_AUDIENCE; context wins. The environment is ignored for a local stage,
// whose issuer is the embedded one whatever the shell exports.
func EdgeOverrides(stage string, context, getenv func(string) string) Overrides {
	o := Overrides{
		Issuer:         context("issuer"),
		Auth0Domain:    context("auth0Domain"),
		Audiences:      splitList(context("audience")),
		MachinesIssuer: context("machinesIssuer"),
	}
	if stage == "local" {
		return o
	}
	if o.Issuer == "" && o.Auth0Domain == "" {
		o.Auth0Domain = getenv("AUTH0_DOMAIN")
	}
	if len(o.Audiences) == 0 {
		o.Audiences = splitList(getenv("AUTH0_AUDIENCE"))
	}
	return o
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// DefaultStage is the stage used when none is chosen.
const DefaultStage = "dev"

// SelectStage decodes the "stages" context value (as read from cdk.json)
// and returns the stage called name with overrides applied.
func SelectStage(stagesContext any, name string, o Overrides) (Stage, error) {
	stages, err := ParseStages(stagesContext)
	if err != nil {
		return Stage{}, err
	}
	if name == "" {
		name = DefaultStage
	}
	s, ok := stages[name]
	if !ok {
		return Stage{}, fmt.Errorf("%w: unknown stage %q; known stages: %s (pass -c stage=NAME or STAGE=NAME)",
			ErrConfig, name, strings.Join(StageNames(stages), ", "))
	}
	if o.Issuer != "" || o.Auth0Domain != "" {
		s.Issuer, s.Auth0Domain = o.Issuer, o.Auth0Domain
	}
	if len(o.Audiences) > 0 {
		s.Audiences = o.Audiences
	}
	if s.Machines == nil {
		return Stage{}, fmt.Errorf("%w: stages.%s: machines is missing: give the machine clients' Cognito user pool (or issuer) and client ids", ErrConfig, name)
	}
	switch m := s.Machines; {
	case (m.CognitoUserPool == nil) == (m.Issuer == ""):
		return Stage{}, fmt.Errorf("%w: stages.%s.machines: give cognitoUserPool (region and userPoolId) or issuer, one of them", ErrConfig, name)
	case m.CognitoUserPool != nil && (m.CognitoUserPool.Region == "" || m.CognitoUserPool.UserPoolID == ""):
		return Stage{}, fmt.Errorf("%w: stages.%s.machines.cognitoUserPool: region and userPoolId are both required", ErrConfig, name)
	case len(m.ClientIDs) == 0:
		return Stage{}, fmt.Errorf("%w: stages.%s.machines.clientIds: list the app client ids whose tokens the machine routes accept", ErrConfig, name)
	}
	if err := s.domain().Validate(); err != nil {
		return Stage{}, fmt.Errorf("%w: stages.%s.domain: %v", ErrConfig, name, err)
	}
	if o.MachinesIssuer != "" {
		m := *s.Machines
		m.Issuer, m.CognitoUserPool = o.MachinesIssuer, nil
		s.Machines = &m
	}
	if _, err := jwtapi.ResolveIssuer(s.Issuer, s.Auth0Domain); err != nil {
		return Stage{}, fmt.Errorf("%w: stages.%s: %v", ErrConfig, name, err)
	}
	return s, nil
}

// ParseStages decodes the "stages" context value strictly: an unknown field
// is an error naming it, so a typo in cdk.json does not go unnoticed.
func ParseStages(stagesContext any) (map[string]Stage, error) {
	if stagesContext == nil {
		return nil, fmt.Errorf("%w: cdk.json has no \"stages\" map in \"context\"", ErrConfig)
	}
	var raw map[string]json.RawMessage
	b, err := json.Marshal(stagesContext)
	if err == nil {
		err = json.Unmarshal(b, &raw)
	}
	if err != nil || len(raw) == 0 {
		return nil, fmt.Errorf("%w: context \"stages\" must be a non-empty map of stage name to settings", ErrConfig)
	}
	stages := map[string]Stage{}
	for name, msg := range raw {
		var s Stage
		dec := json.NewDecoder(bytes.NewReader(msg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return nil, fmt.Errorf("%w: stages.%s: %v", ErrConfig, name, err)
		}
		s.Name = name
		stages[name] = s
	}
	return stages, nil
}

// StageNames lists the stage names in sorted order.
func StageNames(stages map[string]Stage) []string {
	var names []string
	for n := range stages {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// MachinesAuthorizer is the name of the machine clients' authorizer.
const MachinesAuthorizer = "machines"

// UsersAuthorizer is the name of the users' (Auth0) authorizer.
const UsersAuthorizer = "users"

// authorizers are the HTTP API's JWT authorizers: users first (the
// default), then machine clients.
func (s Stage) authorizers() []jwtapi.JwtAuthorizer {
	m := jwtapi.JwtAuthorizer{Name: MachinesAuthorizer, Issuer: s.Machines.Issuer, Audiences: s.Machines.ClientIDs}
	if p := s.Machines.CognitoUserPool; p != nil {
		m.CognitoUserPool = &jwtapi.CognitoUserPool{Region: p.Region, UserPoolID: p.UserPoolID}
	}
	return []jwtapi.JwtAuthorizer{
		{Name: UsersAuthorizer, Issuer: s.Issuer, Auth0Domain: s.Auth0Domain, Audiences: s.Audiences},
		m,
	}
}

// domain is the construct's custom domain of the stage, if any.
func (s Stage) domain() *jwtapi.CustomDomain {
	if d := s.Domain; d != nil {
		return &jwtapi.CustomDomain{Name: d.Name, CertificateArn: d.CertificateArn, HostedZoneID: d.HostedZoneID, ZoneName: d.ZoneName}
	}
	return nil
}

// apiProps maps the stage's settings onto the construct's props.
func (s Stage) apiProps() jwtapi.ApiProps {
	p := jwtapi.ApiProps{
		Issuer:       s.Issuer,
		Auth0Domain:  s.Auth0Domain,
		Audiences:    s.Audiences,
		LogRetention: time.Duration(s.LogRetentionDays) * 24 * time.Hour,
		RetainLogs:   s.RetainLogs,
	}
	if s.Throttle != nil {
		p.Throttle = &jwtapi.Throttle{BurstLimit: s.Throttle.Burst, RateLimit: s.Throttle.Rate}
	}
	if len(s.CorsOrigins) > 0 {
		p.Cors = &jwtapi.Cors{AllowOrigins: s.CorsOrigins}
	}
	return p
}
