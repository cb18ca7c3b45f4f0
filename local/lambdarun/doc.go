// Package lambdarun runs Go Lambda handlers on the host as real processes
// speaking the Lambda Runtime API, the protocol lambda.Start uses when
// AWS_LAMBDA_RUNTIME_API is set. Each instance is one process with its own
// Runtime API endpoint; instances stay warm between invocations, several run
// under concurrent load (up to a limit), a crashed one is replaced, the
// function timeout is enforced, and a handler whose source changed is rebuilt
// before the next invocation.
package lambdarun
