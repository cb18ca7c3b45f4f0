// Command mutate runs mutation testing over the security-critical packages
// (make mutate): gremlins (pinned in go.mod as a tool) finds and runs the
// mutants, then this command runs the ones gremlins reports "not covered"
// although their line runs (gremlins reads coverage blocks, and the
// conditions of switch cases fall between them), reads the mutants listed as
// equivalent in mutation-equivalents.txt, and prints every survivor, every
// mutant it skipped (tests that did not finish: never counted as killed)
// and, as its last line, "mutation score: N% (killed K of M run to an end;
// S skipped)".
//
// Usage: go run ./internal/tools/mutate [-workers N] [-reuse] ./pkg ...
//
// -reuse keeps gremlins' report of a package whose sources have not changed
// since, and every result of a mutant of an unchanged file, except survivors
// whose tests have changed.
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"go/scanner"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// report is gremlins' JSON output (the part read here).
type report struct {
	Files []struct {
		File      string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
}

// mutant is one mutation of one token.
type mutant struct {
	pkg, file  string // file relative to the module
	line, col  int
	typ        string
	status     string
	equivalent string // the reason it is equivalent, if listed
}

func (m mutant) id() string { return fmt.Sprintf("%s:%d:%d %s", m.file, m.line, m.col, m.typ) }

func main() {
	workers := flag.Int("workers", 2, "mutants tested at once")
	reuse := flag.Bool("reuse", false, "reuse gremlins' reports from the last run (.local/mutate)")
	equivalents := flag.String("equivalents", "mutation-equivalents.txt", "mutants known to be equivalent, one per line: file:line:col TYPE reason")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: go run ./internal/tools/mutate [-workers N] [-reuse] ./pkg ...")
		os.Exit(2)
	}
	if err := run(flag.Args(), *workers, *reuse, *equivalents); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(pkgs []string, workers int, reuse bool, equivalentsFile string) error {
	out := filepath.Join(".local", "mutate")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	loadResults(filepath.Join(out, "results.json"), reuse)
	var all []mutant
	for _, pkg := range pkgs {
		pkg = "./" + strings.TrimPrefix(pkg, "./")
		reportFile := filepath.Join(out, strings.ReplaceAll(strings.TrimPrefix(pkg, "./"), "/", "_")+".json")
		if !reuse || !reportCurrent(reportFile, pkg) {
			start := time.Now()
			fmt.Printf("==> gremlins unleash %s\n", pkg)
			cmd := exec.Command("go", "tool", "gremlins", "unleash", "--silent", "--workers", fmt.Sprint(workers), "--invert-logical", "-o", reportFile, pkg)
			cmd.Stderr = os.Stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("gremlins on %s: %v", pkg, err)
			}
			fmt.Printf("    done in %s\n", time.Since(start).Round(time.Second))
		}
		var r report
		data, err := os.ReadFile(reportFile)
		if err == nil {
			err = json.Unmarshal(data, &r)
		}
		if err != nil {
			return fmt.Errorf("%s: %v (run without -reuse)", reportFile, err)
		}
		for _, f := range r.Files {
			for _, m := range f.Mutations {
				all = append(all, mutant{pkg: pkg, file: filepath.Join(strings.TrimPrefix(pkg, "./"), filepath.Base(f.File)),
					line: m.Line, col: m.Column, typ: m.Type, status: m.Status})
			}
		}
	}
	var pending []*mutant
	for i := range all {
		if all[i].status == "NOT COVERED" {
			pending = append(pending, &all[i])
		}
	}
	if len(pending) > 0 {
		fmt.Printf("==> testing the %d mutants gremlins did not (conditions of switch cases, mostly)\n", len(pending))
		testMutants(pending, workers)
	}
	// gremlins' survivors and time-outs are tested again: survivors against
	// tests written since its report and the tests outside the package that
	// pin it down, time-outs with a generous limit (gremlins' limit is a
	// multiple of the package's test time, too tight for small packages).
	var again []*mutant
	for i := range all {
		if all[i].status == "LIVED" || all[i].status == "TIMED OUT" {
			again = append(again, &all[i])
		}
	}
	if len(again) > 0 {
		fmt.Printf("==> testing again the %d mutants gremlins saw survive or time out\n", len(again))
		testMutants(again, workers)
	}
	eq, err := readEquivalents(equivalentsFile)
	if err != nil {
		return err
	}
	t := tally(all, eq)
	killed, total, survivors, skipped := t.killed, t.total, t.survivors, t.skipped
	for id := range eq {
		fmt.Printf("note: %s lists %s, which no longer exists\n", equivalentsFile, id)
	}
	sort.Strings(survivors)
	sort.Strings(skipped)
	if len(survivors) > 0 {
		fmt.Printf("survivors (kill them with a test, or list them in %s with the reason they are equivalent):\n%s\n", equivalentsFile, strings.Join(survivors, "\n"))
	}
	if len(skipped) > 0 {
		fmt.Printf("skipped, not counted as killed (their tests did not finish within 10 minutes, or gremlins skipped them):\n%s\n", strings.Join(skipped, "\n"))
	}
	fmt.Printf("%d mutants listed as equivalent in %s\n", countEquivalent(all), equivalentsFile)
	fmt.Printf("%d mutants skipped\n", len(skipped))
	fmt.Printf("mutation score: %.1f%% (killed %d of %d run to an end; %d skipped)\n", 100*float64(killed)/float64(max(total, 1)), killed, total, len(skipped))
	return nil
}

