package jwtauth

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Stringify turns decoded claims (decoded with json.Decoder.UseNumber) into
// the map of strings API Gateway hands to the integration:
//   - numbers keep their decimal text ("exp": "1718722804");
//   - booleans become "true" / "false";
//   - arrays become Go-fmt text "[a b]";
//   - objects become Go map text "map[k:v]" with sorted keys;
//   - null claims are left out.
//
// Inside arrays and objects numbers keep their JSON text and nulls print as
// "<nil>" (unconfirmed: captures show the map form but not nested numbers).
func Stringify(claims map[string]any) map[string]string {
	out := make(map[string]string, len(claims))
	for k, v := range claims {
		if v == nil {
			continue
		}
		out[k] = stringValue(v)
	}
	return out
}

func stringValue(v any) string {
	var b strings.Builder
	writeValue(&b, v)
	return b.String()
}

func writeValue(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("<nil>")
	case string:
		b.WriteString(x)
	case json.Number:
		b.WriteString(x.String())
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(' ')
			}
			writeValue(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("map[")
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(k)
			b.WriteByte(':')
			writeValue(b, x[k])
		}
		b.WriteByte(']')
	default:
		fmt.Fprint(b, x)
	}
}
