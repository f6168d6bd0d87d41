package email_test

import (
	"testing"

	"github.com/heraldhq/herald/email"
)

func TestHTMLToText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"decodes entities and collapses white space", "<p>Fish &amp; chips\n\t  for&nbsp;&euro;5</p>", "Fish & chips for €5"},
		{"keeps link URLs after their text", `<a href="https://x.test/a?b=1&amp;c=2">Read more</a>`, "Read more (https://x.test/a?b=1&c=2)"},
		{"does not repeat a URL used as its own text", `<a href="https://x.test">https://x.test</a>`, "https://x.test"},
		{"drops head, style and script", "<html><head><title>T</title><style>p{}</style></head><body><script>x()</script><p>Body</p></body></html>", "Body"},
		{"puts blocks on their own lines with one blank line between paragraphs", "<h1>Title</h1><p>One</p><p>Two<br>Three</p><div>Four</div>", "Title\n\nOne\n\nTwo\nThree\n\nFour"},
		{"lists items", "<ul><li>a</li><li>b</li></ul>", "- a\n- b"},
		{"separates table cells", "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc"},
		{"ignores relative and javascript links", `<a href="/x">X</a> <a href="javascript:y()">Y</a>`, "X Y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := email.HTMLToText(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzHTMLToText(f *testing.F) {
	f.Add("<p>a <a href='https://x'>b</a></p>")
	f.Add("<a href=\"https://x\">")
	f.Fuzz(func(t *testing.T, s string) {
		_ = email.HTMLToText(s) // must not panic on any input
	})
}
