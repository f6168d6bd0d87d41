package email_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/email"
)

func TestDKIM(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	edPub, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edDER, err := x509.MarshalPKCS8PrivateKey(edKey)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		pem    []byte
		record string // the DNS TXT record at selector._domainkey.domain
	}{
		{
			name:   "an RSA signature verifies against the published key",
			pem:    pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}),
			record: "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(rsaPub),
		},
		{
			name:   "an Ed25519 signature verifies against the published key",
			pem:    pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: edDER}),
			record: "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(edPub),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := setup(t, func(c *email.Config) {
				c.DKIM = &email.DKIM{Domain: "herald.test", Selector: "hd1", PrivateKeyPEM: tt.pem}
			})
			_, err := s.Send(context.Background(), &herald.Email{
				To: "ada@example.com", Subject: "Signed", HTML: "<p>Hello <b>Ada</b></p>", UnsubscribeURL: "https://herald.test/u/1",
			})
			if err != nil {
				t.Fatal(err)
			}
			lookups := 0
			vs, err := dkim.VerifyWithOptions(bytes.NewReader(ts.messages()[0].Data), &dkim.VerifyOptions{
				LookupTXT: func(domain string) ([]string, error) {
					lookups++
					if domain != "hd1._domainkey.herald.test" {
						t.Errorf("looked up %q", domain)
					}
					return []string{tt.record}, nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) != 1 || lookups != 1 {
				t.Fatalf("got %d signatures after %d lookups, want 1", len(vs), lookups)
			}
			if vs[0].Err != nil || vs[0].Domain != "herald.test" {
				t.Errorf("verification = %+v, want a valid signature by herald.test", vs[0])
			}
		})
	}

	t.Run("a bad key is refused at construction", func(t *testing.T) {
		t.Parallel()
		_, err := email.New(email.Config{Host: "127.0.0.1", DKIM: &email.DKIM{Domain: "d", Selector: "s", PrivateKeyPEM: []byte("nope")}})
		if herald.ErrorCode(err) != herald.Invalid {
			t.Errorf("err = %v, want invalid", err)
		}
	})
}
