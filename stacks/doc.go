// Package stacks wires the reusable constructs into this app's stacks: one
// API stack per stage, configured from the "stages" map in cdk.json.
//
// cdk.go reads CDK context and environment variables and hands plain values
// to this package; tests build the same stacks the same way.
package stacks
