package liquid

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// staticObjects serves fixed objects by plural slug, newest first.
type staticObjects map[string][]map[string]any

func (s staticObjects) Related(_ context.Context, slug string, limit int) ([]map[string]any, error) {
	objs := s[slug]
	if len(objs) > limit {
		objs = objs[:limit]
	}
	return objs, nil
}

// The seed's use cases (shared/seed/custom-objects-article.txt) as a recipient and what
// triggered their message. Each has its templates and golden output under testdata/<name>/.
var seedCases = map[string]func() *Context{
	// TeleWell: an appointment object was created; the patient gets a reminder with the date,
	// time and doctor, and a pre-check-in survey link.
	"telewell_reminder": func() *Context {
		return &Context{
			Customer: map[string]any{"id": "pat-17", "email": "jordan@example.com", "cio_id": "a1b2",
				"first_name": "Jordan", "timezone": "America/New_York"},
			CustomerRelationship: map[string]any{"user_role": "patient"},
			Trigger: &Trigger{
				ObjectType: "appointment",
				Object: map[string]any{"object_id": "appt-2041", "appointment_type": "medication_management",
					"appointment_status": "scheduled", "starts_at": float64(1765900800), "provider_id": "dr-lee",
					"survey_url": "https://telewell.example/survey", "clinic_phone": "+1 555 0100"},
				Relationship: map[string]any{"user_role": "patient"},
			},
			Objects: staticObjects{"providers": {
				{"object_id": "np-ortiz", "name": "Sam Ortiz", "relationship": map[string]any{"user_role": "nurse practitioner"}},
				{"object_id": "dr-lee", "name": "Dr. Ana Lee", "credentials": "MD", "relationship": map[string]any{"user_role": "doctor"}},
			}},
			Campaign: map[string]any{"id": float64(12), "type": "object"},
			URLs:     URLs{Unsubscribe: "https://h.example/unsub/d-77", ViewInBrowser: "https://h.example/view/d-77"},
		}
	},
	// TradeUp: people whose portfolio is over $10k get a dedicated manager and a monthly VIP mail.
	"tradeup_vip": func() *Context {
		return &Context{
			Customer: map[string]any{"id": "c-9", "email": "morgan@example.com", "first_name": "morgan"},
			Objects: staticObjects{"accounts": {
				{"object_id": "acct-b", "name": "Account B", "account_type": "business brokerage",
					"portfolio_amount": float64(250000), "manager_name": "Priya Shah", "manager_email": "priya@tradeup.example",
					"relationship": map[string]any{"role": "owner"}},
				{"object_id": "acct-c", "name": "Account C", "account_type": "retirement",
					"portfolio_amount": float64(8200.5), "manager_name": "—", "manager_email": "—",
					"relationship": map[string]any{}},
				{"object_id": "acct-a", "name": "Account A", "account_type": "trust",
					"portfolio_amount": float64(10500.75), "manager_name": "Lee Wong", "manager_email": "lee@tradeup.example",
					"relationship": map[string]any{"role": "trustee"}},
			}},
			Campaign: map[string]any{"id": float64(31), "name": "VIP monthly advice"},
			Message:  map[string]any{"id": float64(310)},
			URLs:     URLs{Unsubscribe: "https://h.example/unsub/d-88", ManagePreferences: "https://h.example/prefs/d-88"},
		}
	},
	// Dweller: people related to the Madison WI tour event get an in-app announcement with a
	// photo of a Madison listing they viewed.
	"dweller_inapp": func() *Context {
		return &Context{
			Customer:   map[string]any{"id": "buyer-3", "first_name": "Riley"},
			DeliveryID: "d-99",
			Objects: staticObjects{
				"events": {{"object_id": "madison-wi", "name": "Madison WI", "city": "Madison",
					"starts_at": "2027-04-17T15:00:00Z", "signup_url": "https://dweller.example/tours/madison",
					"relationship": map[string]any{"event_interest": "favorited"}}},
				"listings": {
					{"object_id": "L-77", "city": "Chicago", "address": "9 Lake St", "photo_url": "https://img.example/l77.jpg",
						"relationship": map[string]any{"viewed_at": float64(1765000000)}},
					{"object_id": "L-12", "city": "Madison", "address": "14 Willy St", "photo_url": "https://img.example/l12.jpg",
						"relationship": map[string]any{"viewed_at": float64(1764900000)}},
				},
			},
		}
	},
}

func TestGoldenSeedMessages(t *testing.T) {
	t.Parallel()
	e := New(Options{})
	for name, c := range seedCases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join("testdata", name)
			fields := map[string]string{}
			for _, f := range []string{"subject", "body"} {
				src, err := os.ReadFile(filepath.Join(dir, f+".liquid"))
				if os.IsNotExist(err) {
					continue
				} else if err != nil {
					t.Fatal(err)
				}
				fields[f] = strings.TrimSuffix(string(src), "\n")
			}
			out, err := e.RenderFields(context.Background(), fields, c())
			if err != nil {
				t.Fatal(err)
			}
			got := out["body"] + "\n"
			if s, ok := out["subject"]; ok {
				got = "Subject: " + s + "\n\n" + got
			}
			golden := filepath.Join(dir, "rendered.golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run Golden -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("rendered %s differs from %s:\n--- got\n%s\n--- want\n%s", name, golden, got, want)
			}
		})
	}
}
