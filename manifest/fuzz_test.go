package manifest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/heraldhq/herald/manifest"
)

// FuzzParse: any file content parses into definitions or is refused with a *FileError or a
// decoding error naming the file; it never panics.
func FuzzParse(f *testing.F) {
	f.Add(false, []byte(base+campaigns))
	f.Add(false, []byte("segments: [{name: A}]\n---\ncampaigns:\n  - {name: x, state: running, trigger: {type: api}, workflow: [{exit: {}}]}\n"))
	f.Add(true, []byte(`{"campaigns":[{"name":"x","trigger":{"type":"segment_entered","segment":"A"},"workflow":[{"exit":{}}]}]}`))
	f.Add(false, []byte("object_types: {name: x}\n"))
	f.Add(false, []byte("? [a, b]\n: c\n"))
	f.Fuzz(func(t *testing.T, isJSON bool, data []byte) {
		name := "m.yaml"
		if isJSON {
			name = "m.json"
		}
		set, err := manifest.Parse(name, data)
		if err != nil {
			var fe *manifest.FileError
			if errors.As(err, &fe) && !strings.HasPrefix(fe.File, name) {
				t.Fatalf("a file error without its file: %v", err)
			}
			return
		}
		for _, d := range set.Campaigns {
			if d.Name == "" || len(d.Definition) == 0 {
				t.Fatalf("campaign parsed without a name or definition: %+v", d)
			}
		}
	})
}
