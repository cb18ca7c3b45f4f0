// Package test holds the synth-level tests of the app: golden snapshots of
// every stage's template, assertions on what matters in them, the security
// invariant and cdk-nag. Run `go test ./test -update` to rewrite snapshots.
package test
