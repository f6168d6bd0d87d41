package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/email"
	"github.com/heraldhq/herald/journey"
	"github.com/heraldhq/herald/liquid"
	"github.com/heraldhq/herald/store"
)

// JourneysConfig says what the journey benchmark measures.
type JourneysConfig struct {
	Database string // DSN; empty means a fresh SQLite file in DataDir
	DataDir  string
	People   int           // people related to the object whose update fans out
	Rate     int           // events per second of the latency phase
	Sustain  time.Duration // how long the latency phase runs; 0 skips it
	Out      io.Writer
}

// Journeys measures (1) an object update whose object has cfg.People related people
// triggering a campaign that emails each of them: the time until every email has reached an
// in-process SMTP server; (2) event-triggered journeys under cfg.Rate events per second: the
// time from an event's commit to its journey's first step (an attribute update, seen on the
// change feed).
func Journeys(ctx context.Context, cfg JourneysConfig) error {
	out := cfg.Out
	s, ws, err := openGraphStore(ctx, cfg.Database, cfg.DataDir)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.GenerateBenchGraph(ctx, ws.ID, store.BenchGraph{People: cfg.People, Objects: 10, PerPerson: 1, Hot: cfg.People}, time.Now().Unix()); err != nil {
		return err
	}
	relay, err := startRelay()
	if err != nil {
		return err
	}
	defer relay.close()
	sender, err := email.New(email.Config{Host: "127.0.0.1", Port: relay.port, TLS: email.TLSNone, From: "Bench <bench@herald.test>", PoolSize: 16})
	if err != nil {
		return err
	}
	defer sender.Close()
	log := slog.New(slog.DiscardHandler)
	svc := delivery.New(s, liquid.New(liquid.Options{}), delivery.Channels{Email: sender}, delivery.Config{Concurrency: 64}, log)
	engine := journey.New(s, svc, log)
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); svc.Run(runCtx) }()
	go func() { defer wg.Done(); engine.Run(runCtx) }()
	defer func() { stop(); wg.Wait() }()

	fanout, err := s.SaveCampaign(ctx, ws.ID, 0, []byte(`{"name":"account news","trigger":{"type":"object_updated","type_id":1,"changed":["plan"]},
		"frequency":"every_time","workflow":[{"send":{"channel":"email","fields":{"to":"{{ customer.id }}@example.com",
		"subject":"{{ trigger.account.name }} is now on {{ trigger.account.plan }}","body":"<p>Hello {{ customer.id }}, your role: {{ customer._relationship.user_role }}</p>"}}}]}`))
	if err != nil {
		return err
	}
	if _, err := s.SetCampaignState(ctx, ws.ID, fanout.ID, herald.CampaignRunning); err != nil {
		return err
	}
	engine.Kick()
	time.Sleep(300 * time.Millisecond) // the engine has seen the campaign start
	t0 := time.Now()
	if err := s.ApplyOne(ctx, ws.ID, &herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 1, ObjectID: "hot"}, Attributes: herald.Attributes{"plan": []byte(`"enterprise"`)}}); err != nil {
		return err
	}
	for relay.count.Load() < int64(cfg.People) {
		if time.Since(t0) > 10*time.Minute {
			return fmt.Errorf("fan-out: %d of %d emails after 10 minutes", relay.count.Load(), cfg.People)
		}
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(t0)
	fmt.Fprintf(out, "%s: object update with %d related people → %d emails at the SMTP server in %.1f s (%.0f emails/s)\n",
		s.Engine(), cfg.People, relay.count.Load(), took.Seconds(), float64(cfg.People)/took.Seconds())
	if _, err := s.SetCampaignState(ctx, ws.ID, fanout.ID, herald.CampaignStopped); err != nil {
		return err
	}
	if cfg.Sustain > 0 {
		return journeyLatency(ctx, s, engine, ws.ID, cfg, out)
	}
	return nil
}

