// Package issuerurl holds the one rule for the URLs that tokens and keys
// come from (issuers, discovery documents, JWKS endpoints): https, or plain
// http only on this machine's loopback interface.
package issuerurl

import (
	"errors"
	"net"
	"net/url"
)

// Check accepts an absolute https URL, or an http URL whose host is
// loopback. Keys or tokens fetched over plain http anywhere else could be
// swapped in transit.
func Check(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return errors.New("not an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopback(u.Hostname()) {
			return nil
		}
		return errors.New("must use https (http only on 127.0.0.1, ::1 or localhost)")
	}
	return errors.New("must use https")
}

// IsLoopback reports whether host names this machine: "localhost" exactly,
// or a loopback IP address. "localhost.example.com" is not loopback.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
