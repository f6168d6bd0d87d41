package email

import (
	"html"
	"net/url"
	"strings"

	xhtml "golang.org/x/net/html"
)

// noTrackAttr on an <a> keeps that link out of click tracking.
const noTrackAttr = "data-herald-notrack"

// htmlEdit says what rewriteHTML changes; a zero value copies the input unchanged.
type htmlEdit struct {
	preheader  string   // hidden preview text placed right after <body>
	tracker    *Tracker // nil: no click rewriting and no pixel
	deliveryID string
	skip       []string // link URLs never rewritten (the unsubscribe URL)
}

// TrackHTML returns src with every http(s) <a href> rewritten into a signed click URL of the
// delivery and an open pixel added before </body>. Links equal to one of skip, and links with
// a data-herald-notrack attribute, are left alone; everything else in src is copied verbatim.
func (t *Tracker) TrackHTML(src, deliveryID string, skip ...string) string {
	return rewriteHTML(src, htmlEdit{tracker: t, deliveryID: deliveryID, skip: skip})
}

// rewriteHTML applies e in one pass of the HTML tokenizer. Tokens it does not change are
// copied byte for byte, so odd markup (conditional comments, templates' leftovers) survives.
func rewriteHTML(src string, e htmlEdit) string {
	var b strings.Builder
	b.Grow(len(src) + 512)
	z := xhtml.NewTokenizer(strings.NewReader(src))
	links, bodyAt, pixelDone := 0, -1, false
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken { // io.EOF: a strings.Reader fails in no other way
			break
		}
		raw := z.Raw()
		switch tt {
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			tok := z.Token()
			switch {
			case tok.Data == "a" && e.tracker != nil:
				if e.trackLink(&tok, links) {
					links++
					b.WriteString(tok.String())
					continue
				}
			case tok.Data == "body" && bodyAt < 0:
				b.Write(raw)
				bodyAt = b.Len()
				b.WriteString(preheaderHTML(e.preheader))
				continue
			}
		case xhtml.EndTagToken:
			if name, _ := z.TagName(); string(name) == "body" && !pixelDone && e.tracker != nil {
				b.WriteString(pixelHTML(e.tracker.OpenURL(e.deliveryID)))
				pixelDone = true
			}
		}
		b.Write(raw)
	}
	out := b.String()
	if bodyAt < 0 && e.preheader != "" {
		out = preheaderHTML(e.preheader) + out
	}
	if !pixelDone && e.tracker != nil {
		out += pixelHTML(e.tracker.OpenURL(e.deliveryID))
	}
	return out
}

// trackLink rewrites tok's href into link number index's click URL and reports whether it did.
func (e htmlEdit) trackLink(tok *xhtml.Token, index int) bool {
	href := -1
	for i, a := range tok.Attr {
		switch {
		case a.Namespace != "":
		case a.Key == noTrackAttr:
			return false
		case a.Key == "href":
			href = i
		}
	}
	if href < 0 {
		return false
	}
	link := strings.TrimSpace(tok.Attr[href].Val)
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false
	}
	for _, s := range e.skip {
		if s != "" && link == s {
			return false
		}
	}
	tok.Attr[href].Val = e.tracker.ClickURL(e.deliveryID, index, link)
	return true
}

// preheaderHTML hides the preview text from the rendered body; inboxes still show it.
func preheaderHTML(text string) string {
	if text == "" {
		return ""
	}
	return `<div style="display:none;font-size:1px;line-height:1px;max-height:0;max-width:0;` +
		`opacity:0;overflow:hidden;mso-hide:all">` + html.EscapeString(text) + `</div>`
}

func pixelHTML(src string) string {
	return `<img src="` + html.EscapeString(src) + `" width="1" height="1" alt="" ` +
		`style="display:block;width:1px;height:1px;border:0">`
}
