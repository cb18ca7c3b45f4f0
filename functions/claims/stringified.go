package claims

import (
	"strconv"
	"strings"
)

// ParseList turns API Gateway's text for an array claim ("[a b c]") into its
// elements. A value without brackets is a one-element list, and a
// space-delimited string such as a `scope` claim is split on whitespace.
// Elements containing spaces cannot be told apart from two elements: API
// Gateway's format loses that information.
func ParseList(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" || s == "[]" {
		return nil
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		return splitTop(s[1 : len(s)-1])
	}
	return strings.Fields(s)
}

// ParseMap turns API Gateway's text for an object claim ("map[a:1 b:x]")
// into its entries, each value still in API Gateway's text form. It reports
// false when s is not map text.
func ParseMap(s string) (map[string]string, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "map[") || !strings.HasSuffix(s, "]") {
		return nil, false
	}
	out := map[string]string{}
	last := ""
	for _, tok := range splitTop(s[len("map[") : len(s)-1]) {
		k, v, ok := cutTop(tok)
		switch {
		case ok:
			out[k] = v
			last = k
		case last != "":
			// A value with spaces was split; glue it back to its key.
			out[last] += " " + tok
		}
	}
	return out, true
}

// Value converts one claim from API Gateway's text to the most plausible Go
// value: bool, int64, float64, []any, map[string]any or string.
func Value(s string) any {
	switch s {
	case "true":
		return true
	case "false":
		return false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && strings.ContainsAny(s, ".eE") && !strings.ContainsAny(s, "nN") {
		return f
	}
	if m, ok := ParseMap(s); ok {
		out := make(map[string]any, len(m))
		for k, v := range m {
			out[k] = Value(v)
		}
		return out
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		items := ParseList(s)
		out := make([]any, len(items))
		for i, v := range items {
			out[i] = Value(v)
		}
		return out
	}
	return s
}

// splitTop splits s on spaces that are not inside brackets.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			if depth > 0 {
				depth--
			}
		case ' ':
			if depth == 0 {
				if i > start {
					out = append(out, s[start:i])
				}
				start = i + 1
			}
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// cutTop splits "key:value" at the first colon outside brackets.
func cutTop(tok string) (string, string, bool) {
	depth := 0
	for i := 0; i < len(tok); i++ {
		switch tok[i] {
		case '[':
			depth++
		case ']':
			depth--
		case ':':
			if depth == 0 && i > 0 {
				return tok[:i], tok[i+1:], true
			}
		}
	}
	return "", "", false
}
