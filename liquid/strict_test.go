package liquid

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestMissingVariableFailsNamingIt(t *testing.T) {
	t.Parallel()
	e := New(Options{})
	for _, tc := range []struct {
		name, src, path string
		line            int
	}{
		{"output", "Hi {{ customer.first_nam }}", "customer.first_nam", 1},
		{"output on a later line", "Hi\n\n{{ customer.nickname }}!", "customer.nickname", 3},
		{"nested below a missing key", "{{ customer.company.name }}", "customer.company.name", 1},
		{"below a scalar-free map", "{{ customer.address.zip }}", "customer.address.zip", 1},
		{"array index out of range", "{{ customer.tags[5] }}", "customer.tags[5]", 1},
		{"first object when there are none", "{{ objects.accounts[0].name }}", "objects.accounts[0].name", 1},
		{"first of an empty list", "{{ objects.accounts.first.name }}", "objects.accounts[0].name", 1},
		{"filter input", "{{ customer.nickname | upcase }}", "customer.nickname", 1},
		{"filter argument", `{{ "Hi " | append: customer.nickname }}`, "customer.nickname", 1},
		{"loop collection", "{% for x in customer.friends %}{{ x }}{% endfor %}", "customer.friends", 1},
		{"inside a loop", "{% for t in customer.tags %}{{ t }}{% endfor %}{% for a in objects.none %}{% endfor %}{{ customer.address.street }}", "customer.address.street", 1},
		{"assigned then written", "{% assign n = customer.nickname %}{{ n }}", "customer.nickname", 1},
		{"captured", "{% capture c %}{{ customer.nickname }}{% endcapture %}x", "customer.nickname", 1},
		{"event property", "{{ event.price }}", "event.price", 1},
		{"range bound", "{% for i in (1..customer.count) %}{{ i }}{% endfor %}", "customer.count", 1},
		{"snippet", "{{ snippets.footer }}", "snippets.footer", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := testContext()
			c.Event = &Event{Name: "e", Data: map[string]any{}}
			got, err := e.Render(context.Background(), tc.src, c)
			var le *Error
			if !errors.As(err, &le) || le.Kind != MissingFailure {
				t.Fatalf("Render = %q, %v; want a missing-variable failure", got, err)
			}
			if le.Variable != tc.path {
				t.Errorf("Variable = %q, want %q", le.Variable, tc.path)
			}
			if le.Line != tc.line {
				t.Errorf("Line = %d, want %d", le.Line, tc.line)
			}
			if !strings.Contains(err.Error(), tc.path) {
				t.Errorf("message %q does not name %s", err.Error(), tc.path)
			}
		})
	}
}

func TestMissingVariableIsFineWhereCustomerIOAllowsIt(t *testing.T) {
	t.Parallel()
	runCases(t, New(Options{}), testContext, []renderCase{
		{"default replaces a missing variable", `Hi {{ customer.nickname | default: "friend" }}`, "Hi friend"},
		{"default below a missing key", `{{ customer.company.name | default: "-" }}`, "-"},
		{"default for objects when there are none", `{{ objects.accounts[0].name | default: "no account" }}`, "no account"},
		{"default for an empty string", `{{ customer.empty | default: "blank" }}`, "blank"},
		{"default for false", `{{ customer.active | default: "off" }}`, "off"},
		{"default keeps false with allow_false", `{{ customer.active | default: "off", allow_false: true }}`, "false"},
		{"default keeps a present value", `{{ customer.first_name | default: "friend" }}`, "Ada"},
		{"default then more filters", `{{ customer.nickname | default: "friend" | upcase }}`, "FRIEND"},
		{"default from another variable", `{{ customer.nickname | default: customer.first_name }}`, "Ada"},
		{"if on a missing variable is false", `{% if customer.nickname %}yes{% else %}no{% endif %}`, "no"},
		{"unless on a missing variable", `{% unless customer.nickname %}none{% endunless %}`, "none"},
		{"comparison with a missing variable", `{% if customer.nickname == "x" %}x{% else %}not x{% endif %}`, "not x"},
		{"missing equals nil", `{% if customer.nickname == nil %}nil{% endif %}`, "nil"},
		{"missing on the right of a comparison", `{% if "x" == customer.nickname or 3 < customer.count %}x{% else %}neither{% endif %}`, "neither"},
		{"elsif on a missing variable", `{% if customer.a %}a{% elsif customer.b %}b{% else %}c{% endif %}`, "c"},
		{"size of objects when there are none", `{{ objects.accounts.size }}`, "0"},
		{"loop over objects when there are none", `{% for a in objects.accounts %}{{ a.name }}{% else %}none{% endfor %}`, "none"},
		{"unreached branch", `{% if false %}{{ customer.nickname }}{% endif %}ok`, "ok"},
		{"absent namespace", `{{ event.price }}`, ""},
	})
}

func TestMissingDefaultFallbackFails(t *testing.T) {
	t.Parallel()
	_, err := New(Options{}).Render(context.Background(), `{{ customer.nickname | default: customer.alias }}`, testContext())
	var le *Error
	if !errors.As(err, &le) || le.Variable != "customer.alias" {
		t.Fatalf("err = %v, want customer.alias missing", err)
	}
}

func TestFilterResultsFromTheContextStayStrict(t *testing.T) {
	t.Parallel()
	e := New(Options{})
	for _, tc := range []struct{ name, src, path string }{
		{"first of a where", `{% assign d = customer.people | where: "role", "doctor" | first %}{{ d.name }} {{ d.nmae }}`, "customer.people | where | first.nmae"},
		{"find", `{% assign d = customer.people | find: "role", "doctor" %}{{ d.speciality }}`, "customer.people | find.speciality"},
		{"where_exp then index", `{% assign ps = customer.people | where_exp: "p", "p.age > 35" %}{{ ps[5].name }}`, "customer.people | where_exp[5].name"},
		{"loop over a filtered list", `{% assign ps = customer.people | sort: "age" %}{% for p in ps %}{{ p.nickname }}{% endfor %}`, "customer.people | sort[0].nickname"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.Render(context.Background(), tc.src, filterContext())
			var le *Error
			if !errors.As(err, &le) || le.Variable != tc.path {
				t.Fatalf("err = %v, want %q missing", err, tc.path)
			}
		})
	}
	runCases(t, e, filterContext, []renderCase{
		{"present keys of a filter result", `{% assign d = customer.people | find: "role", "doctor" %}{{ d.name }}/{{ d.nickname | default: "-" }}`, "Dr. Lee/-"},
		{"a result from literals is plain", `{% assign d = '{"a":1}' | from_json %}[{{ d.b }}]`, "[]"},
	})
}
