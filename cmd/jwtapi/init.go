package main

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"text/template"
	"time"
	"unicode"

	"github.com/jwtapi/jwtapi/internal/gobuild"
)

// modulePath is this project's module.
const modulePath = "github.com/jwtapi/jwtapi"

// scaffold is what init writes, as templates: name.tmpl becomes name
// (gitignore.tmpl becomes .gitignore).
//
//go:embed scaffold
var scaffold embed.FS

// scaffoldData fills the templates.
type scaffoldData struct {
	Module   string // the new module's path
	Name     string // the folder's name, e.g. orders-service
	Stack    string // the stack name's base, e.g. OrdersService
	APIName  string // the API's name base, e.g. orders-service
	Audience string // the API identifier its tokens are for
}

var modulePathRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._~-]*(/[A-Za-z0-9._~-]+)*$`)

func runInit(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("init", `jwtapi init: create a new service in an empty folder, ready to work.

It writes a Go CDK app with one stack per stage (local, dev, prod in
cdk.json), an HTTP API with a public route and private routes whose Go
handlers read the verified claims, a stack test with the jwtapi test kit,
a Makefile (make dev, make test, synth, deploy, destroy, smoke), a
package.json pinning the CDK CLI and Node (installed by make into
node_modules, never globally), .gitignore and a README; then it runs
go mod tidy. The folder must be empty (a .git folder may be there).

While github.com/jwtapi/jwtapi is not published, the new go.mod replaces it
with a checkout: the one this command was built from, or --replace DIR.

Examples:
  mkdir orders && cd orders && go run github.com/jwtapi/jwtapi/cmd/jwtapi init
  jwtapi init --dir ../orders --module github.com/acme/orders`, stdout, stderr, args)
	dir := fs.String("dir", ".", "the folder to create the service in (created if missing; must be empty)")
	module := fs.String("module", "", "the new module's path (default: example.com/<folder name>)")
	replace := fs.String("replace", "", "the checkout of "+modulePath+" to build against (default: the one this command was built from; 'none' requires a published version)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("init takes flags only, not %q (jwtapi init --help)", fs.Arg(0))
	}
	target, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	if err := checkEmpty(target); err != nil {
		return err
	}
	data, err := newScaffoldData(filepath.Base(target), *module)
	if err != nil {
		return err
	}
	requirement, err := jwtapiRequirement(*replace, target)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(target, 0o755); err != nil {
		return err
	}
	files, err := writeScaffold(target, data, requirement)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "jwtapi: wrote %d files in %s\n", len(files), target)
	fmt.Fprintln(stdout, "==> go mod tidy: resolving the construct's modules (first time: about a minute while they download)")
	tidy := exec.Command("go", "mod", "tidy")
	tidy.Dir = target
	tidy.Env = append(os.Environ(), "GOWORK=off")
	var out bytes.Buffer
	tidy.Stdout, tidy.Stderr = &out, &out
	start := time.Now()
	if err := tidy.Run(); err != nil {
		return fmt.Errorf("go mod tidy in %s failed (%v):\n%s\nthe files are written; fix what it says, then run go mod tidy there", target, err, strings.TrimSpace(out.String()))
	}
	fmt.Fprintf(stdout, "    done in %.0fs\n", time.Since(start).Seconds())
	cd := ""
	if target != mustAbs(".") {
		cd = "cd " + replacePath(mustAbs("."), target) + "\n  "
	}
	fmt.Fprintf(stdout, `
Your service %s is ready (module %s). Next:

  %smake dev     # run the API on your laptop, with an embedded Auth0-like issuer
  make test    # the handler and stack tests

In another terminal, while make dev runs:

  curl -s http://127.0.0.1:3000/hello
  curl -s http://127.0.0.1:3000/items -H "authorization: Bearer $(go tool jwtapi token)"