// counts is what a run comes to.
type counts struct {
	killed, total      int // total: mutants run to an end (killed or survived)
	survivors, skipped []string
}

// tally counts the mutants: those listed as equivalent (removed from eq,
// which keeps the stale entries) and the not viable ones aside; skipped and
// timed-out ones are listed, never counted as killed, and left out of the
// score.
func tally(all []mutant, eq map[string]string) counts {
	var c counts
	for i := range all {
		m := &all[i]
		if reason, ok := eq[m.id()]; ok {
			m.equivalent = reason
			delete(eq, m.id())
			continue
		}
		switch m.status {
		case "NOT VIABLE":
			continue
		case "SKIPPED", "TIMED OUT":
			c.skipped = append(c.skipped, fmt.Sprintf("  %-10s %s", m.status, m.id()))
			continue
		case "KILLED":
			c.killed++
		default:
			c.survivors = append(c.survivors, fmt.Sprintf("  %-10s %s", m.status, m.id()))
		}
		c.total++
	}
	return c
}

func countEquivalent(all []mutant) int {
	n := 0
	for _, m := range all {
		if m.equivalent != "" {
			n++
		}
	}
	return n
}

// readEquivalents reads "file:line:col TYPE reason" lines (# comments).
func readEquivalents(path string) (map[string]string, error) {
	out := map[string]string{}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 {
			return nil, fmt.Errorf("%s:%d: want \"file:line:col TYPE reason\"", path, n)
		}
		out[fields[0]+" "+fields[1]] = strings.Join(fields[2:], " ")
	}
	return out, sc.Err()
}

// alsoTestedBy are tests outside a package that pin its behaviour down,
// run against the mutants that survive the package's own tests: what the
// construct writes into templates is asserted by test/, in process
// (snapshots of every stage, every route's wiring, the security invariant).
var alsoTestedBy = map[string][]string{
	"./constructs/jwtapi": {"./test", "-run", "^(TestSnapshots|TestAuthorizers|TestRoutes|TestFunctions|TestOnlyDeclaredPublicRoutesAreOpen|TestLambdaAuthorizer|TestRestAuthorizer|TestRestStage|TestRestGatewayResponsesCarryCodes|TestStageDomainSynthesizes|TestOutputsAndNames|TestStageAccessLogsAndThrottling|TestNoOtherSynthWarnings|TestCdkNag|TestAssetsCarryBuildInfo)$"},
}

// mutations are gremlins' token replacements, by mutator.
var mutations = map[string]map[token.Token]token.Token{
	"ARITHMETIC_BASE":       {token.ADD: token.SUB, token.MUL: token.QUO, token.QUO: token.MUL, token.REM: token.MUL, token.SUB: token.ADD},
	"CONDITIONALS_BOUNDARY": {token.GEQ: token.GTR, token.GTR: token.GEQ, token.LEQ: token.LSS, token.LSS: token.LEQ},
	"CONDITIONALS_NEGATION": {token.EQL: token.NEQ, token.GEQ: token.LSS, token.GTR: token.LEQ, token.LEQ: token.GTR, token.LSS: token.GEQ, token.NEQ: token.EQL},
	"INCREMENT_DECREMENT":   {token.DEC: token.INC, token.INC: token.DEC},
	"INVERT_LOGICAL":        {token.LAND: token.LOR, token.LOR: token.LAND},
	"INVERT_NEGATIVES":      {token.SUB: token.ADD},
}

// testMutants applies each mutant through a go test -overlay (the sources
// are never modified) and runs its package's tests: a failure kills it.
func testMutants(ms []*mutant, workers int) {
	dir, err := os.MkdirTemp("", "mutate-")
	if err != nil {
		return
	}
	defer os.RemoveAll(dir)
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	var progress sync.Mutex
	done := 0
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			m.status = testOne(m, filepath.Join(dir, fmt.Sprint(i)))
			// One line per mutant: a run of this phase can take most of an hour.
			progress.Lock()
			done++
			fmt.Printf("    [%d/%d] %s %s\n", done, len(ms), m.id(), m.status)
			progress.Unlock()
		}()
	}
	wg.Wait()
}

// results remembers, with -reuse, what a mutant of a file's exact content
// gave, so a second run tests only what changed.
var results = struct {
	sync.Mutex
	path string
	m    map[string]string
}{m: map[string]string{}}

func loadResults(path string, reuse bool) {
	results.path = path
	if data, err := os.ReadFile(path); reuse && err == nil {
		json.Unmarshal(data, &results.m)
	}
}

