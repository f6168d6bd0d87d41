package liquid

import (
	"context"
	"testing"

	"github.com/osteele/liquid"
)

// benchTemplate is a typical object-triggered email: recipient, trigger object, relationship,
// a loop over three related objects with their relationships, filters and a fallback.
const benchTemplate = `Hi {{ customer.first_name | default: "there" }},
your {{ trigger.appointment.appointment_type }} appointment is on {{ trigger.appointment.starts_at | date: "%B %-d at %-I:%M %p" }}
({{ trigger.relationship.user_role }}).
{% for p in objects.providers %}- {{ p.name | upcase }} ({{ p.relationship.user_role }}){% if forloop.last %}.{% else %},{% endif %}
{% endfor %}Survey: {{ trigger.appointment.survey_url }}?id={{ trigger.appointment.object_id }}&e={{ customer.email | url_encode }}
{% if customer.plan == "pro" %}Thanks for being a Pro member since {{ customer.since }}.{% endif %}`

func benchData() (customer, appointment, relationship map[string]any, providers []map[string]any) {
	customer = map[string]any{"id": "p1", "email": "jo@example.com", "cio_id": "c1",
		"first_name": "Jo", "plan": "pro", "since": float64(2019)}
	appointment = map[string]any{"object_id": "a1", "appointment_type": "therapy",
		"starts_at": float64(1765900800), "survey_url": "https://t.example/s"}
	relationship = map[string]any{"user_role": "patient"}
	for _, n := range []string{"Lee", "Ortiz", "Kim"} {
		providers = append(providers, map[string]any{"object_id": n, "name": n,
			"relationship": map[string]any{"user_role": "doctor"}})
	}
	return
}

// BenchmarkRender renders benchTemplate through Engine with a full Context: a new Context per
// render, as per delivery, so objects are loaded through the loader every time.
func BenchmarkRender(b *testing.B) {
	customer, appointment, relationship, providers := benchData()
	loader := staticObjects{"providers": providers}
	e := New(Options{})
	ctx := context.Background()
	want := ""
	b.ReportAllocs()
	for b.Loop() {
		c := &Context{Customer: customer, Objects: loader,
			Trigger: &Trigger{ObjectType: "appointment", Object: appointment, Relationship: relationship}}
		out, err := e.Render(ctx, benchTemplate, c)
		if err != nil {
			b.Fatal(err)
		}
		if want == "" {
			want = out
		} else if out != want {
			b.Fatal("output changed between renders")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "renders/s")
}

// BenchmarkBare renders the same template with plain osteele/liquid and a plain map: the
// floor Engine's strictness, limits and lazy loading are measured against.
func BenchmarkBare(b *testing.B) {
	customer, appointment, relationship, providers := benchData()
	e := liquid.NewEngine()
	t, err := e.ParseString(benchTemplate)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		vars := map[string]any{
			"customer": customer,
			"trigger":  map[string]any{"appointment": appointment, "relationship": relationship},
			"objects":  map[string]any{"providers": providers},
		}
		if _, err := t.RenderString(vars); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "renders/s")
}

func TestBenchTemplateRendersTheSameBareAndThroughEngine(t *testing.T) {
	t.Parallel()
	customer, appointment, relationship, providers := benchData()
	got, err := New(Options{}).Render(context.Background(), benchTemplate, &Context{
		Customer: customer, Objects: staticObjects{"providers": providers},
		Trigger: &Trigger{ObjectType: "appointment", Object: appointment, Relationship: relationship}})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := liquid.NewEngine().ParseAndRenderString(benchTemplate, map[string]any{
		"customer": customer,
		"trigger":  map[string]any{"appointment": appointment, "relationship": relationship},
		"objects":  map[string]any{"providers": providers},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != bare {
		t.Errorf("Engine rendered\n%s\nbare osteele rendered\n%s", got, bare)
	}
}
