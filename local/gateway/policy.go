package gateway

import (
	"encoding/json"
	"errors"
	"strings"
)

// policyDocument is the IAM policy a REST Lambda authorizer returns.
type policyDocument struct {
	Version   string     `json:"Version"`
	Statement statements `json:"Statement"`
}

// statement is one IAM policy statement. Action and Resource (or their Not
// forms) may be a string or a list of strings.
type statement struct {
	Effect      string          `json:"Effect"`
	Action      stringList      `json:"Action"`
	NotAction   stringList      `json:"NotAction"`
	Resource    stringList      `json:"Resource"`
	NotResource stringList      `json:"NotResource"`
	Condition   json.RawMessage `json:"Condition"`
}

// statements accepts one statement object or a list of them, as IAM does.
type statements []statement

func (s *statements) UnmarshalJSON(b []byte) error {
	var one statement
	if json.Unmarshal(b, &one) == nil && one.Effect != "" {
		*s = statements{one}
		return nil
	}
	var many []statement
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("Statement is neither a statement nor a list of them")
	}
	*s = many
	return nil
}

type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = stringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("want a string or a list of strings")
	}
	*l = many
	return nil
}

// verdict is the outcome of evaluating a policy for one request.
type verdict int

const (
	implicitDeny verdict = iota // no statement allows the request
	allow
	explicitDeny // a statement denies it: this wins over any Allow
)

// evaluate decides whether the policy lets the caller invoke methodARN, the
// way IAM does: an explicit Deny wins over any Allow, and without an Allow
// the request is denied. Action names match case-insensitively, resources
// case-sensitively, both with IAM's wildcards (* spans any characters,
// slashes included; ? is one character). A statement with a Condition is
// not evaluated here: it never allows, and always denies (fail closed).
func (p *policyDocument) evaluate(methodARN string) verdict {
	v := implicitDeny
	for _, s := range p.Statement {
		applies := s.matchesAction("execute-api:Invoke") && s.matchesResource(methodARN)
		switch {
		case s.Effect == "Deny" && (applies || len(s.Condition) > 0 && s.matchesResource(methodARN)):
			return explicitDeny
		case s.Effect == "Allow" && applies && len(s.Condition) == 0:
			v = allow
		}
	}
	return v
}

func (s statement) matchesAction(action string) bool {
	if len(s.NotAction) > 0 {
		return !anyMatch(s.NotAction, action, true)
	}
	return anyMatch(s.Action, action, true)
}

func (s statement) matchesResource(arn string) bool {
	if len(s.NotResource) > 0 {
		return !anyMatch(s.NotResource, arn, false)
	}
	return anyMatch(s.Resource, arn, false)
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			p, s = strings.ToLower(p), strings.ToLower(s)
		}
		if wildcardMatch(p, s) {
			return true
		}
	}
	return false
}

// wildcardMatch matches s against an IAM pattern with * and ?.
func wildcardMatch(pattern, s string) bool {
	// Iterative matching with backtracking to the last star: linear in
	// practice, never exponential.
	p, i, star, mark := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
