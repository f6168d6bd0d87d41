package journey_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/journey"
	"github.com/heraldhq/herald/segment"
	"github.com/heraldhq/herald/store"
)

var start = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

// outbox records what the journey engine asked the delivery service to send. It is the
// delivery service's seam: the engine's own behaviour (who, which step, which context) is
// what these tests check; the e2e tests send through the real channels.
type outbox struct {
	mu   sync.Mutex
	sent []herald.SendRequest
	ids  map[string]bool
}

func (o *outbox) SendMany(_ context.Context, reqs []herald.SendRequest) ([]*herald.Delivery, []error, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ids == nil {
		o.ids = map[string]bool{}
	}
	ds, errs := make([]*herald.Delivery, len(reqs)), make([]error, len(reqs))
	for i, req := range reqs {
		if o.ids[req.DeliveryID] { // the delivery service records a delivery id once
			errs[i] = herald.Errorf(herald.Conflict, "delivery_id", "delivery %q exists", req.DeliveryID)
			continue
		}
		o.ids[req.DeliveryID] = true
		o.sent = append(o.sent, req)
		ds[i] = &herald.Delivery{ID: req.DeliveryID, Status: herald.StatusQueued}
	}
	return ds, errs, nil
}

// messages returns "person-cio-id:subject" of everything sent, sorted.
func (o *outbox) messages(t *testing.T, w *world) []string {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	out := []string{}
	for _, r := range o.sent {
		p, err := w.s.Person(context.Background(), w.ws, r.Person)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.ID+":"+r.Fields["subject"])
	}
	sort.Strings(out)
	return out
}

type world struct {
	s     *store.Store
	ws    int64
	clock time.Time
	e     *journey.Engine
	seg   *segment.Engine
	out   *outbox
}

func newWorld(t *testing.T, dsn string) *world {
	t.Helper()
	s, ws := testdb.OpenStore(t, dsn, herald.Workspace{})
	w := &world{s: s, ws: ws.ID, clock: start, out: &outbox{}}
	s.Now = func() time.Time { return w.clock }
	for _, name := range []string{"Companies", "Appointments", "Courses"} {
		if _, err := s.CreateObjectType(context.Background(), ws.ID, herald.ObjectType{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.DiscardHandler)
	w.e = journey.New(s, w.out, log)
	w.e.Now = func() time.Time { return w.clock }
	w.seg = segment.NewEngine(s, log)
	w.seg.Now = w.e.Now
	return w
}

func (w *world) apply(t *testing.T, ops ...herald.Op) {
	t.Helper()
	errs, err := w.s.Apply(context.Background(), w.ws, ops)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		if e != nil {
			t.Fatalf("op %d (%T): %v", i, ops[i], e)
		}
	}
}

// campaign stores and starts a campaign.
func (w *world) campaign(t *testing.T, def string) *herald.Campaign {
	t.Helper()
	c, err := w.s.SaveCampaign(context.Background(), w.ws, 0, []byte(def))
	if err != nil {
		t.Fatalf("save campaign: %v\n%s", err, def)
	}
	if c, err = w.s.SetCampaignState(context.Background(), w.ws, c.ID, herald.CampaignRunning); err != nil {
		t.Fatal(err)
	}
	return c
}

// settle runs the segment and journey engines until neither has work at the current time.
func (w *world) settle(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	w.seg.Kick()
	for range 200 {
		if _, err := w.seg.Step(ctx); err != nil {
			t.Fatal(err)
		}
		more, err := w.e.Step(ctx)
		if err != nil {
			t.Fatal(err)
		}
		last, err := w.s.LastSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		due, err := w.s.NextJourneyDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !more && w.e.Processed() >= last && w.seg.Processed() >= last && (due == 0 || due > w.clock.Unix()) {
			return
		}
	}
	t.Fatal("the engines do not settle")
}

// after moves the clock on and lets the engines catch up.
func (w *world) after(t *testing.T, d time.Duration) {
	t.Helper()
	w.clock = w.clock.Add(d)
	w.settle(t)
}

func person(id string) herald.PersonRef { return herald.PersonRef{Kind: herald.ByID, Value: id} }

func attrs(kv ...any) herald.Attributes {
	a := herald.Attributes{}
	for i := 0; i+1 < len(kv); i += 2 {
		b, _ := json.Marshal(kv[i+1])
		a[kv[i].(string)] = b
	}
	return a
}

func rel(typeID int, objectID string, kv ...any) herald.PersonRelationship {
	return herald.PersonRelationship{Object: herald.ObjectRef{TypeID: typeID, ObjectID: objectID}, Attributes: attrs(kv...)}
}

func relate(p string, rels ...herald.PersonRelationship) herald.Op {
	return &herald.PersonRelationships{Ref: person(p), Items: rels}
}

func engines(t *testing.T, fn func(t *testing.T, w *world)) {
	testdb.Engines(t, func(t *testing.T, dsn string) { fn(t, newWorld(t, dsn)) })
}

func sendStep(subject string) string {
	return fmt.Sprintf(`{"send":{"channel":"email","fields":{"subject":%q,"body":"hi"}}}`, subject)
}
