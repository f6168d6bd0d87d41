// Package delivery turns "send this message to this person, in this context" into a delivered,
// tracked message: it builds the Liquid render context from the store (customer, trigger
// object and relationship, event, related objects loaded lazily, snippets), renders the
// channel's fields, refuses marketing messages to unsubscribed people, records the delivery
// through the write path, and sends it through a channel with retries and backoff.
//
// Sending is durable: Send records the delivery queued (with its rendered content) and a
// sender loop (Run) claims due deliveries with a lease, so a delivery survives a restart and
// is never sent by two senders at once. Every outcome (sent, bounced, failed, attempted,
// suppressed) is a herald.DeliveryMetric applied through the write path, so it joins the
// delivery's history and the person's activity log in one transaction.
//
// Deliveries are not River jobs: the deliveries table is both the record and the outbox, and
// one claim leases a batch of its rows (River's SQLite driver polls every ~1.5s and moves
// ~600 jobs/s; a transactional email should leave at once, thousands a second).
//
// It is a service package: it renders with package liquid, and holds the channel clients
// behind its own small Sender interface, so it imports no channel package.
package delivery

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/liquid"
)

// Sender is one channel's client: email, SMS, push and webhook packages each provide one.
type Sender[M any] interface {
	Send(ctx context.Context, m *M) (herald.SendResult, error)
}

// Channels are the senders of the server-wide channel configuration. A nil sender makes its
// channel's deliveries fail with a reason saying it is not configured.
type Channels struct {
	Email   Sender[herald.Email]
	SMS     Sender[herald.SMS]
	Push    Sender[herald.Push]
	Webhook Sender[herald.Webhook]
}

// Store is what deliveries need of storage.
type Store interface {
	Apply(ctx context.Context, ws int64, ops []herald.Op) ([]error, error)
	Person(ctx context.Context, ws int64, ref herald.PersonRef) (*herald.Person, error)
	Devices(ctx context.Context, personPK int64) ([]herald.Device, error)
	Object(ctx context.Context, ws int64, ref herald.ObjectRef) (*herald.Object, error)
	ObjectType(ctx context.Context, ws int64, id int) (*herald.ObjectType, error)
	ObjectTypeBySlug(ctx context.Context, ws int64, slug string, singular bool) (*herald.ObjectType, error)
	RelatedObjects(ctx context.Context, pk int64, typeID, limit int) ([]herald.RelatedObject, error)
	Relationship(ctx context.Context, pk, objectPK int64) (herald.Attributes, error)
	Snippets(ctx context.Context, ws int64) ([]herald.Snippet, error)
	Template(ctx context.Context, ws int64, ref string) (*herald.Template, error)
	ChannelSettings(ctx context.Context, ws int64) (map[herald.Channel]json.RawMessage, error)
	Delivery(ctx context.Context, ws int64, id string) (*herald.Delivery, error)
	ClaimDeliveries(ctx context.Context, now, leaseUntil int64, limit int) ([]*herald.Delivery, error)
	ReleaseDeliveries(ctx context.Context, ids []string) error
	NextDeliveryDue(ctx context.Context) (int64, error)
	PruneDeliveryContent(ctx context.Context, before int64) (int64, error)
	NewDeliveryID() string
	PutInboxMessage(ctx context.Context, ws, pk int64, m herald.InboxMessage) error
	Inbox(ctx context.Context, ws, pk int64, limit int) ([]herald.InboxMessage, error)
	SetInboxState(ctx context.Context, ws, pk int64, deliveryID, state string) error
	WorkspaceBySiteID(ctx context.Context, siteID string) (*herald.Workspace, error)
}

