package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/smtptest"
	"github.com/heraldhq/herald/internal/testdb"
)

// TestNodeClientCampaigns: the official customerio-node client lists and reads a campaign,
// triggers it as a broadcast (ids with data, per-user data), and reads its messages and
// metrics; the broadcast's emails reach a real SMTP server rendered with the trigger data.
func TestNodeClientCampaigns(t *testing.T) {
	t.Parallel()
	node := nodeClient(t)
	testdb.Engines(t, func(t *testing.T, dsn string) {
		smtp := smtptest.Start(t)
		s := startServer(t, dsn, "HERALD_SMTP_URL="+smtp.URL(), "HERALD_EMAIL_FROM=Shop <shop@herald.test>")
		for _, p := range []string{"ann", "bob"} {
			if st, b := s.track("PUT", "/api/v1/customers/"+p, map[string]any{"email": p + "@example.com"}); st != 200 {
				t.Fatalf("identify: %d %s", st, b)
			}
		}
		st, b := s.app("POST", "/v1/campaigns", `{"campaign":{"name":"Spring sale","trigger":{"type":"api"},"workflow":[
			{"id":"offer","send":{"channel":"email","fields":{"to":"{{ customer.email }}","subject":"Code {{ trigger.coupon }} for {{ customer.id }}","body":"<p>{{ trigger.coupon }}</p>"}}}]}}`)
		var c struct {
			Campaign struct {
				ID    int64  `json:"id"`
				State string `json:"state"`
			} `json:"campaign"`
		}
		if json.Unmarshal(b, &c); st != 200 || c.Campaign.State != "draft" {
			t.Fatalf("create campaign: %d %s", st, b)
		}
		if st, b := s.app("POST", fmt.Sprintf("/v1/campaigns/%d/start", c.Campaign.ID), nil); st != 200 || !strings.Contains(string(b), `"state":"running"`) {
			t.Fatalf("start: %d %s", st, b)
		}
		out := runNodeScript(t, s, node, "campaigns.js", fmt.Sprintf("CAMPAIGN_ID=%d", c.Campaign.ID))
		var list struct {
			Campaigns []struct {
				ID      int64            `json:"id"`
				Name    string           `json:"name"`
				Active  bool             `json:"active"`
				Type    string           `json:"type"`
				Actions []map[string]any `json:"actions"`
			} `json:"campaigns"`
		}
		if nodeStep(t, out, "listCampaigns", &list) && (len(list.Campaigns) != 1 || list.Campaigns[0].Name != "Spring sale" || !list.Campaigns[0].Active ||
			list.Campaigns[0].Type != "api" || len(list.Campaigns[0].Actions) != 1) {
			t.Errorf("listCampaigns = %+v", list)
		}
		var trig struct {
			ID int64 `json:"id"`
		}
		if nodeStep(t, out, "triggerBroadcast", &trig) && trig.ID == 0 {
			t.Errorf("triggerBroadcast = %s, want a trigger id", out["triggerBroadcast"])
		}
		var msgs struct {
			Messages []struct {
				CampaignID int64 `json:"campaign_id"`
			} `json:"messages"`
		}
		if nodeStep(t, out, "messages", &msgs) && (len(msgs.Messages) != 3 || msgs.Messages[0].CampaignID != c.Campaign.ID) {
			t.Errorf("getCampaignMessages = %s, want 3 messages of the campaign", out["messages"])
		}
		var metrics struct {
			Metric struct {
				Totals map[string]int64 `json:"totals"`
			} `json:"metric"`
		}
		if nodeStep(t, out, "metrics", &metrics) && (metrics.Metric.Totals["entered"] != 3 || metrics.Metric.Totals["sent"] != 3) {
			t.Errorf("getCampaignMetrics = %s, want 3 entered and 3 sent", out["metrics"])
		}
		var jm map[string]any
		nodeStep(t, out, "journeyMetrics", &jm)
		var missing struct {
			StatusCode int `json:"statusCode"`
		}
		if json.Unmarshal(out["unknown"], &missing); missing.StatusCode != 404 {
			t.Errorf("getCampaign(999) = %s, want a 404", out["unknown"])
		}
		var subjects []string
		for _, m := range smtp.Messages() {
			for _, line := range strings.Split(string(m.Data), "\r\n") {
				if v, ok := strings.CutPrefix(line, "Subject: "); ok {
					subjects = append(subjects, v)
				}
			}
		}
		got := strings.Join(subjects, "|")
		for _, want := range []string{"Code SPRING for ann", "Code SPRING for bob", "Code ANN10 for ann"} {
			if !strings.Contains(got, want) {
				t.Errorf("emails %v lack %q", subjects, want)
			}
		}
	})
}
