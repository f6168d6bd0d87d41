package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/testdb"
)

// TestReadmeWalkthrough runs the README's walkthrough and segment commands (curl) against the
// real binary on both engines, so that the README stays true.
func TestReadmeWalkthrough(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed; the README walkthrough needs it")
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, section := range []string{"## Walkthrough", "## Segments"} {
		_, rest, ok := strings.Cut(string(readme), section)
		_, block, ok2 := strings.Cut(rest, "```sh\n")
		block, _, ok3 := strings.Cut(block, "```")
		if !ok || !ok2 || !ok3 {
			t.Fatalf("the README has no %s shell block", section)
		}
		blocks = append(blocks, block)
	}
	var script []string
	for _, line := range strings.Split(strings.Join(blocks, "\n"), "\n") {
		if strings.HasPrefix(line, "export ") || strings.HasPrefix(line, "go run ") {
			continue // the test starts the server itself
		}
		script = append(script, line)
	}
	testdb.Engines(t, func(t *testing.T, dsn string) {
		s := startServer(t, dsn)
		text := strings.NewReplacer("localhost:8080", strings.TrimPrefix(s.URL, "http://"),
			"demo:demo-track", s.SiteID+":"+s.TrackKey, "Bearer demo-app", "Bearer "+s.AppKey).Replace(strings.Join(script, "\n"))
		out, err := exec.Command("bash", "-euo", "pipefail", "-c", text).CombinedOutput()
		if err != nil {
			t.Fatalf("walkthrough: %v\n%s", err, out)
		}
		for _, want := range []string{`"id":"1"`, `"plan":"enterprise"`, `"user_role":"admin"`, `"user_role":"contributor"`, `"type":"add_relationship"`,
			`"name":"VIP admins"`, `"type":"dynamic"`, `"count":0`, `"name":"Beta testers"`, `"type":"manual"`} {
			if !strings.Contains(string(out), want) {
				t.Errorf("walkthrough output does not contain %s:\n%s", want, out)
			}
		}
	})
}
