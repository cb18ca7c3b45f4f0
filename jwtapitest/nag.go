package jwtapitest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Finding is an unsuppressed cdk-nag finding.
type Finding struct {
	// Level is "error" or "warning".
	Level string
	// Rule is the rule id, e.g. "AwsSolutions-IAM4".
	Rule string
	// Path is the construct path of the resource.
	Path    string
	Message string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s %s at %s: %s", f.Level, f.Rule, f.Path, f.Message)
}

// MinReasonWords is how many words a suppression's reason needs: a reason
// is what the next reader has to go on, not a formality.
const MinReasonWords = 5

// Nag runs cdk-nag's AwsSolutions and Serverless packs on the stack (it
// adds them unless the stack or one of its scopes has them already),
// synthesizes the app and fails the test for every unsuppressed finding,
// error or warning, and for every suppression whose reason has fewer than
// MinReasonWords words. Call it before Synth: packs added after the first
// synth would see the stack a second time. It returns the findings.
func Nag(t testing.TB, stack awscdk.Stack) []Finding {
	t.Helper()
	if !hasNagPacks(stack) {
		props := &cdknag.NagPackProps{Verbose: jsii.Bool(true), Reports: jsii.Bool(false)}
		awscdk.Aspects_Of(stack).Add(cdknag.NewAwsSolutionsChecks(props), nil)
		awscdk.Aspects_Of(stack).Add(cdknag.NewServerlessChecks(props), nil)
	}
	var ann assertions.Annotations
	synthErr := catch(func() { ann = assertions.Annotations_FromStack(stack) })
	var findings []Finding
	if ann != nil {
		nagRule := assertions.Match_StringLikeRegexp(jsii.String(`(AwsSolutions|Serverless)-`))
		for level, msgs := range map[string]func() []string{
			"error":   func() []string { return messages(ann.FindError(jsii.String("*"), nagRule)) },
			"warning": func() []string { return messages(ann.FindWarning(jsii.String("*"), nagRule)) },
		} {
			for _, m := range msgs() {
				path, text, _ := strings.Cut(m, "\x00")
				findings = append(findings, finding(level, path, text))
			}
		}
	}
	// With the @aws-cdk/core:annotationsInValidationReport flag the findings
	// go to validation-report.json (and an error fails the synth) instead.
	outdir := *awscdk.Stage_Of(stack).Outdir()
	reported, err := reportFindings(outdir, *stack.Node().Path())
	if err != nil {
		t.Fatalf("%s: reading cdk-nag's validation report: %v", *stack.StackName(), err)
	}
	findings = append(findings, reported...)
	if synthErr != nil && len(findings) == 0 {
		t.Fatalf("synthesizing %s: %v", *stack.StackName(), synthErr)
	}
	findings = dedupe(findings)
	for _, f := range findings {
		t.Errorf("%s: cdk-nag %s", *stack.StackName(), f)
	}
	if synthErr == nil {
		checkReasons(t, *stack.StackName(), filepath.Join(outdir, *stack.TemplateFile()))
	}
	return findings
}

// hasNagPacks says whether a cdk-nag pack is an aspect of the stack or of
// one of its scopes (the app, a stage).
func hasNagPacks(stack awscdk.Stack) bool {
	for _, scope := range *stack.Node().Scopes() {
		for _, a := range *awscdk.Aspects_Of(scope).All() {
			if _, ok := a.(cdknag.NagPack); ok {
				return true
			}
		}
	}
	return false
}

func messages(list *[]*cxapi.SynthesisMessage) []string {
	var out []string
	if list == nil {
		return nil
	}
	for _, m := range *list {
		data := ""
		if m.Entry != nil && m.Entry.Data != nil {
			data = fmt.Sprint(m.Entry.Data)
			if s, ok := m.Entry.Data.(*string); ok {
				data = *s
			}
		}
		out = append(out, *m.Id+"\x00"+data)
	}
	return out
}

var ruleID = regexp.MustCompile(`^((?:AwsSolutions|Serverless)-[A-Za-z0-9]+)`)

func finding(level, path, text string) Finding {
	return Finding{Level: level, Rule: ruleID.FindString(text), Path: path, Message: text}
}

// ValidationReport reads the annotations of the stack at stackPath (a
// construct path) from an assembly's validation-report.json, where the
// @aws-cdk/core:annotationsInValidationReport flag sends them; none when
// there is no report.
func ValidationReport(outdir, stackPath string) ([]Finding, error) {
	b, err := os.ReadFile(filepath.Join(outdir, "validation-report.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var report struct {
		PluginReports []struct {
			Violations []struct {
				RuleName            string `json:"ruleName"`
				Description         string `json:"description"`
				Severity            string `json:"severity"`
				ViolatingConstructs []struct {
					ConstructPath string `json:"constructPath"`
				} `json:"violatingConstructs"`
			} `json:"violations"`
		} `json:"pluginReports"`
	}
	if err := json.Unmarshal(b, &report); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(outdir, "validation-report.json"), err)
	}
	var out []Finding
	for _, p := range report.PluginReports {
		for _, v := range p.Violations {
			for _, c := range v.ViolatingConstructs {
				if c.ConstructPath == stackPath || strings.HasPrefix(c.ConstructPath, stackPath+"/") {
					f := finding(v.Severity, c.ConstructPath, v.Description)
					if f.Rule == "" {
						f.Rule = v.RuleName
					}
					out = append(out, f)
				}
			}
		}
	}
	return out, nil
}

// reportFindings are cdk-nag's findings in the validation report: every
// annotation is there; cdk-nag's start with their rule id.
func reportFindings(outdir, stackPath string) ([]Finding, error) {
	all, err := ValidationReport(outdir, stackPath)
	var out []Finding
	for _, f := range all {
		if ruleID.MatchString(f.Message) {
			out = append(out, f)
		}
	}
	return out, err
}

func dedupe(fs []Finding) []Finding {
	slices.SortFunc(fs, func(a, b Finding) int { return strings.Compare(a.String(), b.String()) })
	return slices.CompactFunc(fs, func(a, b Finding) bool { return a.String() == b.String() })
}

// checkReasons fails the test for every cdk-nag suppression in the
// template (on a resource or on the stack) without a real reason.
func checkReasons(t testing.TB, name, templateFile string) {
	t.Helper()
	b, err := os.ReadFile(templateFile)
	if err != nil {
		t.Fatalf("%s: reading the synthesized template: %v", name, err)
	}
	var tpl struct {
		Metadata  map[string]any `json:"Metadata"`
		Resources map[string]struct {
			Metadata map[string]any `json:"Metadata"`
		} `json:"Resources"`
	}
	if err := json.Unmarshal(b, &tpl); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	check := func(where string, meta map[string]any) {
		nag, _ := meta["cdk_nag"].(map[string]any)
		rules, _ := nag["rules_to_suppress"].([]any)
		for _, r := range rules {
			rule, _ := r.(map[string]any)
			reason, _ := rule["reason"].(string)
			if len(strings.Fields(reason)) < MinReasonWords {
				t.Errorf("%s: %s suppresses %v with the reason %q: say why in at least %d words", name, where, rule["id"], reason, MinReasonWords)
			}
		}
	}
	check("the stack", tpl.Metadata)
	for id, r := range tpl.Resources {
		check(id, r.Metadata)
	}
}
