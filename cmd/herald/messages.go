package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/email"
	"github.com/heraldhq/herald/liquid"
	"github.com/heraldhq/herald/push"
	"github.com/heraldhq/herald/sms"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/tracking"
	"github.com/heraldhq/herald/webhook"
)

// MessagesConfig is the server-wide channel configuration: the defaults every workspace sends
// with unless its channel settings say otherwise. A channel without configuration fails its
// deliveries with a reason saying so.
type MessagesConfig struct {
	PublicURL      string        `name:"public-url" env:"HERALD_PUBLIC_URL" help:"Public base URL of this server, for tracking and unsubscribe links (default http://<addr>)."`
	TrackingSecret string        `name:"tracking-secret" env:"HERALD_TRACKING_SECRET" help:"Key that signs tracking links (default derived from the default workspace's App API key)."`
	SMTPURL        string        `name:"smtp-url" env:"HERALD_SMTP_URL" help:"Email relay: smtp://user:pass@host:port?tls=none|starttls|tls (empty: no email)."`
	EmailFrom      string        `name:"email-from" env:"HERALD_EMAIL_FROM" default:"Herald <herald@localhost>" help:"Default From address of emails."`
	DKIMDomain     string        `name:"dkim-domain" env:"HERALD_DKIM_DOMAIN" help:"DKIM signing domain (d=); needs --dkim-selector and --dkim-key-file."`
	DKIMSelector   string        `name:"dkim-selector" env:"HERALD_DKIM_SELECTOR" help:"DKIM selector (s=)."`
	DKIMKeyFile    string        `name:"dkim-key-file" env:"HERALD_DKIM_KEY_FILE" help:"PEM file of the DKIM private key (RSA or Ed25519)."`
	TwilioSID      string        `name:"twilio-account-sid" env:"HERALD_TWILIO_ACCOUNT_SID" help:"Twilio-compatible SMS account SID (empty: no SMS)."`
	TwilioToken    string        `name:"twilio-auth-token" env:"HERALD_TWILIO_AUTH_TOKEN" help:"Twilio-compatible SMS auth token."`
	TwilioFrom     string        `name:"twilio-from" env:"HERALD_TWILIO_FROM" help:"Default SMS sender number."`
	TwilioURL      string        `name:"twilio-url" env:"HERALD_TWILIO_URL" help:"Base URL of the Twilio-compatible API (default https://api.twilio.com)."`
	FCMProject     string        `name:"fcm-project-id" env:"HERALD_FCM_PROJECT_ID" help:"FCM project id (empty: no push)."`
	FCMToken       string        `name:"fcm-access-token" env:"HERALD_FCM_ACCESS_TOKEN" help:"OAuth access token for the FCM HTTP v1 API."`
	FCMURL         string        `name:"fcm-url" env:"HERALD_FCM_URL" help:"Base URL of the FCM-compatible API (default https://fcm.googleapis.com)."`
	WebhookSecret  string        `name:"webhook-secret" env:"HERALD_WEBHOOK_SECRET" help:"Key that signs outgoing webhooks (X-Herald-Signature); empty sends them unsigned."`
	WebhookAllow   []string      `name:"webhook-allow-cidrs" env:"HERALD_WEBHOOK_ALLOW_CIDRS" sep:"," help:"Internal address ranges webhooks may reach (default none: private, loopback and link-local are refused)."`
	Retention      time.Duration `name:"delivery-retention" env:"HERALD_DELIVERY_RETENTION" default:"720h" help:"How long the rendered content of sent messages is kept."`
	WorkerLease    time.Duration `name:"worker-lease" env:"HERALD_WORKER_LEASE" default:"1m" help:"How long a process holds a claimed delivery or journey: after a crash, another process (or this one restarted) takes it over when this has passed. Must exceed the longest send."`
}

// messaging is the running delivery service and what closes it.
type messaging struct {
	svc     *delivery.Service
	engine  *liquid.Engine
	closers []func() error
}

// startMessaging builds the channels and the delivery service and runs its sender loop; the
// returned function stops the loop, waits for the sends in flight and closes the channels.
func (c *MessagesConfig) startMessaging(ctx context.Context, s *store.Store, ws *herald.Workspace, addr string, log *slog.Logger) (*messaging, func(), error) {
	m := &messaging{engine: liquid.New(liquid.Options{})}
	public := strings.TrimSuffix(c.PublicURL, "/")
	if public == "" {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, nil, fmt.Errorf("public-url: set it; the address %q does not say one", addr)
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		public = "http://" + net.JoinHostPort(host, port)
	}
	secret := []byte(c.TrackingSecret)
	if len(secret) == 0 {
		sum := sha256.Sum256([]byte("herald-tracking:" + ws.AppAPIKey))
		secret = sum[:]
	}
	tracker := &email.Tracker{BaseURL: public, Secret: secret}
	var ch delivery.Channels
	if c.SMTPURL != "" {
		cfg, err := email.ParseURL(c.SMTPURL, c.EmailFrom)
		if err != nil {
			return nil, nil, err
		}
		cfg.Tracker = tracker
		if c.DKIMDomain != "" {
			key, err := os.ReadFile(c.DKIMKeyFile)
			if err != nil {
				return nil, nil, fmt.Errorf("dkim-key-file: %w", err)
			}
			cfg.DKIM = &email.DKIM{Domain: c.DKIMDomain, Selector: c.DKIMSelector, PrivateKeyPEM: key}
		}
		sender, err := email.New(cfg)
		if err != nil {
			return nil, nil, err
		}
		ch.Email = sender
		m.closers = append(m.closers, sender.Close)
	}
	if c.TwilioSID != "" {
		client, err := sms.New(sms.Config{AccountSID: c.TwilioSID, AuthToken: c.TwilioToken, From: c.TwilioFrom, BaseURL: c.TwilioURL})
		if err != nil {
			return nil, nil, err
		}
		ch.SMS = client
	}
	if c.FCMProject != "" {
		client, err := push.New(push.Config{ProjectID: c.FCMProject, AccessToken: c.FCMToken, BaseURL: c.FCMURL})
		if err != nil {
			return nil, nil, err
		}
		ch.Push = client
	}
	var allow []netip.Prefix
	for _, cidr := range c.WebhookAllow {
		p, err := netip.ParsePrefix(strings.TrimSpace(cidr))
		if err != nil {
			return nil, nil, fmt.Errorf("webhook-allow-cidrs: %q: %w", cidr, err)
		}
		allow = append(allow, p)
	}
	hooks := webhook.New(webhook.Config{Secret: []byte(c.WebhookSecret), AllowCIDRs: allow})
	ch.Webhook = hooks
	m.closers = append(m.closers, hooks.Close)
	own := &workspaceChannels{tracker: tracker, allow: allow}
	m.closers = append(m.closers, func() error { own.close(); return nil })
	m.svc = delivery.New(s, m.engine, ch, delivery.Config{
		PublicURL: public, Retention: c.Retention, ChannelsFor: own.channels, Lease: c.WorkerLease,
		VerifyOpen: tracker.VerifyOpen,
		VerifyClick: func(token string) (string, string, error) {
			click, err := tracker.VerifyClick(token)
			return click.DeliveryID, click.URL, err
		},
	}, log)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { m.svc.Run(ctx); close(done) }()
	wait := func() {
		cancel()
		<-done
		for _, c := range m.closers {
			c()
		}
	}
	return m, wait, nil
}

// register adds the tracking and inbox endpoints to mux.
func (m *messaging) register(mux *http.ServeMux, log *slog.Logger) {
	tracking.New(m.svc, log).Register(mux)
}
