package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/testdb"
)

// TestApplyCommand: herald apply against a running server's store refuses a directory with an
// invalid definition (exit status 1, the file and JSON path on stderr) and writes nothing from
// it, not even its valid files; fixed, it creates everything, starts the campaign and the App
// API shows it; applied again it changes nothing.
func TestApplyCommand(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		s := startServer(t, dsn)
		dir := t.TempDir()
		write := func(name, body string) {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("model.yaml", "object_types:\n  - name: Companies\nsegments:\n  - name: Admins\n    conditions: {relationship_attribute: {type_id: companies, field: user_role, operator: eq, value: admin}}\n")
		write("campaigns.yaml", "campaigns:\n  - name: Welcome admins\n    state: running\n    trigger: {type: x}\n    workflow: [{send: {channel: email, fields: {subject: Hi, body: Hello}}}]\n")

		out, err := s.runApply(dir)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Fatalf("apply of an invalid file: %v\n%s", err, out)
		}
		if want := filepath.Join(dir, "campaigns.yaml") + `: campaigns[0].trigger.type: unknown trigger "x"`; !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
		for _, path := range []string{"/v1/object_types", "/v1/segments", "/v1/campaigns"} {
			if st, b := s.app("GET", path, nil); st != 200 || strings.Contains(string(b), `"name"`) {
				t.Errorf("GET %s after a refused apply: %d %s", path, st, b)
			}
		}

		write("campaigns.yaml", "campaigns:\n  - name: Welcome admins\n    state: running\n    trigger: {type: segment_entered, segment: Admins}\n    workflow: [{send: {channel: email, fields: {subject: Hi, body: Hello}}}]\n")
		out = s.apply(t, dir)
		for _, want := range []string{`object_type "Companies" created (id 1)`, `segment "Admins" created (id 1)`, `campaign "Welcome admins" created (id 1), started`} {
			if !strings.Contains(out, want) {
				t.Errorf("apply output lacks %q:\n%s", want, out)
			}
		}
		if st, b := s.app("GET", "/v1/campaigns/1", nil); st != 200 || !strings.Contains(string(b), `"state":"running"`) || !strings.Contains(string(b), `"trigger_segment_ids":[1]`) {
			t.Errorf("campaign after apply: %d %s", st, b)
		}
		if out := s.apply(t, dir); strings.Count(out, " unchanged") != 3 {
			t.Errorf("second apply:\n%s", out)
		}
	})
}
