package liquid

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzRender renders arbitrary template source against a full context: it must never panic,
// must stop within its time limit, and must fail only with an *Error.
func FuzzRender(f *testing.F) {
	seeds := []string{
		"Hi {{ customer.first_name | default: 'there' }}",
		"{% for a in objects.accounts %}{{ a.name }}{{ a.relationship.role }}{% endfor %}",
		"{% if customer.x %}{% elsif trigger.appointment.kind == 'a' %}{% else %}{% endif %}",
		"{% capture x %}{{ x }}{{ x }}{% endcapture %}{{ x | size }}",
		"{{ customer.ts | add_day: 2 | date: '%F', 'America/New_York' }}",
		"{% for i in (1..100000000) %}{% endfor %}",
		"{{ objects.accounts[0].name }}{% raw %}{% if %}{% endraw %}",
		"{% tablerow i in (1..3) cols: 2 %}{{ i }}{% endtablerow %}",
		"{% case customer.plan %}{% when 'pro' %}p{% endcase %}{% cycle 'a', 'b' %}",
		"{{ customer.people | where_exp: 'p', 'p.age > 1' | map: 'name' | join: ',' }}",
		"{{ snippets.sig }}{% unsubscribe_url %}{% generate_uuid %}",
		"{% assign a = '[1,2]' | from_json %}{{ a[1] | plus: customer.visits }}",
		"{{", "{%", "{% for %}", "{% if x | y %}{% endif %}", "{% endfor %}",
	}
	for _, dir := range []string{"telewell_reminder", "tradeup_vip", "dweller_inapp"} {
		if b, err := os.ReadFile(filepath.Join("testdata", dir, "body.liquid")); err == nil {
			seeds = append(seeds, string(b))
		}
	}
	for _, s := range seeds {
		f.Add(s)
	}
	e := New(Options{Timeout: 100 * time.Millisecond, MaxOutput: 64 << 10, MaxObjects: 50, NewUUID: func() string { return "uuid" }})
	f.Fuzz(func(t *testing.T, src string) {
		c := filterContext()
		c.Objects = &fakeLoader{n: 3}
		c.Snippets = map[string]string{"sig": "{{ customer.first_name }}", "self": "{{ snippets.self }}"}
		c.Trigger = &Trigger{ObjectType: "appointment", Object: map[string]any{"kind": "a"}}
		start := time.Now()
		out, err := e.Render(context.Background(), src, c)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("render of %q took %v", src, d)
		}
		if err != nil {
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			return
		}
		if len(out) > 64<<10 {
			t.Fatalf("output of %d bytes is over the limit", len(out))
		}
	})
}
