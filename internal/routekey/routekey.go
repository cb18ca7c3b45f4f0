// Package routekey parses and matches API Gateway HTTP API route keys such as
// "GET /items/{id}", "ANY /files/{proxy+}" and "$default".
//
// The construct uses it to validate routes at synth time and the local gateway
// uses it to route requests the way API Gateway does, so both agree on what a
// route key means.
package routekey

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Default is the catch-all route key of an HTTP API.
const Default = "$default"

// Methods are the HTTP methods a route key may name, as API Gateway spells them.
var Methods = []string{"ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}

// ErrMalformed is wrapped by every Parse error.
var ErrMalformed = errors.New("malformed route key")

// Key is a parsed route key.
type Key struct {
	// Method is an upper-case HTTP method or "ANY"; empty for $default.
	Method string
	// Path is the path template, e.g. "/items/{id}"; empty for $default.
	Path string
	// Segments are the path's segments without the leading slash.
	Segments []Segment
}

// Segment is one path segment of a route key.
type Segment struct {
	// Literal is the segment text when it is not a parameter.
	Literal string
	// Param is the parameter name for "{id}" or "{proxy+}" segments.
	Param string
	// Greedy is true for "{name+}", which matches the rest of the path.
	Greedy bool
}

var (
	paramName   = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)
	literalText = regexp.MustCompile(`^[A-Za-z0-9._~!$&'()*,;=:@%-]+$`)
)

// Parse parses a route key and reports exactly what is wrong with a malformed one.
func Parse(s string) (Key, error) {
	if s == Default {
		return Key{}, nil
	}
	method, path, ok := strings.Cut(s, " ")
	if !ok {
		return Key{}, fmt.Errorf("%w %q: want \"METHOD /path\" such as \"GET /items/{id}\", or \"$default\"", ErrMalformed, s)
	}
	if !isMethod(method) {
		return Key{}, fmt.Errorf("%w %q: method %q is not one of %s (upper case)", ErrMalformed, s, method, strings.Join(Methods, ", "))
	}
	if !strings.HasPrefix(path, "/") {
		return Key{}, fmt.Errorf("%w %q: path %q must start with /", ErrMalformed, s, path)
	}
	k := Key{Method: method, Path: path}
	if path == "/" {
		return k, nil
	}
	if strings.HasSuffix(path, "/") {
		return Key{}, fmt.Errorf("%w %q: path must not end with /", ErrMalformed, s)
	}
	parts := strings.Split(path[1:], "/")
	seen := map[string]bool{}
	for i, p := range parts {
		switch {
		case p == "":
			return Key{}, fmt.Errorf("%w %q: empty path segment", ErrMalformed, s)
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"):
			name := p[1 : len(p)-1]
			greedy := strings.HasSuffix(name, "+")
			name = strings.TrimSuffix(name, "+")
			if !paramName.MatchString(name) {
				return Key{}, fmt.Errorf("%w %q: path parameter %q has an invalid name", ErrMalformed, s, p)
			}
			if greedy && i != len(parts)-1 {
				return Key{}, fmt.Errorf("%w %q: greedy parameter %q must be the last segment", ErrMalformed, s, p)
			}
			if seen[name] {
				return Key{}, fmt.Errorf("%w %q: path parameter %q appears twice", ErrMalformed, s, name)
			}
			seen[name] = true
			k.Segments = append(k.Segments, Segment{Param: name, Greedy: greedy})
		case strings.ContainsAny(p, "{}"):
			return Key{}, fmt.Errorf("%w %q: segment %q mixes text and a parameter; a parameter must be a whole segment", ErrMalformed, s, p)
		case !literalText.MatchString(p):
			return Key{}, fmt.Errorf("%w %q: segment %q has characters not allowed in a path", ErrMalformed, s, p)
		default:
			k.Segments = append(k.Segments, Segment{Literal: p})
		}
	}
	return k, nil
}

func isMethod(m string) bool {
	for _, x := range Methods {
		if m == x {
			return true
		}
	}
	return false
}

// IsDefault reports whether k is the $default route.
func (k Key) IsDefault() bool { return k.Method == "" }

// String returns the route key in API Gateway's spelling.
func (k Key) String() string {
	if k.IsDefault() {
		return Default
	}
	return k.Method + " " + k.Path
}

// Shape returns the key with parameter names erased ("GET /items/{}"): API
// Gateway rejects two routes with the same shape, e.g. "/items/{id}" and
// "/items/{name}".
func (k Key) Shape() string {
	if k.IsDefault() {
		return Default
	}
	var b strings.Builder
	b.WriteString(k.Method)
	b.WriteString(" /")
	for i, s := range k.Segments {
		if i > 0 {
			b.WriteByte('/')
		}
		switch {
		case s.Greedy:
			b.WriteString("{+}")
		case s.Param != "":
			b.WriteString("{}")
		default:
			b.WriteString(s.Literal)
		}
	}
	return b.String()
}
