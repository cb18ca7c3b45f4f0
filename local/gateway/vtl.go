package gateway

import (
	"errors"
	"fmt"
	"strings"
)

// This file renders the subset of Velocity (VTL) that gateway response
// templates use: references ($context.authorizer.code, ${...}, $!...) and
// #if / #elseif / #else / #end with ==, !=, &&, || and !. Any other directive
// (#set, #foreach, ...) is reported as unsupported rather than rendered
// wrongly. A reference to nothing renders empty, as API Gateway renders a
// missing $context variable.

// errVTL is wrapped by every template the renderer cannot run.
var errVTL = errors.New("gateway response template")

// renderVTL renders tpl; lookup resolves a reference such as
// "context.authorizer.code".
func renderVTL(tpl string, lookup func(ref string) string) (string, error) {
	p := &vtlParser{src: tpl}
	nodes, end, err := p.parse()
	if err != nil {
		return "", err
	}
	if end != "" {
		return "", fmt.Errorf("%w: #%s without #if", errVTL, end)
	}
	var b strings.Builder
	if err := render(&b, nodes, lookup); err != nil {
		return "", err
	}
	return b.String(), nil
}

type vtlNode struct {
	text     string
	ref      string
	branches []vtlBranch // an #if: conditions in order, a final else with cond ""
}

type vtlBranch struct {
	cond string
	body []vtlNode
	els  bool
}

type vtlParser struct {
	src string
	pos int
}

// parse reads nodes until the end of input or a directive that closes the
// enclosing block ("elseif(...)", "else" or "end"), which it returns.
func (p *vtlParser) parse() ([]vtlNode, string, error) {
	var nodes []vtlNode
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			nodes = append(nodes, vtlNode{text: text.String()})
			text.Reset()
		}
	}
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '$':
			if ref, n := readRef(p.src[p.pos:]); n > 0 {
				flush()
				nodes = append(nodes, vtlNode{ref: ref})
				p.pos += n
				continue
			}
		case c == '#' && p.pos+1 < len(p.src) && isLetter(p.src[p.pos+1]):
			flush()
			name := p.word()
			switch name {
			case "if":
				node, err := p.ifBlock()
				if err != nil {
					return nil, "", err
				}
				nodes = append(nodes, node)
				continue
			case "elseif":
				cond, err := p.parens()
				if err != nil {
					return nil, "", err
				}
				return nodes, "elseif(" + cond, nil
			case "else", "end":
				return nodes, name, nil
			default:
				return nil, "", fmt.Errorf("%w: #%s is not supported locally (only #if, #elseif, #else, #end)", errVTL, name)
			}
		}
		text.WriteByte(c)
		p.pos++
	}
	flush()
	return nodes, "", nil
}

func (p *vtlParser) word() string {
	p.pos++ // '#'
	start := p.pos
	for p.pos < len(p.src) && isLetter(p.src[p.pos]) {
		p.pos++
	}
	return p.src[start:p.pos]
}

// parens reads "( ... )" after a directive, quotes respected.
func (p *vtlParser) parens() (string, error) {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}
	if p.pos >= len(p.src) || p.src[p.pos] != '(' {
		return "", fmt.Errorf("%w: a directive lacks its (condition)", errVTL)
	}
	depth, quote := 0, byte(0)
	for i := p.pos; i < len(p.src); i++ {
		c := p.src[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			if depth--; depth == 0 {
				cond := p.src[p.pos+1 : i]
				p.pos = i + 1
				return cond, nil
			}
		}
	}
	return "", fmt.Errorf("%w: unbalanced parentheses", errVTL)
}

