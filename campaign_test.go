package herald_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

func TestParseCampaignRefusesBadDefinitions(t *testing.T) {
	t.Parallel()
	send := `{"send":{"channel":"email","fields":{"subject":"s","body":"b"}}}`
	cases := []struct{ name, def, field, message string }{
		{"no name", `{"trigger":{"type":"api"},"workflow":[` + send + `]}`, "campaign.name", "required"},
		{"unknown trigger", `{"name":"x","trigger":{"type":"sometimes"},"workflow":[` + send + `]}`, "campaign.trigger.type", "unknown trigger"},
		{"event without name", `{"name":"x","trigger":{"type":"event"},"workflow":[` + send + `]}`, "campaign.trigger.name", "required"},
		{"object trigger without type", `{"name":"x","trigger":{"type":"object_updated"},"workflow":[` + send + `]}`, "campaign.trigger.type_id", "object type id"},
		{"trigger person for object", `{"name":"x","trigger":{"type":"object_created","type_id":1,"audience":{"who":"trigger_person"}},"workflow":[` + send + `]}`, "campaign.trigger.audience.who", "relationship trigger"},
		{"empty workflow", `{"name":"x","trigger":{"type":"api"},"workflow":[]}`, "campaign.workflow", "at least one step"},
		{"bad channel", `{"name":"x","trigger":{"type":"api"},"workflow":[{"send":{"channel":"fax","fields":{"body":"b"}}}]}`, "campaign.workflow[0].send.channel", "must be email"},
		{"bad delay", `{"name":"x","trigger":{"type":"api"},"workflow":[{"delay":"soon"}]}`, "campaign.workflow[0].delay", "duration"},
		{"bad nested condition", `{"name":"x","trigger":{"type":"api"},"workflow":[{"branch":{"if":{"person":{"attribute":{"field":"a","operator":"is"}}},"then":[` + send + `]}}]}`,
			"campaign.workflow[0].branch.if.person.attribute.operator", "unknown operator"},
		{"duplicate step id", `{"name":"x","trigger":{"type":"api"},"workflow":[{"id":"a","delay":"1h"},{"id":"a","exit":true}]}`, "campaign.workflow[1].id", "used twice"},
		{"two kinds", `{"name":"x","trigger":{"type":"api"},"workflow":[{"delay":"1h","exit":true}]}`, "campaign.workflow[0]", "exactly one step kind"},
		{"update target", `{"name":"x","trigger":{"type":"api"},"workflow":[{"update":{"target":"world","attributes":{"a":1}}}]}`, "campaign.workflow[0].update.target", "must be person"},
		{"frequency", `{"name":"x","trigger":{"type":"api"},"frequency":"hourly","workflow":[` + send + `]}`, "campaign.frequency", "once"},
		{"window hours", `{"name":"x","trigger":{"type":"api"},"workflow":[{"time_window":{"from_hour":18,"to_hour":9}}]}`, "campaign.workflow[0].time_window.from_hour", "from_hour < to_hour"},
		{"timeout outside wait", `{"name":"x","trigger":{"type":"api"},"workflow":[{"delay":"1h","timeout":"2h"}]}`, "campaign.workflow[0].timeout", "wait_until"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := herald.ParseCampaign(json.RawMessage(tc.def), "campaign")
			e := herald.AsError(err)
			if err == nil || e.Field != tc.field || !strings.Contains(e.Message, tc.message) {
				t.Errorf("error = %v (field %q), want field %q with %q", err, e.Field, tc.field, tc.message)
			}
		})
	}
}

func TestWorkflowPositions(t *testing.T) {
	t.Parallel()
	d, err := herald.ParseCampaign(json.RawMessage(`{"name":"x","trigger":{"type":"api"},"workflow":[
		{"delay":"1h"},
		{"branch":{"if":{"journey":{"attribute":{"field":"a","operator":"exists"}}},"then":[{"delay":"1m"},{"delay":"2m"}],"else":[]}},
		{"exit":true}]}`), "campaign")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.StepIDs(), []string{"1", "2", "2.then.1", "2.then.2", "3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("step ids = %v, want %v", got, want)
	}
	steps := []struct {
		name      string
		got, want []int
	}{
		{"next at top", d.Next([]int{0}), []int{1}},
		{"into then", d.Enter([]int{1}, 0), []int{1, 0, 0}},
		{"within then", d.Next([]int{1, 0, 0}), []int{1, 0, 1}},
		{"out of then", d.Next([]int{1, 0, 1}), []int{2}},
		{"empty else skips on", d.Enter([]int{1}, 1), []int{2}},
		{"end", d.Next([]int{2}), nil},
	}
	for _, s := range steps {
		if !reflect.DeepEqual(s.got, s.want) {
			t.Errorf("%s: %v, want %v", s.name, s.got, s.want)
		}
	}
}
