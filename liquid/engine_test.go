package liquid

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/heraldhq/herald"
)

// testContext is a recipient with a few attributes, used where a case does not need more.
func testContext() *Context {
	return &Context{
		Customer: map[string]any{
			"id": "u1", "email": "ada@example.com", "cio_id": "c1", "first_name": "Ada",
			"plan": "pro", "visits": float64(3), "tags": []any{"vip", "beta"},
			"address": map[string]any{"city": "Madison"}, "empty": "", "active": false,
		},
		DeliveryID: "d-1",
	}
}

type renderCase struct {
	name string
	src  string
	want string
}

// runCases renders each case against c and compares the output.
func runCases(t *testing.T, e *Engine, c func() *Context, cases []renderCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := e.Render(context.Background(), tc.src, c())
			if err != nil {
				t.Fatalf("Render(%q): %v", tc.src, err)
			}
			if got != tc.want {
				t.Errorf("Render(%q) = %q, want %q", tc.src, got, tc.want)
			}
		})
	}
}

func TestRenderBasics(t *testing.T) {
	t.Parallel()
	runCases(t, New(Options{}), testContext, []renderCase{
		{"plain text passes through", "Hello", "Hello"},
		{"customer attribute", "Hi {{ customer.first_name }}", "Hi Ada"},
		{"integral numbers print without decimals", "{{ customer.visits }}", "3"},
		{"numbers compare as numbers", "{% if customer.visits > 2 %}many{% endif %}", "many"},
		{"nested attribute", "{{ customer.address.city }}", "Madison"},
		{"bracket access", `{{ customer["first_name"] }}`, "Ada"},
		{"array index", "{{ customer.tags[1] }}", "beta"},
		{"array size", "{{ customer.tags.size }}", "2"},
		{"loop keeps working", "{% for t in customer.tags %}{{ t }};{% endfor %}", "vip;beta;"},
		{"contains on an attribute", `{% if customer.tags contains "vip" %}yes{% endif %}`, "yes"},
		{"assign and reuse", `{% assign n = customer.first_name | upcase %}{{ n }}`, "ADA"},
		{"capture", `{% capture g %}Hi {{ customer.first_name }}{% endcapture %}{{ g }}!`, "Hi Ada!"},
		{"delivery id", "{{ delivery_id }}", "d-1"},
		{"absent namespace renders empty", "[{{ event.name }}][{{ trigger.x }}]", "[][]"},
		{"standard filters still work", `{{ "a,b" | split: "," | join: "-" }}`, "a-b"},
		{"filters get plain values from the context", `{{ customer.tags | join: "+" }}`, "vip+beta"},
		{"object renders as JSON", "{{ customer.address }}", `{"city":"Madison"}`},
		{"whitespace control", "{%- if true -%}  x  {%- endif -%}", "x"},
		{"standard filter with optional arguments omitted", `{{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" | truncate | size }}`, "50"},
		{"standard filter with optional arguments given", `{{ "abcdef" | truncate: 4, "!" }}`, "abc!"},
		{"math on attributes", `{{ customer.visits | plus: 2 | times: 1.5 | round }}`, "8"},
		{"sort and reverse an attribute list", `{{ customer.tags | sort | reverse | join: "," }}`, "vip,beta"},
		{"slice", `{{ customer.first_name | slice: 0, 2 }}`, "Ad"},
		{"escape", `{{ "<b>" | escape }}`, "&lt;b&gt;"},
	})
}

func TestRenderNamespaces(t *testing.T) {
	t.Parallel()
	ctx := func() *Context {
		return &Context{
			Customer:             map[string]any{"id": "p1"},
			CustomerRelationship: map[string]any{"role": "patient"},
			Event: &Event{Name: "viewed_listing", ID: "ev1", Timestamp: 1700000000,
				Data: map[string]any{"listing_id": "L9"}},
			Trigger: &Trigger{ObjectType: "appointment",
				Object:       map[string]any{"object_id": "a1", "kind": "therapy"},
				Relationship: map[string]any{"user_role": "patient"},
				Customer:     map[string]any{"id": "p2"},
				Data:         map[string]any{"coupon": "X1"}},
			Journey:  map[string]any{"step": float64(2)},
			Campaign: map[string]any{"id": float64(7), "type": "object"},
			Message:  map[string]any{"id": float64(70), "subject": "Hi"},
			Snippets: map[string]string{"sig": "— {{ campaign.type }} team"},
		}
	}
	runCases(t, New(Options{}), ctx, []renderCase{
		{"customer relationship", "{{ customer._relationship.role }}", "patient"},
		{"event data", "{{ event.listing_id }}", "L9"},
		{"event name, id and timestamp", "{{ event_name }} {{ event_id }} {{ event_timestamp }}", "viewed_listing ev1 1700000000"},
		{"trigger object by singular slug", "{{ trigger.appointment.kind }} {{ trigger.appointment.object_id }}", "therapy a1"},
		{"trigger relationship", "{{ trigger.relationship.user_role }}", "patient"},
		{"trigger customer", "{{ trigger.customer.id }}", "p2"},
		{"API trigger data", "{{ trigger.coupon }}", "X1"},
		{"journey campaign message", "{{ journey.step }} {{ campaign.id }} {{ message.subject }}", "2 7 Hi"},
		{"snippet rendered with the same context", "{{ snippets.sig }}", "— object team"},
	})
}

