package issuer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
)

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("issuer config")

// Config lists the APIs, applications and users the issuer knows.
type Config struct {
	APIs    []API    `json:"apis"`
	Clients []Client `json:"clients"`
	Users   []User   `json:"users"`
	// CognitoPools are user pools whose machine clients get Cognito-shaped
	// access tokens. Default: none.
	CognitoPools []CognitoPool `json:"cognitoPools,omitempty"`
}

// API is an Auth0 API (resource server): its identifier is the audience.
type API struct {
	Identifier string `json:"identifier"`
	Name       string `json:"name,omitempty"`
	// Scopes are the permissions the API defines.
	Scopes []string `json:"scopes"`
	// TokenLifetimeSeconds is the access token lifetime. Default: 86400, as Auth0.
	TokenLifetimeSeconds int `json:"tokenLifetimeSeconds,omitempty"`
}

// Client is an application.
type Client struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Name         string `json:"name,omitempty"`
	// GrantTypes are the grants the application may use: "client_credentials", "password".
	GrantTypes []string `json:"grant_types"`
	// Grants are the client grants: for client_credentials, the scopes it
	// may receive for each API identifier.
	Grants map[string][]string `json:"grants,omitempty"`
}

// User is a database user.
type User struct {
	UserID   string `json:"user_id"`
	Username string `json:"username"`
	Password string `json:"password"`
	// Permissions are the user's RBAC permissions for each API identifier.
	Permissions map[string][]string `json:"permissions,omitempty"`
	// Claims are added to the user's access tokens, as an Auth0 Action would.
	Claims map[string]any `json:"claims,omitempty"`
}

// LoadConfig reads and checks a config file; unknown fields are errors.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, path, err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}

// Validate checks references between APIs, clients and users.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	apis := map[string]API{}
	for i, a := range c.APIs {
		if a.Identifier == "" {
			return bad("apis[%d]: identifier is empty", i)
		}
		if _, dup := apis[a.Identifier]; dup {
			return bad("apis[%d]: identifier %q is listed twice", i, a.Identifier)
		}
		apis[a.Identifier] = a
	}
	checkScopes := func(where string, grants map[string][]string) error {
		for aud, scopes := range grants {
			api, ok := apis[aud]
			if !ok {
				return bad("%s: unknown API %q", where, aud)
			}
			for _, s := range scopes {
				if !slices.Contains(api.Scopes, s) {
					return bad("%s: API %q defines no scope %q", where, aud, s)
				}
			}
		}
		return nil
	}
	ids := map[string]bool{}
	for i, cl := range c.Clients {
		where := fmt.Sprintf("clients[%d] (%s)", i, cl.ClientID)
		if cl.ClientID == "" || ids[cl.ClientID] {
			return bad("%s: client_id is empty or listed twice", where)
		}
		ids[cl.ClientID] = true
		for _, g := range cl.GrantTypes {
			if g != GrantClientCredentials && g != GrantPassword {
				return bad("%s: grant type %q is not supported (use %q or %q)", where, g, GrantClientCredentials, GrantPassword)
			}
		}
		if err := checkScopes(where+".grants", cl.Grants); err != nil {
			return err
		}
	}
	names := map[string]bool{}
	for i, u := range c.Users {
		where := fmt.Sprintf("users[%d] (%s)", i, u.Username)
		if u.UserID == "" || u.Username == "" || u.Password == "" {
			return bad("%s: user_id, username and password are required", where)
		}
		if names[u.Username] {
			return bad("%s: username listed twice", where)
		}
		names[u.Username] = true
		if err := checkScopes(where+".permissions", u.Permissions); err != nil {
			return err
		}
		for _, reserved := range []string{"iss", "sub", "aud", "exp", "iat", "nbf", "scope", "permissions", "azp"} {
			if _, ok := u.Claims[reserved]; ok {
				return bad("%s: claims may not set the reserved claim %q", where, reserved)
			}
		}
	}
	return c.validatePools()
}

func (c *Config) api(identifier string) (API, bool) {
	for _, a := range c.APIs {
		if a.Identifier == identifier {
			return a, true
		}
	}
	return API{}, false
}

func (c *Config) client(id string) (Client, bool) {
	for _, cl := range c.Clients {
		if cl.ClientID == id {
			return cl, true
		}
	}
	return Client{}, false
}

func (c *Config) user(username string) (User, bool) {
	for _, u := range c.Users {
		if u.Username == username {
			return u, true
		}
	}
	return User{}, false
}