// Config configures a Service; zero fields take the documented defaults.
type Config struct {
	// PublicURL is Herald's public base URL, for unsubscribe links. Empty: no unsubscribe
	// links (and no List-Unsubscribe header).
	PublicURL string
	// Concurrency bounds the sends in flight. Default 64.
	Concurrency int
	// MaxAttempts bounds the attempts at one delivery; after the last temporary failure it
	// fails. Default 8.
	MaxAttempts int
	// Backoff is the wait after the first temporary failure, doubled after each one up to
	// MaxBackoff. Defaults 30s and 1h.
	Backoff, MaxBackoff time.Duration
	// Lease is how long a claimed delivery is kept from other senders; it must exceed the
	// longest send. Default 5m.
	Lease time.Duration
	// Poll is how often the sender loop looks for due deliveries when nothing wakes it.
	// Default 1s.
	Poll time.Duration
	// Retention is how long rendered content is kept after a delivery finishes. Default 30 days.
	Retention time.Duration
	// MaxObjects is how many related objects of one type templates may load. Default 1000.
	MaxObjects int
	// VerifyOpen and VerifyClick check open-pixel and click tokens (email.Tracker's); nil
	// refuses every token.
	VerifyOpen  func(token string) (deliveryID string, err error)
	VerifyClick func(token string) (deliveryID, url string, err error)
	// ChannelsFor, when set, returns the senders a workspace's channel settings configure for
	// themselves (its own SMTP relay, SMS or push account, webhook secret); nil fields, and
	// workspaces without such settings, use the server's Channels. An error fails the delivery
	// with it as the reason.
	ChannelsFor func(settings map[herald.Channel]json.RawMessage) (Channels, error)
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 64
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.MaxObjects <= 0 {
		c.MaxObjects = 1000
	}
	def(&c.Backoff, 30*time.Second)
	def(&c.MaxBackoff, time.Hour)
	def(&c.Lease, 5*time.Minute)
	def(&c.Poll, time.Second)
	def(&c.Retention, 30*24*time.Hour)
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Service renders, records and sends messages. It is safe for concurrent use.
type Service struct {
	store    Store
	engine   *liquid.Engine
	channels Channels
	cfg      Config
	log      *slog.Logger

	kick    chan struct{} // wakes the sender loop
	hub     hub           // live in-app subscribers
	cacheMu sync.Mutex
	cache   map[int64]*workspaceCache
	running sync.WaitGroup // sends in flight
}

// New returns a Service rendering with engine and sending through channels.
func New(s Store, engine *liquid.Engine, channels Channels, cfg Config, log *slog.Logger) *Service {
	return &Service{store: s, engine: engine, channels: channels, cfg: cfg.withDefaults(), log: log,
		kick: make(chan struct{}, 1), cache: map[int64]*workspaceCache{}}
}

// workspaceCache holds a workspace's snippets and channel settings for a short while: they
// are read for every message, and change rarely.
type workspaceCache struct {
	loaded   time.Time
	snippets map[string]string
	settings map[herald.Channel]json.RawMessage
	types    sync.Map // plural slug → *herald.ObjectType, or nil for no such type
}

const cacheTTL = 2 * time.Second

func (s *Service) workspace(ctx context.Context, ws int64) (*workspaceCache, error) {
	s.cacheMu.Lock()
	c := s.cache[ws]
	s.cacheMu.Unlock()
	if c != nil && time.Since(c.loaded) < cacheTTL {
		return c, nil
	}
	sn, err := s.store.Snippets(ctx, ws)
	if err != nil {
		return nil, err
	}
	settings, err := s.store.ChannelSettings(ctx, ws)
	if err != nil {
		return nil, err
	}
	c = &workspaceCache{loaded: time.Now(), snippets: make(map[string]string, len(sn)), settings: settings}
	for _, x := range sn {
		c.snippets[x.Name] = x.Value
	}
	s.cacheMu.Lock()
	s.cache[ws] = c
	s.cacheMu.Unlock()
	return c, nil
}

// setting returns a string setting of a channel for the workspace ("" when unset).
func (c *workspaceCache) setting(ch herald.Channel, key string) string {
	var m map[string]any
	if raw, ok := c.settings[ch]; ok {
		_ = json.Unmarshal(raw, &m)
	}
	v, _ := m[key].(string)
	return v
}
