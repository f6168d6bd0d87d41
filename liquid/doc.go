// Package liquid renders Herald's message templates: Liquid as Customer.io speaks it, on
// github.com/osteele/liquid. It owns the render context (customer, event, trigger, objects,
// journey, campaign, message, snippets), Customer.io's filters and tags, the rule that a
// missing variable fails the send, and the limits that keep one template from stalling a
// worker. Templates are parsed once and cached.
//
// # Missing variables
//
// A variable missing from a namespace the Context has (customer.nickname, objects.accounts[0]
// when there are none) fails the render with a MissingFailure naming its path, wherever its
// value is used: output, filter input or argument, loop collection, range bound. It does not
// fail where Customer.io lets it pass: as the input of | default:, in an if, elsif or unless
// condition (where it is false), or in a comparison. A namespace the Context lacks (event.*
// for a segment-triggered send) renders empty, as in Customer.io. A map or array a filter
// makes from a context value stays strict ({% assign d = objects.people | first %}{{ d.nmae }}
// fails naming "objects.people | first.nmae"); one made from literals (| from_json on a
// string) is a plain Liquid value, where a missing key renders empty.
//
// # Filters and tags
//
// Besides osteele's standard filters: date (with an optional time zone: date: "%B %d, %Y",
// "America/New_York"; dates are unix seconds, numeric strings, ISO 8601, "now"), timezone,
// add_minute … add_year and subtract_minute … subtract_year (unix seconds in and out), currency,
// rounded_currency, format_number, titlecase, slugify, pluralize ("3 items"), hmac_sha256,
// hex_base64, base64_encode, base64_decode, base64_url_safe_encode, base64_url_safe_decode,
// json, to_json, from_json, find, find_exp, where_exp, where_not and default (with
// allow_false). Tags: unsubscribe_url, manage_subscription_preferences_url,
// view_in_browser_url (from Context.URLs) and generate_uuid. include and render are removed:
// templates cannot read files; snippets are the way to share fragments.
//
// # Limits
//
// A render stops with a LimitFailure when it runs past Options.Timeout or the context's
// deadline (loops check the clock on every iteration), when its output or any string it
// builds passes Options.MaxOutput, or when a type has more than Options.MaxObjects related
// objects. Snippets nest at most four deep.
package liquid
