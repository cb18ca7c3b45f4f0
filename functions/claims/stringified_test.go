package claims

import (
	"reflect"
	"testing"
)

func TestParseList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"[admin poweruser]", []string{"admin", "poweruser"}},
		{"[read:user]", []string{"read:user"}},
		{"[]", nil},
		{"", nil},
		{"openid profile  read:user", []string{"openid", "profile", "read:user"}},
		{"https://api.example.com", []string{"https://api.example.com"}},
		{"[https://api.example.com https://x.auth0.com/userinfo]", []string{"https://api.example.com", "https://x.auth0.com/userinfo"}},
		{"[map[a:1] map[b:2]]", []string{"map[a:1]", "map[b:2]"}},
		// Empty elements (["a", "", "b", ""] stringifies as "[a  b ]") are
		// dropped wherever they are, the last one too.
		{"[a  b ]", []string{"a", "b"}},
	}
	for _, tt := range tests {
		if got := ParseList(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseMap(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
		ok   bool
	}{
		{"map[t:1700000000 v:true]", map[string]string{"t": "1700000000", "v": "true"}, true},
		{"map[plan:pro tags:[a b] nested:map[x:1]]", map[string]string{"plan": "pro", "tags": "[a b]", "nested": "map[x:1]"}, true},
		{"map[name:Ada Lovelace role:admin]", map[string]string{"name": "Ada Lovelace", "role": "admin"}, true},
		{"map[]", map[string]string{}, true},
		// A key holding brackets splits at the colon after them.
		{"map[k[1]:v x:[a:b]]", map[string]string{"k[1]": "v", "x": "[a:b]"}, true},
		{"[a b]", nil, false},
		{"plain", nil, false},
	}
	for _, tt := range tests {
		got, ok := ParseMap(tt.in)
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseMap(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestValue(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"true", true},
		{"false", false},
		{"1718722804", int64(1718722804)},
		{"1.5", 1.5},
		{"NaN", "NaN"},
		{"auth0|123", "auth0|123"},
		{"[a b]", []any{"a", "b"}},
		{"[1 true]", []any{int64(1), true}},
		{"map[seats:5 pro:true]", map[string]any{"seats": int64(5), "pro": true}},
	}
	for _, tt := range tests {
		if got := Value(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Value(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

// TestHalfBracketsAreNotLists: only text in brackets at both ends is a
// list; unbalanced brackets do not confuse keys and values.
func TestHalfBracketsAreNotLists(t *testing.T) {
	for in, want := range map[string][]string{
		"[admin":  {"[admin"},
		"admin]":  {"admin]"},
		"[a] [b]": {"a]", "[b"}, // an unbalanced ] does not nest
	} {
		if got := ParseList(in); !reflect.DeepEqual(got, want) {
			t.Errorf("ParseList(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]any{"[a": "[a", "a]": "a]"} {
		if got := Value(in); !reflect.DeepEqual(got, want) {
			t.Errorf("Value(%q) = %#v, want %#v", in, got, want)
		}
	}
	for _, tt := range []struct {
		in   string
		want map[string]string
	}{
		{"map[a:[x y] b:1]", map[string]string{"a": "[x y]", "b": "1"}},
		{"map[a:[x:y] b:2]", map[string]string{"a": "[x:y]", "b": "2"}},
		{"map[:x a:1]", map[string]string{"a": "1"}},
		{"map[a:map[b:[c d]] e:f]", map[string]string{"a": "map[b:[c d]]", "e": "f"}},
		{"map[a:1  b:2]", map[string]string{"a": "1", "b": "2"}},
		{"map[a:x] y]", map[string]string{"a": "x] y"}},
	} {
		if got, _ := ParseMap(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseMap(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
