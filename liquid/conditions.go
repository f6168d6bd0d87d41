package liquid

import (
	"strings"

	"github.com/osteele/liquid/parser"
)

// leniencyClause is appended to every if, elsif and unless condition. osteele's if tag tests
// the raw value of a bare variable ({% if customer.nickname %}) against nil and false, which a
// missing value, being neither, would pass; "x and true" is tested through the values' own
// truth, under which a missing variable is false. The truth of the condition is unchanged.
const leniencyClause = " and true"

// lenientConditions returns src with leniencyClause added to each if, elsif and unless tag
// outside raw blocks. Lines do not move, so errors still point at the template as written.
// Conditions with a filter are left alone: appending would change the filter's argument.
func lenientConditions(src string) string {
	if !strings.Contains(src, "{%") {
		return src
	}
	tokens := parser.Scan(src, parser.SourceLoc{}, nil)
	var b strings.Builder
	b.Grow(len(src) + 64)
	raw := false
	covered := 0
	for _, tok := range tokens {
		s := tok.Source
		covered += len(s)
		if tok.Type == parser.TagTokenType {
			switch tok.Name {
			case "raw":
				raw = true
			case "endraw":
				raw = false
			case "if", "elsif", "unless":
				if !raw && tok.Args != "" && !strings.Contains(tok.Args, "|") {
					if i := strings.LastIndex(s, tok.Args); i >= 0 {
						end := i + len(tok.Args)
						s = s[:end] + leniencyClause + s[end:]
					}
				}
			}
		}
		b.WriteString(s)
	}
	if covered != len(src) { // the tokens did not cover the source: keep it as written
		return src
	}
	return b.String()
}
