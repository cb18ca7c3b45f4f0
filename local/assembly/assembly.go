// Package assembly reads a CDK cloud assembly (the cdk.out folder that
// `cdk synth` writes): its stacks, nested stages included, their templates,
// and the stage each stack is marked with.
package assembly

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/jwtapi/jwtapi/internal/cfnmeta"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
)

// ErrAssembly is wrapped by every error about the cloud assembly.
var ErrAssembly = errors.New("cloud assembly")

// StageMetadata is the template metadata key naming a stack's stage. The
// jwtapi construct writes it (jwtapi.MarkStage, or the Stage prop).
const StageMetadata = cfnmeta.Stage

// Stack is one stack of the assembly.
type Stack struct {
	// Name is the CloudFormation stack name.
	Name string
	// ID is the artifact id, "Stage/Stack" style for stacks of nested stages
	// (what `cdk synth` shows as the display name).
	ID string
	// Stage is the stage the stack is marked with, empty when none.
	Stage string
	// TemplatePath is the template's file.
	TemplatePath string
	// Template is the template's JSON.
	Template []byte
}

// manifest is the part of manifest.json read here.
type manifest struct {
	Artifacts map[string]struct {
		Type        string `json:"type"`
		DisplayName string `json:"displayName"`
		Properties  struct {
			TemplateFile  string `json:"templateFile"`
			StackName     string `json:"stackName"`
			DirectoryName string `json:"directoryName"`
		} `json:"properties"`
	} `json:"artifacts"`
}

// Read lists the stacks of the assembly in dir, sorted by name, nested
// assemblies (CDK Stages) included. Every template is read and checked to
// be JSON.
func Read(dir string) ([]Stack, error) {
	var stacks []Stack
	if err := read(dir, &stacks, 0); err != nil {
		return nil, err
	}
	slices.SortFunc(stacks, func(a, b Stack) int { return strings.Compare(a.Name+"\x00"+a.ID, b.Name+"\x00"+b.ID) })
	return stacks, nil
}

func read(dir string, into *[]Stack, depth int) error {
	if depth > 8 {
		return fmt.Errorf("%w: %s: assemblies nested more than 8 deep", ErrAssembly, dir)
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrAssembly, err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("%w: %s is not a cloud assembly manifest: %v", ErrAssembly, filepath.Join(dir, "manifest.json"), err)
	}
	for id, a := range m.Artifacts {
		switch a.Type {
		case "aws:cloudformation:stack":
			s := Stack{Name: a.Properties.StackName, ID: a.DisplayName, TemplatePath: filepath.Join(dir, a.Properties.TemplateFile)}
			if s.Name == "" {
				s.Name = id
			}
			if s.ID == "" {
				s.ID = id
			}
			if s.Template, err = os.ReadFile(s.TemplatePath); err != nil {
				return fmt.Errorf("%w: stack %s: %v", ErrAssembly, s.Name, err)
			}
			var tpl struct {
				Metadata map[string]any `json:"Metadata"`
			}
			if err := json.Unmarshal(s.Template, &tpl); err != nil {
				return fmt.Errorf("%w: %s is not a CloudFormation JSON template: %v", ErrAssembly, s.TemplatePath, err)
			}
			s.Stage, _ = tpl.Metadata[StageMetadata].(string)
			*into = append(*into, s)
		case "cdk:cloud-assembly":
			if err := read(filepath.Join(dir, a.Properties.DirectoryName), into, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// Select picks stacks: those named (exactly, by stack name or artifact id)
// when names are given, else those of stage when it is given (marked with
// it; when none is, those with the stage as a word of their name), else
// all. An empty selection, or a name matching nothing or several stacks, is
// one error line listing what the assembly holds.
func Select(stacks []Stack, names []string, stage string) ([]Stack, error) {
	if len(stacks) == 0 {
		return nil, fmt.Errorf("%w: it holds no stacks", ErrAssembly)
	}
	if len(names) > 0 {
		var out []Stack
		for _, n := range names {
			var found []Stack
			for _, s := range stacks {
				if s.Name == n || s.ID == n {
					found = append(found, s)
				}
			}
			switch {
			case len(found) == 0:
				return nil, fmt.Errorf("%w: no stack named %q; it holds %s", ErrAssembly, n, describe(stacks))
			case len(found) > 1:
				return nil, fmt.Errorf("%w: %q names %d stacks (%s); give the artifact id", ErrAssembly, n, len(found), ids(found))
			}
			if !slices.ContainsFunc(out, func(s Stack) bool { return s.ID == found[0].ID }) {
				out = append(out, found[0])
			}
		}
		return out, nil
	}
	if stage == "" {
		return stacks, nil
	}
	var out []Stack
	for _, s := range stacks {
		if s.Stage == stage {
			out = append(out, s)
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	// No stack is marked: those that carry the stage in their name
	// (orders-local, OrdersLocal, local/Orders), unless marked with another.
	for _, s := range stacks {
		if s.Stage == "" && (namesStage(s.Name, stage) || namesStage(s.ID, stage)) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no stack is marked with stage %q or has it in its name; it holds %s: pick stacks with --stack NAME, or mark them with jwtapi.MarkStage(stack, %q)", ErrAssembly, stage, describe(stacks), stage)
	}
	return out, nil
}

// namesStage tells whether a stack name holds stage as a whole word:
// words are split at punctuation and where lower case meets upper case
// (OrdersLocal is Orders, Local), and compared without case.
func namesStage(name, stage string) bool {
	return slices.ContainsFunc(words(name), func(w string) bool { return strings.EqualFold(w, stage) }) ||
		strings.EqualFold(name, stage)
}

func words(s string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, string(cur))
			cur = cur[:0]
		}
	}
	prevLower := false
	for _, r := range s {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
			prevLower = false
			continue
		case unicode.IsUpper(r) && prevLower:
			flush()
		}
		cur = append(cur, r)
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
	}
	flush()
	return out
}

// describe lists stacks with their stages, for error messages.
func describe(stacks []Stack) string {
	var parts []string
	for _, s := range stacks {
		if s.Stage != "" {
			parts = append(parts, fmt.Sprintf("%s (stage %s)", s.Name, s.Stage))
		} else {
			parts = append(parts, s.Name+" (no stage)")
		}
	}
	return strings.Join(parts, ", ")
}

func ids(stacks []Stack) string {
	var out []string
	for _, s := range stacks {
		out = append(out, s.ID)
	}
	return strings.Join(out, ", ")
}