Routes are in stack.go, handlers in handlers/, stages in cdk.json; README.md says how to deploy.
`, data.Name, data.Module, cd)
	return nil
}

// checkEmpty refuses a folder holding anything but a .git folder.
func checkEmpty(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() != ".git" {
			return fmt.Errorf("%s is not empty (it holds %s): run jwtapi init in an empty folder, or pass --dir NEW_FOLDER", dir, e.Name())
		}
	}
	return nil
}

func newScaffoldData(name, module string) (scaffoldData, error) {
	words := strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) == 0 || !unicode.IsLetter([]rune(words[0])[0]) {
		return scaffoldData{}, fmt.Errorf("the folder name %q must start with a letter: it names the stack and the API", name)
	}
	var stack strings.Builder
	for _, w := range words {
		r := []rune(strings.ToLower(w))
		r[0] = unicode.ToUpper(r[0])
		stack.WriteString(string(r))
	}
	kebab := strings.ToLower(strings.Join(words, "-"))
	if module == "" {
		module = "example.com/" + kebab
	}
	if !modulePathRE.MatchString(module) {
		return scaffoldData{}, fmt.Errorf("--module %q is not a Go module path (such as github.com/acme/orders)", module)
	}
	return scaffoldData{Module: module, Name: kebab, Stack: stack.String(), APIName: kebab, Audience: "https://" + kebab + ".example.com"}, nil
}

// requirement is how the new module gets this one: a replace by a local
// checkout while it is unpublished, or a published version.
type requirement struct {
	replaceDir string // absolute, or "" for none
	version    string
}

// jwtapiRequirement finds the checkout (or version) of this module to
// build against: --replace DIR, or where this command was built from.
func jwtapiRequirement(flag, target string) (requirement, error) {
	const pseudo = "v0.0.0-00010101000000-000000000000"
	switch flag {
	case "none":
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, d := range append([]*debug.Module{&bi.Main}, bi.Deps...) {
				if d.Path == modulePath && strings.HasPrefix(d.Version, "v") && d.Replace == nil {
					return requirement{version: d.Version}, nil
				}
			}
		}
		return requirement{}, fmt.Errorf("--replace none needs a published version of %s, and this command was not built from one: pass --replace DIR with a checkout", modulePath)
	case "":
	default:
		dir, err := filepath.Abs(flag)
		if err == nil {
			err = isCheckout(dir)
		}
		if err != nil {
			return requirement{}, fmt.Errorf("--replace %s: %v", flag, err)
		}
		return requirement{replaceDir: dir, version: pseudo}, nil
	}
	for _, dir := range selfCheckouts() {
		if isCheckout(dir) == nil {
			return requirement{replaceDir: dir, version: pseudo}, nil
		}
	}
	return requirement{}, fmt.Errorf("cannot tell where %s is checked out: pass --replace DIR (a clone of its repository)", modulePath)
}

// selfCheckouts lists where this command's module may be checked out: the
// folder of its own sources (go run from a checkout), the module of the
// working directory, and the replace of the module that runs it as a tool.
func selfCheckouts() []string {
	var out []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		out = append(out, filepath.Dir(filepath.Dir(filepath.Dir(file))))
	}
	if dir, err := gobuild.ModuleDir("."); err == nil {
		out = append(out, dir)
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, d := range bi.Deps {
				if d.Path == modulePath && d.Replace != nil && d.Replace.Version == "" {
					p := d.Replace.Path
					if !filepath.IsAbs(p) {
						p = filepath.Join(dir, p)
					}
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// isCheckout tells whether dir holds this module.
func isCheckout(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return fmt.Errorf("no go.mod there")
	}
	if !strings.HasPrefix(string(data), "module "+modulePath+"\n") {
		return fmt.Errorf("its go.mod is not module %s", modulePath)
	}
	return nil
}

// writeScaffold writes go.mod and every template under dir.
func writeScaffold(dir string, data scaffoldData, req requirement) ([]string, error) {
	var files []string
	gomod := fmt.Sprintf("module %s\n\ngo 1.26\n\nrequire %s %s\n", data.Module, modulePath, req.version)
	if req.replaceDir != "" {
		gomod += fmt.Sprintf("\n// Until %s is published: the checkout to build against.\nreplace %s => %s\n", modulePath, modulePath, replacePath(dir, req.replaceDir))
	}
	gomod += "\n// go tool jwtapi: dev, token, explain, smoke.\ntool " + modulePath + "/cmd/jwtapi\n" +
		"\n// node_modules (the pinned CDK CLI) ships Go files of its own.\nignore ./node_modules\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		return nil, err
	}
	files = append(files, "go.mod")
	err := fs.WalkDir(scaffold, "scaffold", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := scaffold.ReadFile(path)
		if err != nil {
			return err
		}
		rel := strings.TrimSuffix(strings.TrimPrefix(path, "scaffold/"), ".tmpl")
		if rel == "gitignore" {
			rel = ".gitignore"
		}
		tpl, err := template.New(rel).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return fmt.Errorf("scaffold %s: %v", path, err)
		}
		var out bytes.Buffer
		if err := tpl.Execute(&out, data); err != nil {
			return fmt.Errorf("scaffold %s: %v", path, err)
		}
		to := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		files = append(files, rel)
		return os.WriteFile(to, out.Bytes(), 0o644)
	})
	return files, err
}

// replacePath is the checkout as go.mod names it: relative when it is
// close by (the two folders move together), else absolute.
func replacePath(moduleDir, checkout string) string {
	if rel, err := filepath.Rel(moduleDir, checkout); err == nil && strings.Count(rel, "..") <= 1 {
		if !strings.HasPrefix(rel, "..") {
			rel = "./" + rel
		}
		return filepath.ToSlash(rel)
	}
	return checkout
}
