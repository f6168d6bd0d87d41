package delivery_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/email"
	"github.com/heraldhq/herald/internal/smtptest"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/liquid"
	"github.com/heraldhq/herald/webhook"
)

// benchPeople is how many recipients the benchmarks rotate through.
const benchPeople = 100

// benchSetup is setup for benchmarks: quiet logs and benchPeople people, each related to three
// accounts, so that every render loads objects.
func benchSetup(b *testing.B, ch delivery.Channels) (*delivery.Service, *bundle) {
	b.Helper()
	s, ws := testdb.OpenStore(b, "", herald.Workspace{SiteID: "site", AppAPIKey: "app-key"})
	if _, err := s.CreateObjectType(context.Background(), ws.ID, herald.ObjectType{Name: "Accounts", SingularName: "Account"}); err != nil {
		b.Fatal(err)
	}
	bn := &bundle{store: s, ws: ws}
	var ops []herald.Op
	for i := 0; i < benchPeople; i++ {
		id := fmt.Sprintf("p%d", i)
		ops = append(ops, &herald.IdentifyPerson{Ref: ref(id), Email: id + "@example.com", Attributes: herald.Attributes{"first_name": []byte(`"Pat"`)}})
		for j := 0; j < 3; j++ {
			ops = append(ops, &herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 1, ObjectID: fmt.Sprintf("a%d-%d", i, j)},
				Attributes: herald.Attributes{"name": []byte(`"Acme"`), "balance": []byte("1200.5")},
				People:     []herald.ObjectRelationship{{Person: ref(id), Attributes: herald.Attributes{"role": []byte(`"admin"`)}}}})
		}
	}
	bn.apply(b, ops...)
	svc := delivery.New(s, liquid.New(liquid.Options{}), ch, delivery.Config{PublicURL: "https://herald.test", Concurrency: 64},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	return svc, bn
}

