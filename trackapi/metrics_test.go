package trackapi_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
)

func TestDeliveryMetricsJoinTheHistoryAndTheActivityLog(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, srv *httptest.Server, s *store.Store, ws *herald.Workspace) {
		ctx := context.Background()
		ann := herald.PersonRef{Kind: herald.ByID, Value: "ann"}
		errs, err := s.Apply(ctx, ws.ID, []herald.Op{&herald.IdentifyPerson{Ref: ann}})
		if err != nil || errs[0] != nil {
			t.Fatal(err, errs)
		}
		p, _ := s.Person(ctx, ws.ID, ann)
		errs, err = s.Apply(ctx, ws.ID, []herald.Op{&herald.QueueDelivery{Delivery: &herald.Delivery{ID: "dlv1", Customer: herald.Identifiers{CioID: p.CioID}, Channel: herald.ChannelPush}},
			&herald.DeliveryMetric{DeliveryID: "dlv1", Metric: herald.StatusSent, Attempt: 1}})
		if err != nil || errs[0] != nil || errs[1] != nil {
			t.Fatal(err, errs)
		}
		run(t, srv, []scenario{
			{name: "v1 delivered", method: "POST", url: "/api/v1/metrics", wantStatus: 200,
				body: `{"delivery_id":"dlv1","metric":"delivered","timestamp":1700000000,"recipient":"tok1"}`},
			{name: "v1 metric Herald alone records", method: "POST", url: "/api/v1/metrics", wantStatus: 400,
				body: `{"delivery_id":"dlv1","metric":"sent"}`, wantContains: []string{"cannot be reported"}},
			{name: "v1 unknown metric", method: "POST", url: "/api/v1/metrics", wantStatus: 400,
				body: `{"delivery_id":"dlv1","metric":"read"}`, wantContains: []string{"metric"}},
			{name: "v1 without delivery id", method: "POST", url: "/api/v1/metrics", wantStatus: 400,
				body: `{"metric":"opened"}`, wantContains: []string{"delivery_id"}},
			{name: "v2 opened", method: "POST", url: "/api/v2/entity", wantStatus: 200,
				body: `{"type":"delivery","action":"event","identifiers":{"id":"dlv1"},"name":"opened","attributes":{"device_token":"tok1"}}`},
			{name: "v2 batch converted", method: "POST", url: "/api/v2/batch", wantStatus: 200,
				body: `{"batch":[{"type":"delivery","action":"event","identifiers":{"id":"dlv1"},"name":"converted","attributes":{"device_token":"tok1"}}]}`},
			{name: "legacy push event", method: "POST", url: "/api/v1/push/events", wantStatus: 200,
				body: `{"delivery_id":"dlv1","event":"opened","device_id":"tok1","timestamp":1700000100}`},
			{name: "legacy push event of another kind", method: "POST", url: "/api/v1/push/events", wantStatus: 400,
				body: `{"delivery_id":"dlv1","event":"clicked"}`, wantContains: []string{"event"}},
			{name: "v2 wrong action", method: "POST", url: "/api/v2/entity", wantStatus: 400,
				body: `{"type":"delivery","action":"identify","identifiers":{"id":"dlv1"},"name":"opened"}`, wantContains: []string{`"field":"action"`}},
		})
		hist, err := s.DeliveryHistory(ctx, "dlv1")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range hist {
			got = append(got, e.Metric)
		}
		if want := []string{"queued", "sent", "delivered", "opened", "converted", "opened"}; !slices.Equal(got, want) {
			t.Errorf("history %v, want %v", got, want)
		}
		if hist[2].Timestamp != 1700000000 {
			t.Errorf("delivered at %d, want the reported 1700000000", hist[1].Timestamp)
		}
		d, _ := s.Delivery(ctx, ws.ID, "dlv1")
		if d.Status != herald.StatusConverted {
			t.Errorf("status %q, want converted", d.Status)
		}
		acts, _, _ := s.Activities(ctx, ws.ID, herald.ActivityFilter{PersonPK: p.PK}, herald.Page{})
		var types []string
		for _, c := range acts {
			types = append(types, c.Type)
		}
		for _, want := range []string{"delivered_push", "opened_push", "converted_push"} {
			if !slices.Contains(types, want) {
				t.Errorf("activity %v lacks %s", types, want)
			}
		}
	})
}
