package manifest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/manifest"
	"github.com/heraldhq/herald/store"
)

const base = `
object_types:
  - name: Companies
    singular_name: Company
snippets:
  - name: footer
    value: "Collaboo, 1 Main St"
segments:
  - name: Admins
    conditions:
      related:
        type_id: companies
        relationship: {attribute: {field: user_role, operator: eq, value: admin}}
  - name: New admins
    description: admins who signed up this week
    conditions:
      and:
        - segment: {name: Admins}
        - attribute: {field: created_at, operator: less_than_days_ago, value: 7}
  - name: Beta testers
templates:
  - name: admin-welcome
    content:
      subject: "Welcome, {{ customer.first_name }}"
      body: "<p>Set up your team.</p>{{ snippets.footer }}"
`

const campaigns = `
campaigns:
  - name: Admin onboarding
    state: running
    trigger: {type: segment_entered, segment: New admins}
    filter: {not: {segment: {name: Beta testers}}}
    workflow:
      - send: {channel: email, template: admin-welcome}
      - delay: 1d
      - segment: {name: Beta testers, action: add}
`

// write writes manifest files to a directory of their own.
func write(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func compact(raw []byte) string {
	var b bytes.Buffer
	json.Compact(&b, raw)
	return b.String()
}

func apply(t *testing.T, s *store.Store, ws int64, path string) ([]string, error) {
	t.Helper()
	set, err := manifest.Load(path)
	if err != nil {
		return nil, err
	}
	changes, err := manifest.Apply(context.Background(), s, ws, set)
	var out []string
	for _, c := range changes {
		out = append(out, c.String())
	}
	return out, err
}

func TestApplyCreatesUpdatesAndLeavesAlone(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		s, ws := testdb.OpenStore(t, dsn, herald.Workspace{})
		ctx := context.Background()
		dir := write(t, map[string]string{"1-base.yaml": base, "2-campaigns.yml": campaigns})

		got, err := apply(t, s, ws.ID, dir)
		if err != nil {
			t.Fatalf("first apply: %v", err)
		}
		want := []string{`object_type "Companies" created (id 1)`, `snippet "footer" created`,
			`segment "Admins" created (id 1)`, `segment "New admins" created (id 2)`, `segment "Beta testers" created (id 3)`,
			`template "admin-welcome" created (id 1)`, `campaign "Admin onboarding" created (id 1), started`}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("first apply:\n got %q\nwant %q", got, want)
		}
		c, err := s.Campaign(ctx, ws.ID, 1)
		if err != nil || c.State != herald.CampaignRunning {
			t.Fatalf("campaign = %+v, %v; want it running", c, err)
		}
		def, err := herald.ParseCampaign(c.Definition, "campaign")
		if err != nil {
			t.Fatal(err)
		}
		if def.Trigger.SegmentID != 2 || !reflect.DeepEqual(def.Filter.SegmentRefs(), []int64{3}) || def.Workflow[2].Segment.ID != 3 {
			t.Errorf("names not resolved: trigger segment %d, filter %v, step %+v", def.Trigger.SegmentID, def.Filter.SegmentRefs(), def.Workflow[2].Segment)
		}
		g, _ := s.Segment(ctx, ws.ID, 2)
		if !strings.Contains(compact(g.Conditions), `{"segment":{"id":1}}`) || g.Description != "admins who signed up this week" {
			t.Errorf("New admins = %s %q", g.Conditions, g.Description)
		}
		if g, _ := s.Segment(ctx, ws.ID, 1); !strings.Contains(compact(g.Conditions), `"type_id":1`) {
			t.Errorf("Admins conditions = %s, want type_id 1", g.Conditions)
		}

		// The same files again change nothing.
		got, err = apply(t, s, ws.ID, dir)
		if err != nil {
			t.Fatalf("second apply: %v", err)
		}
		for _, line := range got {
			if !strings.Contains(line, " unchanged") || strings.HasSuffix(line, "started") {
				t.Errorf("second apply: %s", line)
			}
		}
		if c, _ := s.Campaign(ctx, ws.ID, 1); c.Version != 1 {
			t.Errorf("campaign version %d after an unchanged apply, want 1", c.Version)
		}

		// Changed definitions are updated; a stopped state stops the campaign.
		changed := strings.Replace(base, "Set up your team.", "Invite your team.", 1)
		changed = strings.Replace(changed, "    singular_name: Company\n", "    singular_name: Company\n    icon: building\n", 1)
		moreCampaigns := strings.Replace(campaigns, "delay: 1d", "delay: 2d", 1)
		moreCampaigns = strings.Replace(moreCampaigns, "state: running", "state: stopped", 1)
		dir2 := write(t, map[string]string{"1-base.yaml": changed, "2-campaigns.yml": moreCampaigns})
		got, err = apply(t, s, ws.ID, dir2)
		if err != nil {
			t.Fatalf("third apply: %v", err)
		}
		want = []string{`object_type "Companies" updated (id 1)`, `snippet "footer" unchanged`,
			`segment "Admins" unchanged (id 1)`, `segment "New admins" unchanged (id 2)`, `segment "Beta testers" unchanged (id 3)`,
			`template "admin-welcome" updated (id 1)`, `campaign "Admin onboarding" updated (id 1), stopped`}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("third apply:\n got %q\nwant %q", got, want)
		}
		c, _ = s.Campaign(ctx, ws.ID, 1)
		def, _ = herald.ParseCampaign(c.Definition, "campaign")
		if c.Version != 2 || c.State != herald.CampaignStopped || def.Workflow[1].Delay.Hours() != 48 {
			t.Errorf("campaign after update: version %d state %s delay %v", c.Version, c.State, def.Workflow[1].Delay)
		}
		if tm, _ := s.Template(ctx, ws.ID, "admin-welcome"); !strings.Contains(tm.Fields["body"], "Invite your team.") {
			t.Errorf("template body = %q", tm.Fields["body"])
		}
		if types, _ := s.ObjectTypes(ctx, ws.ID); len(types) != 1 || types[0].Icon != "building" {
			t.Errorf("object types = %+v", types)
		}
	})
}

