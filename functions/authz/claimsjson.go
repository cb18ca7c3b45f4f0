package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// errClaimType: a registered claim has the wrong JSON type.
var errClaimType = errors.New("claim has the wrong type")

// UnmarshalJSON decodes the few claims verification needs and skips the
// rest. encoding/json has already checked that b is valid JSON before
// calling it, so this only walks a well-formed object; a string with escapes
// is handed back to encoding/json. It is what keeps a fresh token's
// decision close to the cost of its RSA verification (see BenchmarkVerify);
// FuzzClaimsDecoding checks it against encoding/json.
func (c *wellKnown) UnmarshalJSON(b []byte) error {
	*c = wellKnown{}
	return eachMember(b, c.set)
}

// eachMember calls f for each member of a valid JSON object (null: none).
func eachMember(b []byte, f func(key string, raw []byte) error) error {
	s := scanner{b: b}
	s.space()
	if s.peek() == 'n' { // null
		return nil
	}
	if !s.consume('{') {
		return errClaimType
	}
	for {
		s.space()
		if s.consume('}') {
			return nil
		}
		key, err := s.str()
		if err != nil {
			return err
		}
		s.space()
		s.consume(':')
		s.space()
		start := s.i
		s.skip()
		if err := f(key, b[start:s.i]); err != nil {
			return err
		}
		s.space()
		s.consume(',')
	}
}

// UnmarshalJSON decodes a JOSE header the same way (b must be valid JSON).
func (h *header) UnmarshalJSON(b []byte) error {
	*h = header{}
	return eachMember(b, func(key string, raw []byte) error {
		var err error
		switch key {
		case "alg":
			h.Alg, err = stringValue(raw)
		case "kid":
			h.Kid, err = stringValue(raw)
		case "crit":
			h.Crit = json.RawMessage(raw)
		}
		return err
	})
}

func (c *wellKnown) set(key string, raw []byte) error {
	var err error
	switch key {
	case "iss":
		c.Issuer, err = stringValue(raw)
	case "sub":
		c.Subject, err = stringValue(raw)
	case "jti":
		c.ID, err = stringValue(raw)
	case "aud":
		c.Audience, err = audience(raw)
	case "exp":
		c.ExpiresAt, err = numericDate(raw)
	case "nbf":
		c.NotBefore, err = numericDate(raw)
	case "iat":
		c.IssuedAt, err = numericDate(raw)
	case "scope":
		c.Scope, err = anyValue(raw)
	case "scp":
		c.Scp, err = anyValue(raw)
	case "permissions":
		c.Permissions, err = anyValue(raw)
	}
	return err
}

func stringValue(raw []byte) (string, error) {
	if bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	if len(raw) < 2 || raw[0] != '"' {
		return "", errClaimType
	}
	// Escapes and invalid UTF-8 (which encoding/json replaces with U+FFFD)
	// take the slow path, so both decoders agree.
	if body := raw[1 : len(raw)-1]; bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

// audience reads aud: a string or an array of strings, as jwt.ClaimStrings.
func audience(raw []byte) (jwt.ClaimStrings, error) {
	switch raw[0] {
	case 'n':
		return nil, nil
	case '"':
		s, err := stringValue(raw)
		return jwt.ClaimStrings{s}, err
	case '[':
		var out jwt.ClaimStrings
		err := eachElement(raw, func(e []byte) error {
			s, err := stringValue(e)
			if err == nil && (len(e) == 0 || e[0] != '"') {
				err = errClaimType
			}
			out = append(out, s)
			return err
		})
		return out, err
	}
	return nil, errClaimType
}

// numericDate reads a NumericDate the way jwt.NumericDate does.
func numericDate(raw []byte) (*jwt.NumericDate, error) {
	if bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return nil, errClaimType
	}
	round, frac := math.Modf(f)
	return jwt.NewNumericDate(time.Unix(int64(round), int64(frac*1e9))), nil
}

// anyValue keeps a string or an array of strings (what strings1 reads).
func anyValue(raw []byte) (any, error) {
	switch raw[0] {
	case '"':
		return stringValue(raw)
	case '[':
		var out []any
		err := eachElement(raw, func(e []byte) error {
			if e[0] == '"' {
				s, err := stringValue(e)
				out = append(out, s)
				return err
			}
			var v any
			json.Unmarshal(e, &v)
			out = append(out, v)
			return nil
		})
		return out, err
	case 'n':
		return nil, nil
	}
	var v any
	err := json.Unmarshal(raw, &v)
	return v, err
}

func eachElement(raw []byte, f func([]byte) error) error {
	s := scanner{b: raw, i: 1}
	for {
		s.space()
		if s.i >= len(s.b) || s.consume(']') {
			return nil
		}
		start := s.i
		s.skip()
		if err := f(raw[start:s.i]); err != nil {
			return err
		}
		s.space()
		s.consume(',')
	}
}

// scanner walks valid JSON.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) consume(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// str reads a string token and returns its value.
func (s *scanner) str() (string, error) {
	start := s.i
	s.skipString()
	return stringValue(s.b[start:s.i])
}

func (s *scanner) skipString() {
	s.i++ // opening quote
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			s.i += 2
		case '"':
			s.i++
			return
		default:
			s.i++
		}
	}
}

// skip moves past one value of any kind.
func (s *scanner) skip() {
	switch s.peek() {
	case '"':
		s.skipString()
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				s.skipString()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				return
			}
		}
	default: // number, true, false, null
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
			s.i++
		}
	}
}
