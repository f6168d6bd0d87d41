package herald_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyRule enforces the layout: adapters import the domain package, not each
// other; only cmd/herald (and the bench tool it runs) wires everything together.
func TestDependencyRule(t *testing.T) {
	t.Parallel()
	const mod = "github.com/heraldhq/herald"
	allowed := map[string][]string{
		"store":     nil,
		"trackapi":  nil,
		"appapi":    nil,
		"pipelines": nil,
		"importer":  nil,
		"retl":      {"importer"}, // a CSV-URL sync is an import on a schedule
		// delivery is a service, not an adapter: it renders with liquid; channel clients
		// reach it only through its own Sender interface, wired in cmd/herald.
		"delivery": {"liquid"},
		"liquid":   nil,
		"tracking": nil,
		"segment":  nil,
		"manifest": nil,
		// journey is a service too: its workflow conditions are the segment engine's compiled
		// conditions, evaluated for one person.
		"journey": {"segment"},
	}
	for pkg, ok := range allowed {
		out, err := exec.Command("go", "list", "-deps", mod+"/"+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			rest, inModule := strings.CutPrefix(dep, mod+"/")
			if !inModule || rest == pkg || strings.HasPrefix(rest, "internal/") {
				continue
			}
			permitted := false
			for _, a := range ok {
				permitted = permitted || a == rest
			}
			if !permitted {
				t.Errorf("%s imports %s; adapters may import only the domain package", pkg, rest)
			}
		}
	}
}
