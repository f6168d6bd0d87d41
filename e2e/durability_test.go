package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
)

// TestDurability sends batches continuously, SIGKILLs the server mid-stream, restarts it and
// checks that every entity whose batch was acknowledged with 200 is there.
func TestDurability(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		s := startServer(t, dsn)
		if st, body := s.app("POST", "/v1/object_types", `{"name":"Accounts","singular_name":"Account"}`); st != 201 {
			t.Fatalf("create type: %d %s", st, body)
		}

		var mu sync.Mutex
		var acked []string
		stop := make(chan struct{})
		var wg sync.WaitGroup
		client := &http.Client{Timeout: 10 * time.Second}
		for w := 0; w < 2; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for b := 0; ; b++ {
					select {
					case <-stop:
						return
					default:
					}
					ids, body := durabilityBatch(w, b)
					req, _ := http.NewRequest("POST", s.URL+"/api/v2/batch", body)
					req.SetBasicAuth(s.SiteID, s.TrackKey)
					resp, err := client.Do(req)
					if err != nil {
						return // the server is gone
					}
					resp.Body.Close()
					if resp.StatusCode == 200 {
						mu.Lock()
						acked = append(acked, ids...)
						mu.Unlock()
					}
				}
			}(w)
		}
		time.Sleep(1500 * time.Millisecond)
		s.stop(syscall.SIGKILL)
		close(stop)
		wg.Wait()
		if len(acked) == 0 {
			t.Fatalf("no batch was acknowledged before the kill")
		}

		s.start()
		found := map[string]bool{}
		url := "/v1/customers?limit=1000"
		for {
			st, body := s.app("POST", url, `{"filter":{"attribute":{"field":"source","operator":"eq","value":"durability"}}}`)
			if st != 200 {
				t.Fatalf("search: %d %s", st, body)
			}
			var out struct {
				IDs  []string `json:"ids"`
				Next string   `json:"next"`
			}
			json.Unmarshal(body, &out)
			for _, id := range out.IDs {
				found[id] = true
			}
			if out.Next == "" {
				break
			}
			url = "/v1/customers?limit=1000&start=" + out.Next
		}
		missing := 0
		for _, id := range acked {
			if !found[id] {
				missing++
			}
		}
		t.Logf("%s: %d people acknowledged before SIGKILL, %d found after restart", t.Name(), len(acked), len(found))
		if missing > 0 {
			t.Errorf("%d of %d acknowledged people are missing after the restart", missing, len(acked))
		}
		// Every acknowledged relationship is there too: spot-check the last batch's.
		last := acked[len(acked)-1]
		if st, body := s.app("GET", "/v1/customers/"+last+"/relationships", nil); st != 200 || !json.Valid(body) {
			t.Errorf("relationships of %s: %d %s", last, st, body)
		}
	})
}

// durabilityBatch builds a batch of 50 people, each related to an account.
func durabilityBatch(worker, batch int) ([]string, *bytesReader) {
	var ops []map[string]any
	var ids []string
	for i := 0; i < 50; i++ {
		id := fmt.Sprintf("w%d-b%d-%d", worker, batch, i)
		ids = append(ids, id)
		ops = append(ops, map[string]any{"type": "person", "action": "identify", "identifiers": map[string]string{"id": id},
			"attributes": map[string]any{"source": "durability", "n": i},
			"cio_relationships": []map[string]any{{"identifiers": map[string]string{"object_type_id": "1", "object_id": fmt.Sprintf("acc-%d", i%7)},
				"relationship_attributes": map[string]string{"role": "member"}}}})
	}
	b, _ := json.Marshal(map[string]any{"batch": ops})
	return ids, newBytesReader(b)
}