func (p *vtlParser) ifBlock() (vtlNode, error) {
	cond, err := p.parens()
	if err != nil {
		return vtlNode{}, err
	}
	var node vtlNode
	els := false
	for {
		body, end, err := p.parse()
		if err != nil {
			return vtlNode{}, err
		}
		node.branches = append(node.branches, vtlBranch{cond: cond, body: body, els: els})
		switch {
		case end == "end":
			return node, nil
		case end == "else" && !els:
			els, cond = true, ""
		case strings.HasPrefix(end, "elseif(") && !els:
			cond = strings.TrimPrefix(end, "elseif(")
		default:
			return vtlNode{}, fmt.Errorf("%w: #if without #end", errVTL)
		}
	}
}

func render(b *strings.Builder, nodes []vtlNode, lookup func(string) string) error {
	for _, n := range nodes {
		switch {
		case n.ref != "":
			b.WriteString(lookup(n.ref))
		case n.branches != nil:
			for _, br := range n.branches {
				ok := br.els
				if !ok {
					var err error
					if ok, err = evalCond(br.cond, lookup); err != nil {
						return err
					}
				}
				if ok {
					if err := render(b, br.body, lookup); err != nil {
						return err
					}
					break
				}
			}
		default:
			b.WriteString(n.text)
		}
	}
	return nil
}

// evalCond evaluates "a == b", "a != b", a bare operand (true when
// non-empty and not "false"), combined with && and || (left to right) and
// a leading !.
func evalCond(cond string, lookup func(string) string) (bool, error) {
	if i := topLevel(cond, "||"); i >= 0 {
		l, err := evalCond(cond[:i], lookup)
		if err != nil || l {
			return l, err
		}
		return evalCond(cond[i+2:], lookup)
	}
	if i := topLevel(cond, "&&"); i >= 0 {
		l, err := evalCond(cond[:i], lookup)
		if err != nil || !l {
			return l, err
		}
		return evalCond(cond[i+2:], lookup)
	}
	cond = strings.TrimSpace(cond)
	if strings.HasPrefix(cond, "!") && !strings.HasPrefix(cond, "!=") {
		v, err := evalCond(cond[1:], lookup)
		return !v, err
	}
	for _, op := range []string{"==", "!="} {
		if i := topLevel(cond, op); i >= 0 {
			l, err := operand(cond[:i], lookup)
			if err != nil {
				return false, err
			}
			r, err := operand(cond[i+2:], lookup)
			if err != nil {
				return false, err
			}
			return (l == r) == (op == "=="), nil
		}
	}
	v, err := operand(cond, lookup)
	return v != "" && v != "false", err
}

// topLevel finds op outside quotes.
func topLevel(s, op string) int {
	quote := byte(0)
	for i := 0; i+len(op) <= len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case s[i:i+len(op)] == op:
			return i
		}
	}
	return -1
}

// operand is a "double-quoted" string (references inside are rendered), a
// 'single-quoted' literal, a reference, or a bare word (a number, true).
func operand(s string, lookup func(string) string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"':
		return renderVTL(s[1:len(s)-1], lookup)
	case len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'':
		return s[1 : len(s)-1], nil
	case strings.HasPrefix(s, "$"):
		if ref, n := readRef(s); n == len(s) {
			return lookup(ref), nil
		}
	case s != "" && !strings.ContainsAny(s, " ()\"'$#"):
		return s, nil
	}
	return "", fmt.Errorf("%w: cannot evaluate %q", errVTL, s)
}

// readRef reads a reference at the start of s: $a.b, $!a.b, ${a.b},
// $!{a.b}. It returns the dotted name and the bytes read (0: none).
func readRef(s string) (string, int) {
	i := 1
	if i < len(s) && s[i] == '!' {
		i++
	}
	if i < len(s) && s[i] == '{' {
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", 0
		}
		return s[i+1 : i+end], i + end + 1
	}
	start := i
	for i < len(s) && (isLetter(s[i]) || s[i] >= '0' && s[i] <= '9' || s[i] == '_' || s[i] == '-' ||
		s[i] == '.' && i+1 < len(s) && isLetter(s[i+1])) {
		i++
	}
	if i == start || !isLetter(s[start]) {
		return "", 0
	}
	return s[start:i], i
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