func TestRenderFieldsNamesTheFailingField(t *testing.T) {
	t.Parallel()
	e := New(Options{})
	got, err := e.RenderFields(context.Background(), map[string]string{
		"subject": "Hi {{ customer.first_name }}", "body": "{{ customer.email }}",
	}, testContext())
	if err != nil {
		t.Fatal(err)
	}
	if got["subject"] != "Hi Ada" || got["body"] != "ada@example.com" {
		t.Errorf("got %v", got)
	}
	_, err = e.RenderFields(context.Background(), map[string]string{
		"subject": "ok", "body": "line one\n{{ customer.nope }}",
	}, testContext())
	var le *Error
	if !errors.As(err, &le) || le.Field != "body" || le.Variable != "customer.nope" || le.Line != 2 {
		t.Fatalf("err = %#v, want a missing customer.nope in body at line 2", err)
	}
	if !strings.HasPrefix(err.Error(), "body: line 2: ") {
		t.Errorf("message %q does not start with field and line", err.Error())
	}
}

func TestErrorUnwrapsToHeraldError(t *testing.T) {
	t.Parallel()
	e := New(Options{})
	for _, tc := range []struct {
		name string
		src  string
		code herald.Code
		kind Kind
	}{
		{"missing variable is invalid", "{{ customer.nope }}", herald.Invalid, MissingFailure},
		{"syntax error is invalid", "{% if %}", herald.Invalid, SyntaxFailure},
		{"unknown filter is invalid", "{{ 1 | nosuchfilter }}", herald.Invalid, RenderFailure},
		{"output over the limit is too large", `{{ "x" | append: "y" | replace: "", customer.first_name }}{% for i in (1..2000000) %}xxxx{% endfor %}`, herald.TooLarge, LimitFailure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.Render(context.Background(), tc.src, testContext())
			if got := herald.ErrorCode(err); got != tc.code {
				t.Errorf("ErrorCode = %q, want %q (err %v)", got, tc.code, err)
			}
			var le *Error
			if !errors.As(err, &le) || le.Kind != tc.kind {
				t.Errorf("err = %v, want kind %q", err, tc.kind)
			}
		})
	}
}

func TestParseReportsLine(t *testing.T) {
	t.Parallel()
	e := New(Options{})
	err := e.Parse("Hello\n\n{% if customer.x %}\nno end")
	var le *Error
	if !errors.As(err, &le) || le.Kind != SyntaxFailure || le.Line != 3 {
		t.Fatalf("Parse error = %#v, want a syntax error on line 3", err)
	}
	err = e.Parse("{% if a b c %}{% endif %}")
	if err == nil || strings.Contains(err.Error(), leniencyClause) {
		t.Errorf("Parse error %v shows the engine's own rewrite of the condition", err)
	}
	if err := e.Parse("{{ customer.first_name }}"); err != nil {
		t.Errorf("Parse of a valid template: %v", err)
	}
}

func TestCacheParsesOnceAndEvicts(t *testing.T) {
	t.Parallel()
	e := New(Options{CacheSize: 2})
	a, _ := e.parse("a {{ customer.id }}")
	again, _ := e.parse("a {{ customer.id }}")
	if a != again {
		t.Error("the second parse of the same source did not come from the cache")
	}
	e.parse("b")
	e.parse("c")
	if n := e.cache.len(); n != 2 {
		t.Errorf("cache holds %d templates, want 2", n)
	}
	if _, _, ok := e.cache.get("a {{ customer.id }}"); ok {
		t.Error("the least recently used template was not evicted")
	}
}

func TestRenderIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	e := New(Options{})
	c := testContext()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				got, err := e.Render(context.Background(), "{% for t in customer.tags %}{{ t | upcase }}{% endfor %}", c)
				if err != nil || got != "VIPBETA" {
					t.Errorf("got %q, %v", got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestFromAttributes(t *testing.T) {
	t.Parallel()
	m := FromAttributes(herald.Attributes{
		"name": []byte(`"Ada"`), "visits": []byte(`12`), "id": []byte(`9007199254740993`),
		"score": []byte(`4.5`), "tags": []byte(`["a","b"]`), "nested": []byte(`{"x":true}`),
		"broken": []byte(`{not json`),
	})
	got, err := New(Options{}).Render(context.Background(),
		`{{ customer.name }} {{ customer.visits | plus: 1 }} {{ customer.id }} {{ customer.score }} {{ customer.tags | join: "," }} {{ customer.nested.x }} {{ customer.broken }}`,
		&Context{Customer: m})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Ada 13 9007199254740993 4.5 a,b true {not json"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if FromAttributes(nil) != nil {
		t.Error("FromAttributes(nil) is not nil")
	}
}

func TestRenderWithoutContext(t *testing.T) {
	t.Parallel()
	got, err := New(Options{}).Render(context.Background(), "Hello{{ customer.id }}{{ objects.x.size }}", nil)
	if err != nil || got != "Hello0" {
		t.Fatalf("got %q, %v; want Hello0", got, err)
	}
}

func TestTriggerObjectNamedLikeANamespace(t *testing.T) {
	t.Parallel()
	c := &Context{Trigger: &Trigger{ObjectType: "customer", Object: map[string]any{"name": "Acme"},
		Customer: map[string]any{"id": "p9"}}}
	got, err := New(Options{}).Render(context.Background(), "{{ trigger._customer.name }} {{ trigger.customer.id }}", c)
	if err != nil || got != "Acme p9" {
		t.Fatalf("got %q, %v; want the object under trigger._customer", got, err)
	}
}