func testOne(m *mutant, dir string) string {
	src, err := os.ReadFile(m.file)
	if err != nil {
		return "NOT VIABLE"
	}
	sum := sha256.Sum256(src)
	key := fmt.Sprintf("%s %x %s", m.id(), sum[:8], m.status)
	// A kill stands while the mutated file is unchanged; a survivor is tested
	// again whenever the tests that ran it change.
	tests := testsDigest(m.pkg)
	results.Lock()
	prev, ok := results.m[key]
	results.Unlock()
	switch {
	case ok && prev == "LIVED "+tests:
		return "LIVED"
	case ok && prev != "LIVED" && !strings.HasPrefix(prev, "LIVED "):
		return prev
	}
	status := testMutated(m, src, dir)
	results.Lock()
	results.m[key] = status
	if status == "LIVED" {
		results.m[key] = "LIVED " + tests
	}
	data, _ := json.Marshal(results.m)
	os.WriteFile(results.path, data, 0o644)
	results.Unlock()
	return status
}

// reportCurrent: gremlins' report is newer than every source file of the
// package (its mutants' positions still hold).
func reportCurrent(reportFile, pkg string) bool {
	info, err := os.Stat(reportFile)
	if err != nil {
		return false
	}
	sources, _ := filepath.Glob(filepath.Join(strings.TrimPrefix(pkg, "./"), "*.go"))
	for _, f := range sources {
		if st, err := os.Stat(f); err == nil && !strings.HasSuffix(f, "_test.go") && st.ModTime().After(info.ModTime()) {
			return false
		}
	}
	return true
}

// digests holds testsDigest's answers: the tests do not change during a run.
var digests sync.Map

// testsDigest hashes the test files and test data of the directories whose
// tests run against a package's mutants.
func testsDigest(pkg string) string {
	if d, ok := digests.Load(pkg); ok {
		return d.(string)
	}
	h := sha256.New()
	for _, dir := range testDirs(pkg) {
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			switch {
			case err != nil:
				return nil
			case d.IsDir() && path != dir && !strings.Contains(path, "testdata"):
				return filepath.SkipDir
			case d.IsDir():
				return nil
			case strings.HasSuffix(path, "_test.go") || strings.Contains(path, "testdata"):
				if data, err := os.ReadFile(path); err == nil {
					fmt.Fprintf(h, "%s %d\n", path, len(data))
					h.Write(data)
				}
			}
			return nil
		})
	}
	d := fmt.Sprintf("%x", h.Sum(nil)[:8])
	digests.Store(pkg, d)
	return d
}

// testDirs are the package's directory and those of alsoTestedBy.
func testDirs(pkg string) []string {
	dirs := []string{strings.TrimPrefix(pkg, "./")}
	if more := alsoTestedBy[pkg]; len(more) > 0 {
		dirs = append(dirs, strings.TrimPrefix(more[0], "./"))
	}
	return dirs
}

func testMutated(m *mutant, src []byte, dir string) string {
	mutated, ok := apply(src, m)
	if !ok {
		return "NOT VIABLE"
	}
	os.MkdirAll(dir, 0o755)
	abs, _ := filepath.Abs(m.file)
	file := filepath.Join(dir, filepath.Base(m.file))
	overlay := filepath.Join(dir, "overlay.json")
	ov, _ := json.Marshal(map[string]any{"Replace": map[string]string{abs: file}})
	if os.WriteFile(file, mutated, 0o644) != nil || os.WriteFile(overlay, ov, 0o644) != nil {
		return "NOT VIABLE"
	}
	// The package's own tests first; what survives them runs against the
	// tests outside it that pin it down.
	runs := [][]string{{m.pkg}}
	if more := alsoTestedBy[m.pkg]; len(more) > 0 {
		runs = append(runs, more)
	}
	for _, run := range runs {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		cmd := exec.CommandContext(ctx, "go", append([]string{"test", "-count=1", "-timeout=8m", "-overlay=" + overlay}, run...)...)
		out, err := cmd.CombinedOutput()
		timedOut := ctx.Err() != nil || strings.Contains(string(out), "panic: test timed out")
		cancel()
		switch {
		case timedOut:
			return "TIMED OUT"
		case err == nil:
			continue
		case strings.Contains(string(out), "[build failed]") || strings.Contains(string(out), "[setup failed]"):
			return "NOT VIABLE"
		}
		return "KILLED"
	}
	return "LIVED"
}

// apply replaces the token at the mutant's position as its mutator says.
func apply(src []byte, m *mutant) ([]byte, bool) {
	fset := token.NewFileSet()
	f := fset.AddFile(m.file, -1, len(src))
	var s scanner.Scanner
	s.Init(f, src, nil, 0)
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			return nil, false
		}
		p := fset.Position(pos)
		if p.Line != m.line || p.Column != m.col {
			continue
		}
		to, ok := mutations[m.typ][tok]
		if !ok {
			return nil, false
		}
		text := tok.String()
		if lit != "" {
			text = lit
		}
		off := p.Offset
		return append(append(append([]byte{}, src[:off]...), to.String()...), src[off+len(text):]...), true
	}
}
