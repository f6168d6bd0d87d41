package webhook_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/heraldhq/herald/webhook"
)

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"a":1}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	headers := func(ts, sig string) http.Header {
		h := http.Header{}
		h.Set(webhook.TimestampHeader, ts)
		h.Set(webhook.SignatureHeader, sig)
		return h
	}
	tests := []struct {
		name string
		h    http.Header
		body []byte
		ok   bool
	}{
		{"accepts the signature over timestamp and body", headers(ts, webhook.Sign(secret, ts, body)), body, true},
		{"refuses a changed body", headers(ts, webhook.Sign(secret, ts, body)), []byte(`{"a":2}`), false},
		{"refuses another secret", headers(ts, webhook.Sign([]byte("other"), ts, body)), body, false},
		{"refuses a changed timestamp", headers("1700000001", webhook.Sign(secret, ts, body)), body, false},
		{"refuses an old timestamp", headers("1699999000", webhook.Sign(secret, "1699999000", body)), body, false},
		{"refuses missing headers", http.Header{}, body, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := webhook.Verify(secret, tt.h, tt.body, now, 5*time.Minute)
			if (err == nil) != tt.ok {
				t.Errorf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}

	t.Run("the signature is v0= and hex HMAC-SHA256 of v0:ts:body", func(t *testing.T) {
		t.Parallel()
		// Computed independently: printf 'v0:1700000000:{"a":1}' | openssl dgst -sha256 -hmac whsec
		const want = "v0=14ec4091757826527e2076a6a6a53e817f526ff3b6df8a1163f8e38f51906e58"
		if got := webhook.Sign(secret, ts, body); got != want {
			t.Errorf("Sign = %s, want %s", got, want)
		}
	})
}
