package issuerurl

import "testing"

func TestCheck(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://tenant.auth0.com/", true},
		{"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc", true},
		{"http://127.0.0.1:4000/", true},
		{"http://127.9.9.9/", true},
		{"http://[::1]:8080/realms/dev", true},
		{"http://localhost:8080/", true},
		{"http://localhost.evil.com/", false},
		{"http://evil.com/localhost", false},
		{"http://127.0.0.1.evil.com/", false},
		{"http://10.0.0.1/", false},
		{"http://tenant.auth0.com/", false},
		{"ftp://127.0.0.1/", false},
		{"tenant.auth0.com", false},
		{"https:opaque", false},
		{"https:///no-host", false},
		{"http:///no-host", false},
		{"https://%zz/", false},
		{"", false},
	}
	for _, tt := range tests {
		if err := Check(tt.url); (err == nil) != tt.ok {
			t.Errorf("Check(%q) = %v, want ok=%v", tt.url, err, tt.ok)
		}
	}
}
