package gateway

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// preflight answers a CORS preflight from the API's CORS configuration, as
// API Gateway does before any route or authorizer is involved.
func (c *Cors) preflight(r *http.Request) *response {
	res := &response{status: 204, headers: http.Header{}}
	origin := r.Header.Get("Origin")
	if !c.allowsOrigin(origin) {
		return res // no CORS headers: the browser refuses
	}
	c.addOrigin(res.headers, origin)
	methods := c.AllowMethods
	if len(methods) == 0 {
		methods = []string{"*"}
	}
	res.headers.Set("Access-Control-Allow-Methods", strings.Join(methods, ","))
	if len(c.AllowHeaders) > 0 {
		res.headers.Set("Access-Control-Allow-Headers", strings.Join(c.AllowHeaders, ","))
	}
	if c.MaxAge > 0 {
		res.headers.Set("Access-Control-Max-Age", strconv.Itoa(c.MaxAge))
	}
	return res
}

// decorate adds CORS headers to an actual response for an allowed origin.
func (c *Cors) decorate(h http.Header, origin string) {
	if origin == "" || !c.allowsOrigin(origin) {
		return
	}
	c.addOrigin(h, origin)
	if len(c.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(c.ExposeHeaders, ","))
	}
}

func (c *Cors) addOrigin(h http.Header, origin string) {
	if slices.Contains(c.AllowOrigins, "*") && !c.AllowCredentials {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
	}
	if c.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}

func (c *Cors) allowsOrigin(origin string) bool {
	return origin != "" && (slices.Contains(c.AllowOrigins, "*") || slices.Contains(c.AllowOrigins, origin))
}

func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}
