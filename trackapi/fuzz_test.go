package trackapi_test

import (
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/trackapi"
)

// FuzzParseBatch feeds arbitrary bodies to the v2 batch parser: it must never panic, and every
// operation it accepts must be valid.
func FuzzParseBatch(f *testing.F) {
	for _, seed := range []string{
		`{"batch":[{"type":"person","action":"identify","identifiers":{"id":"1"},"attributes":{"a":1}}]}`,
		`{"batch":[{"type":"object","action":"identify","identifiers":{"object_type_id":"1","object_id":"acme"},"cio_relationships":[{"identifiers":{"email":"a@b.c"},"relationship_attributes":{"role":"admin"}}]}]}`,
		`{"batch":[{"type":"person","action":"merge","primary":{"id":"1"},"secondary":{"email":"x@y.z"}}]}`,
		`{"batch":[{"type":"person","action":"add_device","identifiers":{"cio_id":"abc"},"device":{"token":"t","platform":"ios"}}]}`,
		`{"batch":[{"type":"object","action":"identify_anonymous","identifiers":{"cio_object_id":"ob1"},"cio_relationships":[{"identifiers":{"anonymous_id":"a"}}]}]}`,
		`{"batch":[{"type":"person","action":"event","identifiers":{"anonymous_id":"a"},"name":"x","timestamp":"12"}]}`,
		`{"batch":[1,"x",null,{}]}`, `{"batch":{}}`, `[]`, ``, `{"batch":[{"type":"object","identifiers":{"object_type_id":-1}}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ops, errs, err := trackapi.ParseBatch(body)
		if err != nil {
			if herald.AsError(err).Field == "" {
				t.Errorf("whole-body error without a field: %v", err)
			}
			return
		}
		for i, op := range ops {
			if errs[i] != nil {
				if op != nil {
					t.Errorf("op %d has both an op and an error", i)
				}
				continue
			}
			if err := op.Validate(); err != nil {
				t.Errorf("op %d accepted but invalid: %v", i, err)
			}
		}
	})
}
