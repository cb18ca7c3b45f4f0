package main

import "github.com/jwtapi/jwtapi/constructs/jwtapi"

// routes are the HTTP API's routes; the tests edit this file while
// jwtapi dev runs.
func routes() map[string]jwtapi.Route {
	return map[string]jwtapi.Route{
		"GET /health":      {Handler: "handlers/orders", Public: true},
		"GET /orders/{id}": {Handler: "handlers/orders", Scopes: []string{"read:orders"}},
	}
}
