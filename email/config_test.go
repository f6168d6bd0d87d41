package email_test

import (
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/email"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		url      string
		want     email.Config
		wantSkip bool
		wantCode herald.Code
	}{
		{
			name: "reads credentials, host, port and tls mode",
			url:  "smtp://user%40x:p%3Ass@mail.test:2525?tls=none",
			want: email.Config{Host: "mail.test", Port: 2525, Username: "user@x", Password: "p:ss", TLS: email.TLSNone, From: "f@x.test"},
		},
		{
			name: "defaults to STARTTLS and leaves the port to New",
			url:  "smtp://mail.test",
			want: email.Config{Host: "mail.test", TLS: email.TLSStartTLS, From: "f@x.test"},
		},
		{
			name: "smtps means implicit TLS",
			url:  "smtps://mail.test:465?pool=8",
			want: email.Config{Host: "mail.test", Port: 465, TLS: email.TLSImplicit, PoolSize: 8, From: "f@x.test"},
		},
		{
			name:     "skip_verify turns off certificate checks",
			url:      "smtp://mail.test?tls=tls&skip_verify=true",
			want:     email.Config{Host: "mail.test", TLS: email.TLSImplicit, From: "f@x.test"},
			wantSkip: true,
		},
		{name: "refuses another scheme", url: "http://mail.test", wantCode: herald.Invalid},
		{name: "refuses an unknown tls mode", url: "smtp://mail.test?tls=maybe", wantCode: herald.Invalid},
		{name: "refuses a bad port", url: "smtp://mail.test:0", wantCode: herald.Invalid},
		{name: "refuses a missing host", url: "smtp://", wantCode: herald.Required},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := email.ParseURL(tt.url, "f@x.test")
			if tt.wantCode != "" {
				if herald.ErrorCode(err) != tt.wantCode {
					t.Errorf("err = %v, want code %s", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			skip := got.TLSConfig != nil && got.TLSConfig.InsecureSkipVerify
			got.TLSConfig = nil
			if got != tt.want || skip != tt.wantSkip {
				t.Errorf("got %+v (skip %v), want %+v (skip %v)", got, skip, tt.want, tt.wantSkip)
			}
		})
	}
}
