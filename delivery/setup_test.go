package delivery_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/email"
	"github.com/heraldhq/herald/internal/smtptest"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/liquid"
	"github.com/heraldhq/herald/store"
)

var _ delivery.Store = (*store.Store)(nil)

// bundle is what a test gets besides the service.
type bundle struct {
	store   *store.Store
	ws      *herald.Workspace
	smtp    *smtptest.Server
	tracker *email.Tracker
}

type setupOpt func(*delivery.Config, *delivery.Channels)

// setup opens a store on dsn, starts an SMTP server and a Service sending email to it (with
// tracking on https://herald.test), and runs its sender loop until the test ends.
func setup(t testing.TB, dsn string, opts ...setupOpt) (*delivery.Service, *bundle) {
	t.Helper()
	s, ws := testdb.OpenStore(t, dsn, herald.Workspace{SiteID: "site", AppAPIKey: "app-key"})
	srv := smtptest.Start(t)
	tracker := &email.Tracker{BaseURL: "https://herald.test", Secret: []byte("tracking secret")}
	cfg, err := email.ParseURL(srv.URL(), "Herald <noreply@herald.test>")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Tracker = tracker
	sender, err := email.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sender.Close() })
	dc := delivery.Config{
		PublicURL: "https://herald.test", Poll: 50 * time.Millisecond, Backoff: time.Second,
		VerifyOpen: tracker.VerifyOpen,
		VerifyClick: func(token string) (string, string, error) {
			c, err := tracker.VerifyClick(token)
			return c.DeliveryID, c.URL, err
		},
	}
	ch := delivery.Channels{Email: sender}
	for _, o := range opts {
		o(&dc, &ch)
	}
	svc := delivery.New(s, liquid.New(liquid.Options{}), ch, dc, slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return svc, &bundle{store: s, ws: ws, smtp: srv, tracker: tracker}
}

// apply applies ops and fails the test on any error.
func (b *bundle) apply(t testing.TB, ops ...herald.Op) {
	t.Helper()
	errs, err := b.store.Apply(context.Background(), b.ws.ID, ops)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		if e != nil {
			t.Fatalf("op %d: %v", i, e)
		}
	}
}

// person identifies person id with attrs (a JSON object).
func (b *bundle) person(t testing.TB, id, attrs string) {
	t.Helper()
	a, err := herald.ParseAttributes(json.RawMessage(attrs), "attributes")
	if err != nil {
		t.Fatal(err)
	}
	op := &herald.IdentifyPerson{Ref: herald.PersonRef{Kind: herald.ByID, Value: id}, Attributes: a}
	if e, ok := a["email"]; ok {
		json.Unmarshal(e, &op.Email)
		delete(op.Attributes, "email")
	}
	b.apply(t, op)
}

// waitStatus polls delivery id until its status is want (5 s at most) and returns it.
func (b *bundle) waitStatus(t testing.TB, id, want string) *herald.Delivery {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, err := b.store.Delivery(context.Background(), b.ws.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status == want {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s: status %q (reason %q), want %q", id, d.Status, d.Reason, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// metrics returns the delivery's history as its metric names.
func (b *bundle) metrics(t testing.TB, id string) []string {
	t.Helper()
	h, err := b.store.DeliveryHistory(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range h {
		out = append(out, e.Metric)
	}
	return out
}

// activity returns the person's activity types.
func (b *bundle) activity(t testing.TB, id string) []string {
	t.Helper()
	p, err := b.store.Person(context.Background(), b.ws.ID, herald.PersonRef{Kind: herald.ByID, Value: id})
	if err != nil {
		t.Fatal(err)
	}
	cs, _, err := b.store.Activities(context.Background(), b.ws.ID, herald.ActivityFilter{PersonPK: p.PK}, herald.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		out = append(out, c.Type)
	}
	return out
}

func ref(id string) herald.PersonRef { return herald.PersonRef{Kind: herald.ByID, Value: id} }

func ptr[T any](v T) *T { return &v }

// testWriter sends the service's log to the test's.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
