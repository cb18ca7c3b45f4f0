package routekey

import (
	"errors"
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	good := []string{"$default", "GET /", "GET /items", "ANY /items/{id}", "POST /a/{b}/c/{proxy+}", "DELETE /users/{id}", "GET /v1.0/x-y_z"}
	for _, s := range good {
		k, err := Parse(s)
		if err != nil {
			t.Errorf("Parse(%q): %v", s, err)
			continue
		}
		if k.String() != s {
			t.Errorf("Parse(%q).String() = %q", s, k.String())
		}
	}
	bad := []string{"", "GET", "GET items", "get /items", "FETCH /x", "GET /x/", "GET //x", "GET /{proxy+}/x", "GET /a{b}", "GET /{a}/{a}", "GET /{}", "GET /x y", "GET  /x"}
	for _, s := range bad {
		if _, err := Parse(s); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) = %v, want ErrMalformed", s, err)
		}
	}
}

func TestShape(t *testing.T) {
	a, _ := Parse("GET /items/{id}")
	b, _ := Parse("GET /items/{name}")
	c, _ := Parse("GET /items/{name+}")
	if a.Shape() != b.Shape() || a.Shape() == c.Shape() {
		t.Errorf("shapes %q %q %q", a.Shape(), b.Shape(), c.Shape())
	}
}

func table(t *testing.T, keys ...string) *Table {
	t.Helper()
	var ks []Key
	for _, s := range keys {
		k, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, k)
	}
	return NewTable(ks)
}

func TestLookup(t *testing.T) {
	tb := table(t, "GET /items", "GET /items/{id}", "GET /items/special", "ANY /items/{id}", "GET /files/{proxy+}",
		"ANY /{proxy+}", "POST /items", "GET /", "GET /users/{id}/posts/{post}")
	tests := []struct {
		method, path string
		want         string
		params       map[string]string
	}{
		{"GET", "/items", "GET /items", nil},
		{"GET", "/items/special", "GET /items/special", nil},
		{"GET", "/items/42", "GET /items/{id}", map[string]string{"id": "42"}},
		{"PUT", "/items/42", "ANY /items/{id}", map[string]string{"id": "42"}},
		{"GET", "/files/a/b%20c.txt", "GET /files/{proxy+}", map[string]string{"proxy": "a/b c.txt"}},
		{"GET", "/files", "ANY /{proxy+}", map[string]string{"proxy": "files"}},
		{"DELETE", "/items", "ANY /{proxy+}", map[string]string{"proxy": "items"}},
		{"GET", "/", "GET /", nil},
		{"GET", "/users/7/posts/9", "GET /users/{id}/posts/{post}", map[string]string{"id": "7", "post": "9"}},
		{"GET", "/items/", "ANY /{proxy+}", map[string]string{"proxy": "items/"}},
	}
	for _, tt := range tests {
		m, ok := tb.Lookup(tt.method, tt.path)
		if !ok || m.Key.String() != tt.want || !reflect.DeepEqual(m.Params, tt.params) {
			t.Errorf("Lookup(%s %s) = %v %v %v; want %s %v", tt.method, tt.path, m.Key, m.Params, ok, tt.want, tt.params)
		}
	}
}

func TestLookupNotFoundAndDefault(t *testing.T) {
	tb := table(t, "GET /items")
	if m, ok := tb.Lookup("POST", "/items"); ok {
		t.Errorf("POST /items matched %v, want no route", m.Key)
	}
	if m, ok := tb.Lookup("GET", "/items/1"); ok {
		t.Errorf("GET /items/1 matched %v, want no route", m.Key)
	}
	tb = table(t, "GET /items", "$default")
	if m, ok := tb.Lookup("POST", "/anything"); !ok || !m.Key.IsDefault() {
		t.Errorf("want $default, got %v %v", m.Key, ok)
	}
}
