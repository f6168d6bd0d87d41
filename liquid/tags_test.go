package liquid

import (
	"context"
	"regexp"
	"testing"
)

func TestURLTags(t *testing.T) {
	t.Parallel()
	ctx := func() *Context {
		c := testContext()
		c.URLs = URLs{
			Unsubscribe:       "https://h.example/u/d-1",
			ManagePreferences: "https://h.example/p/d-1",
			ViewInBrowser:     "https://h.example/v/d-1",
		}
		return c
	}
	runCases(t, New(Options{}), ctx, []renderCase{
		{"unsubscribe_url", `<a href="{% unsubscribe_url %}">`, `<a href="https://h.example/u/d-1">`},
		{"manage_subscription_preferences_url", `{% manage_subscription_preferences_url %}`, "https://h.example/p/d-1"},
		{"view_in_browser_url", `{% view_in_browser_url %}`, "https://h.example/v/d-1"},
		{"url tags in a loop", `{% for i in (1..2) %}{% unsubscribe_url %} {% endfor %}`, "https://h.example/u/d-1 https://h.example/u/d-1 "},
	})
	runCases(t, New(Options{}), testContext, []renderCase{
		{"no URL renders empty (previews)", `[{% unsubscribe_url %}]`, "[]"},
	})
}

func TestGenerateUUID(t *testing.T) {
	t.Parallel()
	n := 0
	e := New(Options{NewUUID: func() string { n++; return []string{"u-a", "u-b"}[n-1] }})
	got, err := e.Render(context.Background(), "{% generate_uuid %} {% generate_uuid %}", testContext())
	if err != nil || got != "u-a u-b" {
		t.Fatalf("got %q, %v; want one injected UUID per tag", got, err)
	}

	got, err = New(Options{}).Render(context.Background(), "{% generate_uuid %}", testContext())
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(got) {
		t.Fatalf("got %q, %v; want a random UUID", got, err)
	}
}

func TestRawAndCommentAreUntouched(t *testing.T) {
	t.Parallel()
	runCases(t, New(Options{}), testContext, []renderCase{
		{"raw keeps an if as written", "{% raw %}{% if customer.x %}{{ y }}{% endraw %}", "{% if customer.x %}{{ y }}"},
		{"comment renders nothing", "a{% comment %}{{ customer.nope }}{% endcomment %}b", "ab"},
	})
}