// sendAll sends b.N messages from 32 goroutines and waits until arrived reports all of them.
func sendAll(b *testing.B, svc *delivery.Service, ws int64, req herald.SendRequest, arrived func() int) {
	b.Helper()
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := req
			r.WorkspaceID = ws
			r.Person = ref(fmt.Sprintf("p%d", next.Add(1)%benchPeople))
			if _, err := svc.Send(context.Background(), r); err != nil {
				b.Error(err)
				return
			}
		}
	})
	deadline := time.Now().Add(2 * time.Minute)
	for arrived() < b.N && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if got := arrived(); got < b.N {
		b.Fatalf("%d of %d arrived", got, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

// sendBatches sends b.N messages in SendMany batches of 100 from 2 goroutines, as a journey
// step sends to its recipients, and waits until arrived reports all of them.
func sendBatches(b *testing.B, svc *delivery.Service, ws int64, req herald.SendRequest, arrived func() int) {
	b.Helper()
	b.ResetTimer()
	start := time.Now()
	sizes := make(chan int, b.N/100+1)
	for left := b.N; left > 0; left -= 100 {
		sizes <- min(left, 100)
	}
	close(sizes)
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range sizes {
				reqs := make([]herald.SendRequest, n)
				for i := range reqs {
					reqs[i] = req
					reqs[i].WorkspaceID = ws
					reqs[i].Person = ref(fmt.Sprintf("p%d", i%benchPeople))
				}
				if _, errs, err := svc.SendMany(context.Background(), reqs); err != nil || errs[0] != nil {
					b.Error(err, errs[0])
					return
				}
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(2 * time.Minute)
	for arrived() < b.N && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if got := arrived(); got < b.N {
		b.Fatalf("%d of %d arrived", got, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

// durable runs the durable path with one Send per message and with SendMany batches.
func durable(b *testing.B, svc *delivery.Service, ws int64, req herald.SendRequest, arrived func() int) {
	b.Run("send", func(b *testing.B) {
		base := arrived()
		sendAll(b, svc, ws, req, func() int { return arrived() - base })
	})
	b.Run("batch=100", func(b *testing.B) {
		base := arrived()
		sendBatches(b, svc, ws, req, func() int { return arrived() - base })
	})
}

// BenchmarkEmailRenderAndSend measures the whole transactional path on SQLite: render (with
// three related objects), record queued, claim, send over SMTP to an in-process server, and
// record sent.
func BenchmarkEmailRenderAndSend(b *testing.B) {
	srv := smtptest.Start(b)
	srv.Discard = true
	cfg, err := email.ParseURL(srv.URL()+"&pool=32", "Herald <noreply@herald.test>")
	if err != nil {
		b.Fatal(err)
	}
	cfg.Tracker = &email.Tracker{BaseURL: "https://herald.test", Secret: []byte("secret")}
	sender, err := email.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer sender.Close()
	svc, bn := benchSetup(b, delivery.Channels{Email: sender})
	durable(b, svc, bn.ws.ID, herald.SendRequest{Channel: herald.ChannelEmail, Transactional: true, Data: map[string]any{"order": "A-17"},
		Fields: map[string]string{
			"subject": "Order {{ trigger.order }} for {{ customer.first_name }}",
			"body": `<p>Hi {{ customer.first_name }},</p>{% for a in objects.accounts %}<p>{{ a.name }} ({{ a.relationship.role }}): ` +
				`{{ a.balance | currency }}</p>{% endfor %}<a href="https://shop.example.com/o/{{ trigger.order }}">Your order</a>`,
		}}, srv.Count)
}

// BenchmarkWebhookRenderAndSend is the same path for signed webhooks to a local receiver.
func BenchmarkWebhookRenderAndSend(b *testing.B) {
	var got atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got.Add(1)
	}))
	defer rcv.Close()
	client := webhook.New(webhook.Config{Secret: []byte("secret"), MaxIdleConnsPerHost: 128,
		AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	defer client.Close()
	svc, bn := benchSetup(b, delivery.Channels{Webhook: client})
	durable(b, svc, bn.ws.ID, herald.SendRequest{Channel: herald.ChannelWebhook, Data: map[string]any{"order": "A-17"},
		Fields: map[string]string{"url": rcv.URL + "/hook",
			"body": `{"person": {{ customer.id | json }}, "order": {{ trigger.order | json }}, "accounts": {{ objects.accounts | size }}}`}},
		func() int { return int(got.Load()) })
}

// BenchmarkPreview measures rendering alone with the full context read from the store:
// the person, three related accounts with their relationships, trigger data.
func BenchmarkPreview(b *testing.B) {
	svc, bn := benchSetup(b, delivery.Channels{})
	req := herald.SendRequest{WorkspaceID: bn.ws.ID, Channel: herald.ChannelEmail, Data: map[string]any{"order": "A-17"},
		Fields: map[string]string{"subject": "Order {{ trigger.order }} for {{ customer.first_name }}",
			"body": `<p>Hi {{ customer.first_name }},</p>{% for a in objects.accounts %}<p>{{ a.name }} ({{ a.relationship.role }}): ` +
				`{{ a.balance | currency }}</p>{% endfor %}<a href="https://shop.example.com/o/{{ trigger.order }}">Your order</a>`}}
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := req
			r.Person = ref(fmt.Sprintf("p%d", next.Add(1)%benchPeople))
			if _, err := svc.Preview(context.Background(), r); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "renders/s")
}

// BenchmarkRenderThenChannel is render and send without the delivery records: the message is
// rendered against the store (Preview) and handed straight to the channel, the cost a send
// has before its durability is paid for.
func BenchmarkRenderThenChannel(b *testing.B) {
	b.Run("email", func(b *testing.B) {
		srv := smtptest.Start(b)
		srv.Discard = true
		cfg, err := email.ParseURL(srv.URL()+"&pool=32", "Herald <noreply@herald.test>")
		if err != nil {
			b.Fatal(err)
		}
		cfg.Tracker = &email.Tracker{BaseURL: "https://herald.test", Secret: []byte("secret")}
		sender, err := email.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		defer sender.Close()
		svc, bn := benchSetup(b, delivery.Channels{})
		renderThen(b, svc, herald.SendRequest{WorkspaceID: bn.ws.ID, Channel: herald.ChannelEmail, Data: map[string]any{"order": "A-17"},
			Fields: map[string]string{"subject": "Order {{ trigger.order }} for {{ customer.first_name }}",
				"body": `<p>Hi {{ customer.first_name }},</p>{% for a in objects.accounts %}<p>{{ a.name }} ({{ a.relationship.role }}): ` +
					`{{ a.balance | currency }}</p>{% endfor %}<a href="https://shop.example.com/o/{{ trigger.order }}">Your order</a>`}},
			func(m any) error { _, err := sender.Send(context.Background(), m.(*herald.Email)); return err })
	})
	b.Run("webhook", func(b *testing.B) {
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
		defer rcv.Close()
		client := webhook.New(webhook.Config{Secret: []byte("secret"), MaxIdleConnsPerHost: 128,
			AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
		defer client.Close()
		svc, bn := benchSetup(b, delivery.Channels{})
		renderThen(b, svc, herald.SendRequest{WorkspaceID: bn.ws.ID, Channel: herald.ChannelWebhook, Data: map[string]any{"order": "A-17"},
			Fields: map[string]string{"url": rcv.URL + "/hook",
				"body": `{"person": {{ customer.id | json }}, "order": {{ trigger.order | json }}, "accounts": {{ objects.accounts | size }}}`}},
			func(m any) error { _, err := client.Send(context.Background(), m.(*herald.Webhook)); return err })
	})
}

func renderThen(b *testing.B, svc *delivery.Service, req herald.SendRequest, send func(any) error) {
	var next atomic.Int64
	b.ResetTimer()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := req
			r.Person = ref(fmt.Sprintf("p%d", next.Add(1)%benchPeople))
			out, err := svc.Preview(context.Background(), r)
			if err == nil {
				err = send(out["message"])
			}
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
