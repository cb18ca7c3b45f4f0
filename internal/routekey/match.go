package routekey

import (
	"net/url"
	"strings"
)

// Match is a route that matched a request.
type Match struct {
	Key Key
	// Params are the path parameters, URL-decoded; a greedy parameter holds
	// the rest of the path without its leading slash.
	Params map[string]string
}

// specificity ranks a segment match: API Gateway prefers a literal segment to
// a parameter, and a parameter to a greedy parameter.
const (
	greedySeg = iota
	paramSeg
	literalSeg
)

// Table selects routes for requests the way an HTTP API does: the most
// specific matching route wins (literal segments over parameters over greedy
// parameters, compared from the left), a route for the request's method wins
// over ANY, and $default takes what nothing else matches.
type Table struct {
	keys       []Key
	hasDefault bool
}

// NewTable builds a table from parsed route keys.
func NewTable(keys []Key) *Table {
	t := &Table{}
	for _, k := range keys {
		if k.IsDefault() {
			t.hasDefault = true
			continue
		}
		t.keys = append(t.keys, k)
	}
	return t
}

// Lookup finds the route for method and the raw (still escaped) path.
func (t *Table) Lookup(method, rawPath string) (Match, bool) {
	segs := splitPath(rawPath)
	var best Match
	var bestRank []int
	found := false
	for _, k := range t.keys {
		if k.Method != method && k.Method != "ANY" {
			continue
		}
		params, rank, ok := matchSegments(k.Segments, segs)
		if !ok {
			continue
		}
		// Method-specific beats ANY when the paths are equally specific.
		if k.Method == method {
			rank = append(rank, 1)
		} else {
			rank = append(rank, 0)
		}
		if !found || better(rank, bestRank) {
			best, bestRank, found = Match{Key: k, Params: params}, rank, true
		}
	}
	if found {
		return best, true
	}
	if t.hasDefault {
		return Match{Key: Key{}}, true
	}
	return Match{}, false
}

func splitPath(p string) []string {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func matchSegments(route []Segment, path []string) (map[string]string, []int, bool) {
	var params map[string]string
	rank := make([]int, 0, len(route)+1)
	for i, s := range route {
		if s.Greedy {
			rest := path[i:]
			if len(rest) == 0 || (len(rest) == 1 && rest[0] == "") {
				return nil, nil, false // {proxy+} needs at least one segment
			}
			if params == nil {
				params = map[string]string{}
			}
			params[s.Param] = unescape(strings.Join(rest, "/"))
			return params, append(rank, greedySeg), true
		}
		if i >= len(path) {
			return nil, nil, false
		}
		switch {
		case s.Param != "":
			if path[i] == "" {
				return nil, nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[s.Param] = unescape(path[i])
			rank = append(rank, paramSeg)
		case s.Literal == unescape(path[i]):
			rank = append(rank, literalSeg)
		default:
			return nil, nil, false
		}
	}
	if len(route) != len(path) {
		return nil, nil, false
	}
	return params, rank, true
}

// better compares specificity vectors from the left; on a tie a longer
// (deeper) route is not preferred, it cannot tie with different lengths.
func better(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return len(a) > len(b)
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}
