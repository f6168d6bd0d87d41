package liquid

import (
	"context"
	"errors"
	"testing"
)

// filterContext has a timestamp (2023-11-14 22:13:20 UTC) and a few values to format.
func filterContext() *Context {
	c := testContext()
	c.Customer["ts"] = float64(1700000000)
	c.Customer["ts_string"] = "1700000000"
	c.Customer["iso"] = "2023-11-14T22:13:20Z"
	c.Customer["price"] = 1234.5
	c.Customer["big"] = float64(1234567.891)
	c.Customer["people"] = []any{
		map[string]any{"name": "Dr. Lee", "role": "doctor", "age": float64(50)},
		map[string]any{"name": "Sam", "role": "patient", "age": float64(30)},
		map[string]any{"name": "Kim", "role": "patient", "age": float64(40)},
	}
	return c
}

func TestDateFilters(t *testing.T) {
	t.Parallel()
	runCases(t, New(Options{}), filterContext, []renderCase{
		{"date from unix seconds", `{{ customer.ts | date: "%Y-%m-%d %H:%M" }}`, "2023-11-14 22:13"},
		{"date from a numeric string", `{{ customer.ts_string | date: "%F" }}`, "2023-11-14"},
		{"date from ISO 8601", `{{ customer.iso | date: "%s" }}`, "1700000000"},
		{"date in a time zone", `{{ customer.ts | date: "%B %d, %Y %I:%M %p", "America/New_York" }}`, "November 14, 2023 05:13 PM"},
		{"date in another zone", `{{ customer.ts | date: "%d %H:%M %Z", "Asia/Tokyo" }}`, "15 07:13 JST"},
		{"date with the default format", `{{ customer.ts | date }}`, "Tue, Nov 14, 23"},
		{"timezone then date", `{{ customer.ts | timezone: "America/New_York" | date: "%H:%M" }}`, "17:13"},
		{"add_day", `{{ customer.ts | add_day: 1 }}`, "1700086400"},
		{"add_day without an amount adds one", `{{ customer.ts | add_day }}`, "1700086400"},
		{"add_week", `{{ customer.ts | add_week: 2 }}`, "1701209600"},
		{"add_month", `{{ customer.ts | add_month: 1 }}`, "1702592000"},
		{"add_minute", `{{ customer.ts | add_minute: 90 }}`, "1700005400"},
		{"subtract_hour", `{{ customer.ts | subtract_hour: 1 }}`, "1699996400"},
		{"subtract_year", `{{ customer.ts | subtract_year: 1 }}`, "1668464000"},
		{"date math chains into date", `{{ customer.iso | add_day: 1 | date: "%F" }}`, "2023-11-15"},
	})
}

func TestTextAndNumberFilters(t *testing.T) {
	t.Parallel()
	runCases(t, New(Options{}), filterContext, []renderCase{
		{"titlecase", `{{ "dr. ada lovelace-byron" | titlecase }}`, "Dr. Ada Lovelace-Byron"},
		{"slugify", `{{ "  Madison, WI: City Tour! " | slugify }}`, "madison-wi-city-tour"},
		{"pluralize many", `{{ 3 | pluralize: "item" }}`, "3 items"},
		{"pluralize one", `{{ 1 | pluralize: "item", "items" }}`, "1 item"},
		{"pluralize irregular", `{{ customer.visits | pluralize: "person", "people" }}`, "3 people"},
		{"currency default", `{{ customer.price | currency }}`, "$1,234.50"},
		{"currency by code", `{{ 9 | currency: "EUR" }}`, "€9.00"},
		{"currency without decimals", `{{ 1500 | currency: "JPY" }}`, "¥1,500"},
		{"currency negative", `{{ -5.5 | currency }}`, "-$5.50"},
		{"currency with a custom symbol", `{{ 5 | currency: "CHF " }}`, "CHF 5.00"},
		{"rounded_currency", `{{ customer.price | rounded_currency }}`, "$1,235"},
		{"format_number", `{{ customer.big | format_number }}`, "1,234,567.89"},
		{"format_number of a whole number", `{{ 1234567 | format_number }}`, "1,234,567"},
		{"format_number of a fraction", `{{ 1234.5678 | format_number }}`, "1,234.57"},
		{"format_number with decimals and separators", `{{ customer.big | format_number: 1, ".", "," }}`, "1.234.567,9"},
		{"currency of a string attribute", `{{ "10" | currency }}`, "$10.00"},
	})
}

func TestDataFilters(t *testing.T) {
	t.Parallel()
	runCases(t, New(Options{}), filterContext, []renderCase{
		{"hmac_sha256", `{{ "hello" | hmac_sha256: "secret" }}`, "88aab3ede8d3adf94d26ab90d3bafd4a2083070c3bcce9c014ee04a443847c0b"},
		{"hex_base64", `{{ "48656c6c6f" | hex_base64 }}`, "SGVsbG8="},
		{"base64_encode", `{{ "hi?>" | base64_encode }}`, "aGk/Pg=="},
		{"base64_decode", `{{ "aGk/Pg==" | base64_decode }}`, "hi?>"},
		{"base64_url_safe_encode", `{{ "hi?>" | base64_url_safe_encode }}`, "aGk_Pg=="},
		{"base64_url_safe_decode", `{{ "aGk_Pg" | base64_url_safe_decode }}`, "hi?>"},
		{"json of an object", `{{ customer.address | json }}`, `{"city":"Madison"}`},
		{"to_json of a string", `{{ customer.first_name | to_json }}`, `"Ada"`},
		{"from_json", `{% assign d = '{"a":{"b":[1,2]}}' | from_json %}{{ d.a.b[1] }}`, "2"},
		{"where_exp", `{{ customer.people | where_exp: "p", "p.age > 35" | map: "name" | join: "," }}`, "Dr. Lee,Kim"},
		{"where_exp with and", `{{ customer.people | where_exp: "p", "p.role == 'patient' and p.age < 35" | map: "name" | join }}`, "Sam"},
		{"find", `{{ customer.people | find: "role", "doctor" | json }}`, `{"age":50,"name":"Dr. Lee","role":"doctor"}`},
		{"find then property", `{% assign d = customer.people | find: "role", "patient" %}{{ d.name }}`, "Sam"},
		{"find nothing", `{% assign d = customer.people | find: "role", "nurse" %}[{{ d }}]`, "[]"},
		{"find_exp", `{% assign d = customer.people | find_exp: "p", "p.age == 40" %}{{ d.name }}`, "Kim"},
		{"where_not", `{{ customer.people | where_not: "role", "patient" | map: "name" | join }}`, "Dr. Lee"},
		{"where on a dotted property", `{{ customer.people | where: "role", "doctor" | size }}`, "1"},
	})
}

func TestFilterFailures(t *testing.T) {
	t.Parallel()
	e := New(Options{})
	for _, tc := range []struct{ name, src string }{
		{"unknown time zone", `{{ customer.ts | date: "%F", "Mars/Olympus" }}`},
		{"not a date", `{{ "soon" | date: "%F" }}`},
		{"not a number", `{{ "ten" | currency }}`},
		{"bad base64", `{{ "%%%" | base64_decode }}`},
		{"bad JSON", `{{ "{" | from_json }}`},
		{"bad hex", `{{ "xyz" | hex_base64 }}`},
		{"fractional date math", `{{ customer.ts | add_day: 1.5 }}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.Render(context.Background(), tc.src, filterContext())
			var le *Error
			if !errors.As(err, &le) || le.Kind != RenderFailure || le.Line != 1 {
				t.Fatalf("err = %#v, want a render failure on line 1", err)
			}
		})
	}
}
