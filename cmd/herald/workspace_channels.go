package main

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sync"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/email"
	"github.com/heraldhq/herald/push"
	"github.com/heraldhq/herald/sms"
	"github.com/heraldhq/herald/webhook"
)

// workspaceChannels builds the senders a workspace's channel settings configure for
// themselves, once per distinct settings document:
//
//	email:   {"smtp_url": "smtp://…", "from": "…"}            its own relay (tracked as the server's)
//	sms:     {"account_sid", "auth_token", "from", "url"}     its own Twilio-compatible account
//	push:    {"project_id", "access_token", "url"}            its own FCM project
//	webhook: {"secret": "…"}                                  its own signing key
//
// Settings without those keys (only "from", say) keep the server's sender.
type workspaceChannels struct {
	tracker *email.Tracker
	allow   []netip.Prefix

	mu      sync.Mutex
	senders map[string]any // channel + settings JSON → sender
	closers []func() error
}

func (wc *workspaceChannels) channels(settings map[herald.Channel]json.RawMessage) (delivery.Channels, error) {
	var ch delivery.Channels
	for name, raw := range settings {
		var cfg map[string]string
		if err := json.Unmarshal(raw, &cfg); err != nil {
			continue // settings with non-string values configure no sender of their own
		}
		switch name {
		case herald.ChannelEmail:
			if cfg["smtp_url"] == "" {
				continue
			}
			s, err := wc.sender(name, raw, func() (any, error) {
				c, err := email.ParseURL(cfg["smtp_url"], cfg["from"])
				if err != nil {
					return nil, err
				}
				c.Tracker = wc.tracker
				return email.New(c)
			})
			if err != nil {
				return ch, fmt.Errorf("email.smtp_url: %w", err)
			}
			ch.Email = s.(*email.Sender)
		case herald.ChannelSMS:
			if cfg["account_sid"] == "" {
				continue
			}
			s, err := wc.sender(name, raw, func() (any, error) {
				return sms.New(sms.Config{AccountSID: cfg["account_sid"], AuthToken: cfg["auth_token"], From: cfg["from"], BaseURL: cfg["url"]})
			})
			if err != nil {
				return ch, fmt.Errorf("sms: %w", err)
			}
			ch.SMS = s.(*sms.Client)
		case herald.ChannelPush:
			if cfg["project_id"] == "" {
				continue
			}
			s, err := wc.sender(name, raw, func() (any, error) {
				return push.New(push.Config{ProjectID: cfg["project_id"], AccessToken: cfg["access_token"], BaseURL: cfg["url"]})
			})
			if err != nil {
				return ch, fmt.Errorf("push: %w", err)
			}
			ch.Push = s.(*push.Client)
		case herald.ChannelWebhook:
			if cfg["secret"] == "" {
				continue
			}
			s, _ := wc.sender(name, raw, func() (any, error) {
				return webhook.New(webhook.Config{Secret: []byte(cfg["secret"]), AllowCIDRs: wc.allow}), nil
			})
			ch.Webhook = s.(*webhook.Client)
		}
	}
	return ch, nil
}

// sender returns the cached sender of one settings document, building it on first use.
func (wc *workspaceChannels) sender(ch herald.Channel, raw json.RawMessage, build func() (any, error)) (any, error) {
	key := string(ch) + "\x00" + string(raw)
	wc.mu.Lock()
	defer wc.mu.Unlock()
	if s, ok := wc.senders[key]; ok {
		return s, nil
	}
	s, err := build()
	if err != nil {
		return nil, err
	}
	if wc.senders == nil {
		wc.senders = map[string]any{}
	}
	wc.senders[key] = s
	if c, ok := s.(interface{ Close() error }); ok {
		wc.closers = append(wc.closers, c.Close)
	}
	return s, nil
}

func (wc *workspaceChannels) close() {
	wc.mu.Lock()
	defer wc.mu.Unlock()
	for _, c := range wc.closers {
		c()
	}
}
