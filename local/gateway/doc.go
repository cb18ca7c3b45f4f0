// Package gateway is a local API Gateway HTTP API: it reads the template the
// CDK app synthesized, routes requests as HTTP APIs do, authorizes them with
// the same JWT rules (package jwtauth), hands the same payload 2.0 or 1.0
// events to the project's real handlers running as processes (package
// lambdarun), and maps their answers, faults and timeouts to the statuses
// API Gateway returns.
package gateway
