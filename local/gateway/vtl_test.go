package gateway

import (
	"errors"
	"testing"
)

func TestRenderVTL(t *testing.T) {
	vars := map[string]string{"context.authorizer.code": "ERR_JWT_EXPIRED", "context.authorizer.error": "Token has expired.", "context.stage": "dev"}
	lookup := func(ref string) string { return vars[ref] }
	// The construct's ACCESS_DENIED template.
	accessDenied := `#if("$context.authorizer.code" != ""){"error":"$context.authorizer.error","code":"$context.authorizer.code"}#else{"error":"Forbidden.","code":"AUTH_ERROR"}#end`
	tests := []struct{ tpl, want string }{
		{accessDenied, `{"error":"Token has expired.","code":"ERR_JWT_EXPIRED"}`},
		{`{"s":"${context.stage}","q":"$!context.missing","m":"$context.missing"}`, `{"s":"dev","q":"","m":""}`},
		{`#if($context.stage == "prod")P#elseif($context.stage == 'dev')D#else?#end`, `D`},
		{`#if($context.missing)yes#else no#end`, ` no`},
		{`#if(!$context.missing && $context.stage != "x")a#end`, `a`},
		{`#if($context.missing || $context.stage == "dev")b#end`, `b`},
		{`#if($context.stage == "dev")#if($context.authorizer.code == "x")inner#else outer#end#end`, ` outer`},
		{`costs $5 and # signs`, `costs $5 and # signs`},
		{`{"message":$context.error.messageString}`, `{"message":}`},
		{`ends with a hash #`, `ends with a hash #`},
		{`#if($context.missing == "x")a#elseif($context.missing == "y")b#end`, ``},
		{`#if('' == "$context.missing")empty#end`, `empty`},
		{`#if($context.stage != 1 && true == true)bare#end`, `bare`},
	}
	for _, tt := range tests {
		got, err := renderVTL(tt.tpl, lookup)
		if err != nil || got != tt.want {
			t.Errorf("renderVTL(%q) = %q, %v; want %q", tt.tpl, got, err, tt.want)
		}
	}
	// Operands quoted at one end only are not strings.
	for _, op := range []string{`ab"`, `"ab`, `ab'`, `'ab`, `"`, `'`} {
		if got, err := operand(op, lookup); !errors.Is(err, errVTL) {
			t.Errorf("operand(%q) = %q, %v; want an unsupported-template error", op, got, err)
		}
	}
	for op, want := range map[string]string{`"a$context.stage"`: "adev", `'$x'`: "$x", `""`: "", `''`: "", `42`: "42"} {
		if got, err := operand(op, lookup); err != nil || got != want {
			t.Errorf("operand(%q) = %q, %v; want %q", op, got, err, want)
		}
	}
	delete(vars, "context.authorizer.code")
	if got, _ := renderVTL(accessDenied, lookup); got != `{"error":"Forbidden.","code":"AUTH_ERROR"}` {
		t.Errorf("ACCESS_DENIED without a code = %s", got)
	}
	for _, bad := range []string{`#set($x = 1)$x`, `#foreach($a in $b)x#end`, `#if($a == 1)x`, `#else x`, `#if $a #end`, `#if(($a)x#end`,
		`#if(true)a#else b#else c#end`, `#if(true)a#else b#elseif(true)c#end`, `#if('abc == 'x')x#end`, `#if(a b == 1)x#end`, `#if($a.b c == 1)x#end`, `#if(" == 1)x#end`} {
		if _, err := renderVTL(bad, lookup); !errors.Is(err, errVTL) {
			t.Errorf("renderVTL(%q) = %v, want an unsupported-template error", bad, err)
		}
	}
}
