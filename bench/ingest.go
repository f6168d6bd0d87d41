// Package bench measures Herald's throughput on this machine: `herald bench ingest` prints
// entities per second through the Track API beside the raw store baseline.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/trackapi"
)

// IngestConfig says what to measure.
type IngestConfig struct {
	Database  string        // DSN; empty means a fresh SQLite file in DataDir
	DataDir   string        // where the SQLite file goes
	Duration  time.Duration // how long each phase runs
	Clients   int           // concurrent HTTP clients
	BatchSize int           // operations per batch
}

// IngestResult holds the figures of one run.
type IngestResult struct {
	Engine       string
	RawPerSec    float64 // entities/s written straight into the tables
	HTTPPerSec   float64 // entities/s through POST /api/v2/batch, change records included
	Ratio        float64 // HTTPPerSec / RawPerSec
	HTTPBatches  int
	HTTPEntities int
}

func (r IngestResult) String() string {
	return fmt.Sprintf("%-9s raw store: %8.0f entities/s   POST /api/v2/batch: %8.0f entities/s   ratio %.0f%%",
		r.Engine, r.RawPerSec, r.HTTPPerSec, 100*r.Ratio)
}

// Ingest runs the raw baseline, then the HTTP batch phase, on two fresh workspaces of one store.
func Ingest(ctx context.Context, cfg IngestConfig) (IngestResult, error) {
	if cfg.Clients <= 0 {
		cfg.Clients = 4
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 100
	}
	s, err := store.Open(ctx, cfg.Database, cfg.DataDir)
	if err != nil {
		return IngestResult{}, err
	}
	defer s.Close()
	res := IngestResult{Engine: s.Engine()}

	rawWS, err := workspace(ctx, s, "bench-raw")
	if err != nil {
		return res, err
	}
	n, elapsed, err := runFor(cfg.Duration, cfg.Clients, func(worker, batch int) (int, error) {
		return cfg.BatchSize, s.RawUpsert(ctx, rawWS.ID, rawRows(fmt.Sprintf("r%d-%d", worker, batch), cfg.BatchSize))
	})
	if err != nil {
		return res, fmt.Errorf("raw phase: %w", err)
	}
	res.RawPerSec = float64(n) / elapsed.Seconds()

	ws, err := workspace(ctx, s, "bench-http")
	if err != nil {
		return res, err
	}
	mux := http.NewServeMux()
	trackapi.New(s, slog.New(slog.NewTextHandler(io.Discard, nil))).Register(mux)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/api/v2/batch"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Clients}}
	var batches atomic.Int64
	// Bodies are built before the clock starts, so that the load generator, which shares the
	// machine's cores with herald, spends its time sending rather than encoding.
	bodies := make([][][]byte, cfg.Clients)
	for w := range bodies {
		for b := 0; b < prebuilt; b++ {
			bodies[w] = append(bodies[w], batchBody(fmt.Sprintf("h%d-%d", w, b), cfg.BatchSize))
		}
	}
	n, elapsed, err = runFor(cfg.Duration, cfg.Clients, func(worker, batch int) (int, error) {
		var body []byte
		if batch < len(bodies[worker]) {
			body = bodies[worker][batch]
		} else {
			body = batchBody(fmt.Sprintf("h%d-%d", worker, batch), cfg.BatchSize)
		}
		req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
		req.SetBasicAuth(ws.SiteID, ws.TrackAPIKey)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return 0, fmt.Errorf("batch answered %d: %s", resp.StatusCode, out)
		}
		batches.Add(1)
		return cfg.BatchSize, nil
	})
	if err != nil {
		return res, fmt.Errorf("http phase: %w", err)
	}
	res.HTTPPerSec = float64(n) / elapsed.Seconds()
	res.HTTPEntities, res.HTTPBatches = n, int(batches.Load())
	if res.RawPerSec > 0 {
		res.Ratio = res.HTTPPerSec / res.RawPerSec
	}
	return res, nil
}

// prebuilt is how many batch bodies each client encodes before the HTTP phase starts.
const prebuilt = 150

func workspace(ctx context.Context, s *store.Store, name string) (*herald.Workspace, error) {
	ws, err := s.CreateWorkspace(ctx, name)
	if err != nil {
		return nil, err
	}
	_, err = s.CreateObjectType(ctx, ws.ID, herald.ObjectType{Name: "Accounts", SingularName: "Account"})
	return ws, err
}

// runFor calls fn from clients goroutines until d has passed and returns the entities done.
func runFor(d time.Duration, clients int, fn func(worker, batch int) (int, error)) (int, time.Duration, error) {
	var total atomic.Int64
	var firstErr error
	var once sync.Once
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for b := 0; time.Now().Before(deadline); b++ {
				n, err := fn(w, b)
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				total.Add(int64(n))
			}
		}(w)
	}
	wg.Wait()
	return int(total.Load()), time.Since(start), firstErr
}

// The mix of every batch: of each 5 entities, 3 person identifies, 1 object identify with one
// relationship, 1 event.
func rawRows(prefix string, n int) []store.RawRow {
	rows := make([]store.RawRow, 0, n)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%s-%d", prefix, i-i%5)
		switch i % 5 {
		case 0, 1, 2:
			pid := fmt.Sprintf("%s-%d", prefix, i)
			rows = append(rows, store.RawRow{Kind: "person", PersonID: pid, Email: pid + "@example.com",
				Attributes: herald.Attributes{"plan": json.RawMessage(`"pro"`), "n": json.RawMessage(fmt.Sprint(i))}})
		case 3:
			rows = append(rows, store.RawRow{Kind: "object", ObjectType: 1, ObjectID: "acc-" + id, PersonID: id,
				Attributes: herald.Attributes{"name": json.RawMessage(`"Acme"`), "portfolio_amount": json.RawMessage(fmt.Sprint(i * 100))},
				RelAttrs:   herald.Attributes{"user_role": json.RawMessage(`"admin"`)}})
		default:
			rows = append(rows, store.RawRow{Kind: "event", PersonID: id, Name: "purchase", Attributes: herald.Attributes{"amount": json.RawMessage(fmt.Sprint(i))}})
		}
	}
	return rows
}

func batchBody(prefix string, n int) []byte {
	ops := make([]map[string]any, 0, n)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%s-%d", prefix, i-i%5)
		switch i % 5 {
		case 0, 1, 2:
			pid := fmt.Sprintf("%s-%d", prefix, i)
			ops = append(ops, map[string]any{"type": "person", "action": "identify", "identifiers": map[string]string{"id": pid},
				"attributes": map[string]any{"email": pid + "@example.com", "plan": "pro", "n": i}})
		case 3:
			ops = append(ops, map[string]any{"type": "object", "action": "identify",
				"identifiers": map[string]string{"object_type_id": "1", "object_id": "acc-" + id},
				"attributes":  map[string]any{"name": "Acme", "portfolio_amount": i * 100},
				"cio_relationships": []map[string]any{{"identifiers": map[string]string{"id": id},
					"relationship_attributes": map[string]string{"user_role": "admin"}}}})
		default:
			ops = append(ops, map[string]any{"type": "person", "action": "event", "identifiers": map[string]string{"id": id},
				"name": "purchase", "attributes": map[string]any{"amount": i}})
		}
	}
	b, _ := json.Marshal(map[string]any{"batch": ops})
	return b
}
