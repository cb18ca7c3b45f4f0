package main

import "testing"

// TestTallyNeverCountsASkippedMutantAsKilled: a mutant whose tests timed
// out, or that gremlins skipped, is listed as skipped and left out of the
// score; equivalent and not viable ones are left out too.
func TestTallyNeverCountsASkippedMutantAsKilled(t *testing.T) {
	all := []mutant{
		{file: "a.go", line: 1, col: 1, typ: "X", status: "KILLED"},
		{file: "a.go", line: 2, col: 1, typ: "X", status: "TIMED OUT"},
		{file: "a.go", line: 3, col: 1, typ: "X", status: "SKIPPED"},
		{file: "a.go", line: 4, col: 1, typ: "X", status: "LIVED"},
		{file: "a.go", line: 5, col: 1, typ: "X", status: "LIVED"},
		{file: "a.go", line: 6, col: 1, typ: "X", status: "NOT VIABLE"},
	}
	eq := map[string]string{"a.go:5:1 X": "equivalent: same result", "gone.go:1:1 X": "stale"}
	c := tally(all, eq)
	if c.killed != 1 || c.total != 2 || len(c.skipped) != 2 || len(c.survivors) != 1 {
		t.Errorf("tally = %+v; want 1 killed of 2 run to an end, 2 skipped, 1 survivor", c)
	}
	if _, stale := eq["gone.go:1:1 X"]; !stale || len(eq) != 1 {
		t.Errorf("equivalents left over: %v, want only the stale entry", eq)
	}
	if countEquivalent(all) != 1 {
		t.Errorf("countEquivalent = %d, want 1", countEquivalent(all))
	}
}
