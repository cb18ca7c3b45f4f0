package authzspec

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("authorizer config")

// The environment variables that carry a Config to the authorizer.
const (
	EnvIssuer     = "JWT_ISSUER"     // required, exact iss
	EnvAudiences  = "JWT_AUDIENCES"  // required, comma-separated
	EnvJWKSURL    = "JWT_JWKS_URL"   // default: the issuer's discovery document's jwks_uri
	EnvAlgorithms = "JWT_ALGORITHMS" // default RS256, comma-separated
	EnvHMACSecret = "JWT_HMAC_SECRET"
	EnvLeeway     = "JWT_LEEWAY" // a Go duration; default DefaultLeeway
	EnvClientID   = "JWT_CLIENT_ID_AUDIENCE"
	EnvRules      = "AUTHZ_RULES" // JSON map of route key to Rule
)

// Defaults and limits of a Config.
const (
	// DefaultLeeway is the clock skew allowed when Leeway is zero.
	DefaultLeeway = 5 * time.Second
	// MaxLeeway is the largest clock skew allowed.
	MaxLeeway = 5 * time.Minute
)

// Config is what the Go Lambda authorizer needs: whose tokens to accept and
// what each route requires.
type Config struct {
	// Issuer must equal the token's iss exactly. Required.
	Issuer string
	// Audiences: the token's aud must hold one of them. Required.
	Audiences []string
	// ClientIDAudience accepts client_id when the token has no aud (Cognito
	// access tokens). Default: false.
	ClientIDAudience bool
	// JWKSURL is where the keys are. Default: the issuer's discovery document.
	JWKSURL string
	// Algorithms is the allow-list. Default: RS256.
	Algorithms []string
	// HMACSecret is the HS256 shared secret (the construct passes a Secrets
	// Manager dynamic reference here). Default: none.
	HMACSecret string
	// Leeway is the clock skew allowed on exp, nbf and iat. Default:
	// DefaultLeeway; a zero skew is asked for with 1 ns.
	Leeway time.Duration
	// Rules maps route keys to what they require. Default: none, a valid
	// token is enough.
	Rules Rules
}

// Env is the configuration as environment variables, for the construct.
// Unset optional fields are left out.
func (c Config) Env() map[string]string {
	rules := c.Rules
	if rules == nil {
		rules = Rules{}
	}
	data, _ := json.Marshal(rules)
	env := map[string]string{
		EnvIssuer:    c.Issuer,
		EnvAudiences: strings.Join(c.Audiences, ","),
		EnvRules:     string(data),
	}
	set := func(name, value string) {
		if value != "" {
			env[name] = value
		}
	}
	set(EnvJWKSURL, c.JWKSURL)
	set(EnvAlgorithms, strings.Join(c.Algorithms, ","))
	set(EnvHMACSecret, c.HMACSecret)
	if c.Leeway != 0 {
		env[EnvLeeway] = c.Leeway.String()
	}
	if c.ClientIDAudience {
		env[EnvClientID] = "true"
	}
	return env
}

// FromEnv reads a Config from the environment variables Env writes. The
// leeway defaults to DefaultLeeway; errors name the variable.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Issuer:           getenv(EnvIssuer),
		Audiences:        list(getenv(EnvAudiences)),
		JWKSURL:          getenv(EnvJWKSURL),
		Algorithms:       list(getenv(EnvAlgorithms)),
		HMACSecret:       getenv(EnvHMACSecret),
		ClientIDAudience: getenv(EnvClientID) == "true",
		Leeway:           DefaultLeeway,
	}
	if s := getenv(EnvLeeway); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 || d > MaxLeeway {
			return c, fmt.Errorf("%w: %s %q: want a duration between 0 and %s, such as 5s", ErrConfig, EnvLeeway, s, MaxLeeway)
		}
		c.Leeway = d
	}
	if c.Issuer == "" {
		return c, fmt.Errorf("%w: %s is not set", ErrConfig, EnvIssuer)
	}
	if len(c.Audiences) == 0 {
		return c, fmt.Errorf("%w: %s is not set", ErrConfig, EnvAudiences)
	}
	rules, err := ParseRules([]byte(getenv(EnvRules)))
	if err != nil {
		return c, err
	}
	c.Rules = rules
	return c, nil
}

func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
