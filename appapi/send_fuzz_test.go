package appapi

import (
	"encoding/json"
	"testing"

	"github.com/heraldhq/herald"
)

// FuzzSendBody: any JSON body either becomes a valid-looking request or an error that names
// a field; it never panics.
func FuzzSendBody(f *testing.F) {
	for _, s := range []string{
		`{"transactional_message_id":1,"to":"a@example.com","identifiers":{"id":"ann"},"message_data":{"x":1}}`,
		`{"identifiers":{"email":"a@example.com"},"subject":"s","body":"b","headers":{"X-A":"1"}}`,
		`{"identifiers":{"id":7},"title":"t","message":"m","custom_device":{"token":"tok","platform":"ios"},"custom_data":{"k":"v"}}`,
		`{"identifiers":{"cio_id":"c1"},"trigger_object":{"object_type_id":"1","object_id":"acme"},"type":"in_app","content":{"body":"x"}}`,
		`{"identifiers":{},"bcc":"x"}`,
	} {
		f.Add(s, "email")
	}
	f.Fuzz(func(t *testing.T, body, channel string) {
		var b sendBody
		if json.Unmarshal([]byte(body), &b) != nil {
			return
		}
		req, err := b.request(1, herald.Channel(channel))
		if err != nil {
			if e := herald.AsError(err); e.Field == "" {
				t.Fatalf("error without a field: %v", err)
			}
			return
		}
		if req.Person.IsZero() {
			t.Fatalf("accepted %s without a recipient", body)
		}
	})
}
