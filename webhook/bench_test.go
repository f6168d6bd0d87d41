package webhook_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/webhook"
)

// BenchmarkSend measures signed webhooks to a local receiver over keep-alive connections.
// Reports webhooks/s.
func BenchmarkSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c := webhook.New(webhook.Config{Secret: secret, AllowCIDRs: loopback})
	defer c.Close()
	hook := &herald.Webhook{DeliveryID: "d1", URL: srv.URL + "/hook", Body: []byte(`{"customer":{"id":"42","plan":"pro"},"event":"signup"}`)}
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Send(context.Background(), hook); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "webhooks/s")
}
