package liquid

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRenderStopsAtLimits(t *testing.T) {
	t.Parallel()
	e := New(Options{Timeout: 50 * time.Millisecond, MaxOutput: 10_000})
	for _, tc := range []struct {
		name  string
		src   string
		limit string
	}{
		{"empty loop over a huge range", "{% for i in (1..100000000) %}{% endfor %}", "timeout"},
		{"nested loops", "{% for i in (1..100000) %}{% for j in (1..100000) %}{% endfor %}{% endfor %}", "timeout"},
		{"loop that writes nothing but assigns", "{% for i in (1..100000000) %}{% assign x = i | plus: 1 %}{% endfor %}", "timeout"},
		{"tablerow over a huge range", "{% tablerow i in (1..100000000) %}{% endtablerow %}", "output"},
		{"output over the size", "{% for i in (1..100000) %}0123456789{% endfor %}", "output"},
		{"capture that doubles", "{% assign x = \"xxxxxxxxxx\" %}{% for i in (1..40) %}{% capture x %}{{ x }}{{ x }}{% endcapture %}{% endfor %}", "output"},
		{"doubling without a loop", strings.Repeat("{% capture x %}a{{ x }}{{ x }}{% endcapture %}", 40), "output"},
		{"append that doubles", "{% assign x = \"xxxxxxxxxx\" %}{% for i in (1..40) %}{% assign x = x | append: x %}{% endfor %}", "output"},
		{"replace of the empty string multiplies", `{% assign x = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" %}{{ x | replace: "", x }}`, "output"},
		{"join of a big split multiplies", `{% capture x %}{% for i in (1..500) %}ab{% endfor %}{% endcapture %}{{ x | split: "" | join: x }}`, "output"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			_, err := e.Render(context.Background(), tc.src, testContext())
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("render took %v", d)
			}
			var le *Error
			if !errors.As(err, &le) || le.Kind != LimitFailure || le.Limit != tc.limit {
				t.Fatalf("err = %v, want the %s limit", err, tc.limit)
			}
			want := map[string]string{"timeout": "50ms", "output": "10000-byte"}[tc.limit]
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message %q does not name the limit %q", err, want)
			}
		})
	}
}

func TestRenderRangeFilterBound(t *testing.T) {
	t.Parallel()
	_, err := New(Options{}).Render(context.Background(), "{{ (1..100000000) | join: \",\" }}", testContext())
	if err == nil || !strings.Contains(err.Error(), "100000") {
		t.Fatalf("err = %v, want the range limit", err)
	}
}

func TestRenderHonoursContext(t *testing.T) {
	t.Parallel()
	e := New(Options{Timeout: time.Minute})
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"deadline shorter than the timeout", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 30*time.Millisecond)
		}},
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := tc.ctx()
			defer cancel()
			start := time.Now()
			_, err := e.Render(ctx, "{% for i in (1..100000000) %}{% endfor %}", testContext())
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("render took %v", d)
			}
			var le *Error
			if !errors.As(err, &le) || le.Limit != "timeout" {
				t.Fatalf("err = %v, want a timeout", err)
			}
		})
	}
}

func TestSnippetsCannotRecurseForever(t *testing.T) {
	t.Parallel()
	c := testContext()
	c.Snippets = map[string]string{"loop": "x{{ snippets.loop }}"}
	_, err := New(Options{}).Render(context.Background(), "{{ snippets.loop }}", c)
	var le *Error
	if !errors.As(err, &le) || le.Kind != LimitFailure || le.Limit != "snippets" {
		t.Fatalf("err = %v, want the snippet depth limit", err)
	}
}

func TestTemplatesCannotReadFiles(t *testing.T) {
	t.Parallel()
	for _, src := range []string{`{% include "/etc/passwd" %}`, `{% render "/etc/passwd" %}`} {
		_, err := New(Options{}).Render(context.Background(), src, testContext())
		if err == nil {
			t.Errorf("Render(%q) succeeded", src)
		}
	}
}
