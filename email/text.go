package email

import (
	"net/url"
	"strings"

	xhtml "golang.org/x/net/html"
)

// blockTags end a line in the text rendering; paragraphTags leave a blank line.
var (
	blockTags = map[string]bool{
		"div": true, "br": true, "li": true, "tr": true, "table": true, "ul": true, "ol": true,
		"section": true, "article": true, "header": true, "footer": true, "hr": true, "center": true,
	}
	paragraphTags = map[string]bool{
		"p": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
		"blockquote": true, "pre": true,
	}
	hiddenTags = map[string]bool{"head": true, "title": true, "script": true, "style": true, "template": true}
)

// HTMLToText renders HTML as plain text for the text/plain part: tags are dropped, entities
// decoded, whitespace collapsed, blocks put on lines of their own and each link's URL kept
// after its text ("Read more (https://…)"). Content of head, style and script is dropped.
func HTMLToText(src string) string {
	var b strings.Builder
	z := xhtml.NewTokenizer(strings.NewReader(src))
	hidden := 0
	var href string // the open <a>'s URL
	linkStart := 0  // b.Len() when it opened
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken { // io.EOF: a strings.Reader fails in no other way
			break
		}
		switch tt {
		case xhtml.TextToken:
			if hidden == 0 {
				b.WriteString(collapseSpace(string(z.Text())))
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken, xhtml.EndTagToken:
			tok := z.Token()
			name := tok.Data
			switch {
			case hiddenTags[name]:
				if tt == xhtml.StartTagToken {
					hidden++
				} else if tt == xhtml.EndTagToken && hidden > 0 {
					hidden--
				}
			case name == "a" && tt == xhtml.StartTagToken:
				href, linkStart = linkURL(tok), b.Len()
			case name == "a" && tt == xhtml.EndTagToken:
				text := strings.TrimSpace(b.String()[linkStart:])
				if href != "" && text != href && strings.TrimPrefix(href, "mailto:") != text {
					b.WriteString(" (" + href + ")")
				}
				href = ""
			case paragraphTags[name]:
				breakLines(&b, 2)
			case blockTags[name]:
				breakLines(&b, 1)
				if name == "li" && tt == xhtml.StartTagToken {
					b.WriteString("- ")
				}
			case name == "td" || name == "th":
				b.WriteString(" ")
			}
		}
	}
	return tidyLines(b.String())
}

// breakLines ends the text so far with n line breaks (n=2: a blank line), counting those
// already there, so nested and adjacent blocks do not pile up empty lines.
func breakLines(b *strings.Builder, n int) {
	s := strings.TrimRight(b.String(), " ")
	have := len(s) - len(strings.TrimRight(s, "\n"))
	if len(s) == 0 {
		return
	}
	for ; have < n; have++ {
		b.WriteByte('\n')
	}
}

// linkURL returns an <a>'s href when it is worth showing in text: http(s) and mailto.
func linkURL(tok xhtml.Token) string {
	for _, a := range tok.Attr {
		if a.Key != "href" {
			continue
		}
		v := strings.TrimSpace(a.Val)
		if u, err := url.Parse(v); err == nil && (u.Scheme == "http" || u.Scheme == "https" || u.Scheme == "mailto") {
			return v
		}
	}
	return ""
}

// collapseSpace turns every run of white space into one space.
func collapseSpace(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\u00a0' {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}

// tidyLines trims every line, squeezes inner spaces and keeps at most one blank line in a row.
func tidyLines(s string) string {
	lines := strings.Split(s, "\n")
	out := make([]string, 0, len(lines))
	blank := true // drops leading blank lines
	for _, l := range lines {
		l = strings.Join(strings.Fields(l), " ")
		if l == "" {
			if !blank {
				out = append(out, "")
			}
			blank = true
			continue
		}
		out = append(out, l)
		blank = false
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