// journeyLatency sends cfg.Rate events per second, each from another person, into a
// campaign whose first step sets an attribute, and measures commit → that step.
func journeyLatency(ctx context.Context, s *store.Store, engine *journey.Engine, ws int64, cfg JourneysConfig, out io.Writer) error {
	c, err := s.SaveCampaign(ctx, ws, 0, []byte(`{"name":"ping","trigger":{"type":"event","name":"ping"},"frequency":"every_time",
		"workflow":[{"update":{"target":"person","attributes":{"pinged":true}}}]}`))
	if err != nil {
		return err
	}
	if _, err := s.SetCampaignState(ctx, ws, c.ID, herald.CampaignRunning); err != nil {
		return err
	}
	engine.Kick()
	time.Sleep(300 * time.Millisecond)
	from, err := s.LastSeq(ctx)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	committed := map[int64]time.Time{}
	var lat []time.Duration
	done := make(chan struct{})
	watched := make(chan error, 1)
	go func() {
		cursor := from
		for {
			changed := s.Changed()
			cs, err := s.ChangesAfter(ctx, cursor, 1000)
			if err != nil {
				watched <- err
				return
			}
			seen := time.Now()
			mu.Lock()
			for _, ch := range cs {
				cursor = ch.Seq
				if ch.Type == herald.ActAttributeChange && ch.PersonPK != 0 {
					if t, ok := committed[ch.PersonPK]; ok {
						lat = append(lat, seen.Sub(t))
						delete(committed, ch.PersonPK)
					}
				}
			}
			mu.Unlock()
			select {
			case <-done:
				watched <- nil
				return
			case <-changed:
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	perTick := max(1, cfg.Rate/100)
	deadline := time.Now().Add(cfg.Sustain)
	sent := 0
	for i := 0; time.Now().Before(deadline); {
		next := time.Now().Add(10 * time.Millisecond)
		var ops []herald.Op
		var pks []int64
		for range perTick {
			n := i % cfg.People
			ops = append(ops, &herald.TrackEvent{Event: herald.Event{Person: herald.PersonRef{Kind: herald.ByID, Value: "p" + strconv.Itoa(n)},
				Name: "ping", Type: herald.EventCustom}})
			pks = append(pks, int64(n)+1) // bench graph people have keys 1 … n in order
			i++
		}
		if _, err := s.Apply(ctx, ws, ops); err != nil {
			return err
		}
		at := time.Now()
		mu.Lock()
		for _, pk := range pks {
			committed[pk] = at
		}
		mu.Unlock()
		sent += len(ops)
		time.Sleep(time.Until(next))
	}
	time.Sleep(time.Second)
	close(done)
	if err := <-watched; err != nil {
		return err
	}
	if len(lat) == 0 {
		return fmt.Errorf("journey latency: no first step observed")
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 { return ms(lat[min(len(lat)-1, int(p*float64(len(lat))))]) }
	fmt.Fprintf(out, "  %d events/s for %s: %d events, %d first steps observed; commit → first step p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		cfg.Rate, cfg.Sustain, sent, len(lat), q(0.5), q(0.99), ms(lat[len(lat)-1]))
	return nil
}

// relay is an in-process SMTP server that counts and discards what it receives.
type relay struct {
	srv   *smtp.Server
	port  int
	count atomic.Int64
}

func startRelay() (*relay, error) {
	r := &relay{}
	r.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return relaySession{r}, nil }))
	r.srv.Domain = "localhost"
	r.srv.MaxRecipients = 50
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r.port = l.Addr().(*net.TCPAddr).Port
	go r.srv.Serve(l)
	return r, nil
}

func (r *relay) close() { r.srv.Close() }

type relaySession struct{ r *relay }

func (relaySession) Mail(string, *smtp.MailOptions) error { return nil }
func (relaySession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s relaySession) Data(rd io.Reader) error {
	if _, err := io.Copy(io.Discard, rd); err != nil {
		return err
	}
	s.r.count.Add(1)
	return nil
}
func (relaySession) Reset()        {}
func (relaySession) Logout() error { return nil }