func TestApplyRefusesInvalidDefinitionsWithTheirPath(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		s, ws := testdb.OpenStore(t, dsn, herald.Workspace{})
		ctx := context.Background()
		good := "object_types:\n  - name: Companies\n"
		for _, tc := range []struct {
			name, file, body, want string
		}{
			{"unknown trigger", "campaigns.yaml", "campaigns:\n  - name: x\n    trigger: {type: x}\n    workflow: [{exit: {}}]\n",
				`campaigns.yaml: campaigns[0].trigger.type: unknown trigger "x"`},
			{"bad step in a second document", "c.yaml", "segments: [{name: A}]\n---\ncampaigns:\n  - name: ok\n    trigger: {type: api}\n    workflow: [{exit: {}}]\n  - name: bad\n    trigger: {type: api}\n    workflow:\n      - delay: soon\n",
				`c.yaml (document 2): campaigns[1].workflow[0].delay: must be a duration`},
			{"unknown segment name", "c.json", `{"campaigns":[{"name":"x","trigger":{"type":"segment_entered","segment":"Nobody"},"workflow":[{"exit":{}}]}]}`,
				`c.json: campaigns[0].trigger.segment: no segment is named "Nobody"`},
			{"unknown object type", "s.yaml", "segments:\n  - name: S\n    conditions: {related: {type_id: planets}}\n",
				`s.yaml: segments[0].conditions.related.type_id: no object type is named "planets"`},
			{"bad operator", "s.yaml", "segments:\n  - name: S\n    conditions: {and: [{attribute: {field: plan, operator: is, value: x}}]}\n",
				`s.yaml: segments[0].conditions.and[0].attribute.operator`},
			{"unknown template", "c.yaml", "campaigns:\n  - name: x\n    trigger: {type: api}\n    workflow: [{send: {channel: email, template: nope}}]\n",
				`c.yaml: campaigns[0].workflow[0].send.template: no template is named "nope"`},
			{"bad channel", "t.yaml", "templates:\n  - name: t\n    channel: fax\n    content: {body: hi}\n",
				`t.yaml: templates[0].channel: must be email, sms, push, in_app or webhook, got "fax"`},
			{"bad template field", "t.yaml", "templates:\n  - name: t\n    channel: sms\n    content: {subject: hi}\n",
				`t.yaml: templates[0].content.subject: is not a field of sms messages`},
			{"unknown key", "o.yaml", "object_types:\n  - name: Companies\n    colour: red\n",
				`o.yaml: object_types[0]: must be an object type`},
			{"unknown section", "o.yaml", "objects: []\n", `o.yaml: objects: unknown section`},
			{"missing name", "s.yaml", "segments:\n  - description: nameless\n", `s.yaml: segments[0].name: is required`},
			{"bad state", "c.yaml", "campaigns:\n  - name: x\n    state: paused\n    trigger: {type: api}\n    workflow: [{exit: {}}]\n",
				`c.yaml: campaigns[0].state: must be running or stopped`},
			{"duplicate", "s.yaml", "segments: [{name: A}, {name: A}]\n", `s.yaml: segments[1].name: segment "A" is also defined at`},
			{"cycle", "s.yaml", "segments:\n  - {name: A, conditions: {segment: {name: B}}}\n  - {name: B, conditions: {segment: {name: A}}}\n",
				`segments name each other in a cycle`},
			{"yaml syntax", "y.yaml", "segments: [\n", `y.yaml: yaml:`},
			{"json syntax", "j.json", `{"segments": [}`, `j.json: invalid character`},
			{"segment step on a data-driven segment", "c.yaml", "segments:\n  - {name: Admins, conditions: {attribute: {field: role, operator: eq, value: admin}}}\ncampaigns:\n  - name: x\n    trigger: {type: api}\n    workflow: [{segment: {name: Admins, action: add}}]\n",
				`c.yaml: campaigns[0].workflow[0].segment.name: segment "Admins" is data-driven; a segment step needs a manual segment`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				// A valid file beside the bad one is not applied either.
				dir := write(t, map[string]string{"0-good.yaml": good, tc.file: tc.body})
				got, err := apply(t, s, ws.ID, dir)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("apply = %v, %v; want an error containing %q", got, err, tc.want)
				}
				if len(got) != 0 {
					t.Errorf("applied %v despite the error", got)
				}
				if types, _ := s.ObjectTypes(ctx, ws.ID); len(types) != 0 {
					t.Errorf("object types %+v were written despite the error", types)
				}
			})
		}
		if segs, _ := s.Segments(ctx, ws.ID); len(segs) != 0 {
			t.Errorf("segments %+v were written by invalid manifests", segs)
		}
		if cs, _ := s.Campaigns(ctx, ws.ID); len(cs) != 0 {
			t.Errorf("campaigns %+v were written by invalid manifests", cs)
		}
	})
}

// TestReadmeAndExamplesApply: the README's manifest and every example under examples/ apply
// to a fresh workspace, and a second run changes nothing.
func TestReadmeAndExamplesApply(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "## Definitions as code")
	_, block, ok2 := strings.Cut(rest, "```yaml\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("the README has no yaml block under Definitions as code")
	}
	paths := map[string]string{"README": write(t, map[string]string{"readme.yaml": block})}
	examples, _ := filepath.Glob("../examples/*")
	for _, dir := range examples {
		if info, err := os.Stat(dir); err == nil && info.IsDir() {
			paths[filepath.Base(dir)] = dir
		}
	}
	if len(paths) < 6 {
		t.Errorf("found %d manifests, want the README's and five examples: %v", len(paths), paths)
	}
	for name, path := range paths {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, ws := testdb.OpenStore(t, "", herald.Workspace{})
			first, err := apply(t, s, ws.ID, path)
			if err != nil || len(first) == 0 {
				t.Fatalf("apply = %v, %v", first, err)
			}
			again, err := apply(t, s, ws.ID, path)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range again {
				if !strings.Contains(line, " unchanged") {
					t.Errorf("second apply: %s", line)
				}
			}
		})
	}
}
