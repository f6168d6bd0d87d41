package email_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/email"
)

// BenchmarkSend measures composing (tracking, text part) and sending to an in-process SMTP
// server over the connection pool; Liquid rendering is not included. Reports emails/s.
func BenchmarkSend(b *testing.B) {
	html := "<html><body><h1>Spring sale</h1>" + strings.Repeat(`<p>Our best offers <a href="https://shop.test/p/1">here</a> and <a href="https://shop.test/p/2">there</a>.</p>`, 10) +
		`<a href="https://herald.test/u/1">Unsubscribe</a></body></html>`
	for _, size := range []int{1, 8} {
		b.Run("pool="+strconv.Itoa(size), func(b *testing.B) {
			ts := startServer(b, false)
			ts.discard = true
			s, err := email.New(email.Config{
				Host: ts.Host, Port: ts.Port, TLS: email.TLSNone, From: "news@herald.test", PoolSize: size,
				Tracker: &email.Tracker{BaseURL: "https://t.herald.test", Secret: []byte("k")},
			})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.SetParallelism(size)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for i := 0; pb.Next(); i++ {
					_, err := s.Send(context.Background(), &herald.Email{
						DeliveryID: "d" + strconv.Itoa(i), To: "ada@example.com", Subject: "Spring sale",
						Preheader: "Only this week", HTML: html, UnsubscribeURL: "https://herald.test/u/1",
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "emails/s")
		})
	}
}
