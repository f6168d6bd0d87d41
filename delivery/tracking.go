package delivery

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/heraldhq/herald"
)

// Opened records the open that an email's pixel token reports.
func (s *Service) Opened(ctx context.Context, token string) error {
	if s.cfg.VerifyOpen == nil {
		return herald.Errorf(herald.NotFound, "token", "tracking is not configured")
	}
	id, err := s.cfg.VerifyOpen(token)
	if err != nil {
		return herald.Errorf(herald.NotFound, "token", "not a tracking token of this server")
	}
	return s.Metric(ctx, 0, herald.DeliveryMetric{DeliveryID: id, Metric: herald.StatusOpened})
}

// Clicked records the click that a tracked link's token reports and returns where it goes.
func (s *Service) Clicked(ctx context.Context, token string) (string, error) {
	if s.cfg.VerifyClick == nil {
		return "", herald.Errorf(herald.NotFound, "token", "tracking is not configured")
	}
	id, link, err := s.cfg.VerifyClick(token)
	if err != nil {
		return "", herald.Errorf(herald.NotFound, "token", "not a tracking token of this server")
	}
	if err := s.Metric(ctx, 0, herald.DeliveryMetric{DeliveryID: id, Metric: herald.StatusClicked, Href: link}); err != nil &&
		herald.ErrorCode(err) != herald.NotFound {
		return link, err // the reader still gets where the link goes
	}
	return link, nil
}

// ViewInBrowser returns the HTML of a sent email while its content is retained: what
// {% view_in_browser_url %} shows. Like the unsubscribe link, the unguessable delivery id is
// its key.
func (s *Service) ViewInBrowser(ctx context.Context, deliveryID string) (string, error) {
	d, err := s.store.Delivery(ctx, 0, deliveryID)
	if err != nil {
		return "", err
	}
	var e herald.Email
	if d.Channel != herald.ChannelEmail || len(d.Content) == 0 || json.Unmarshal(d.Content, &e) != nil || e.HTML == "" {
		return "", herald.Errorf(herald.NotFound, "delivery_id", "this message is not kept")
	}
	return e.HTML, nil
}

// Metric records a reported metric of a delivery of workspace ws (0: whichever workspace the
// delivery belongs to, for links that carry only its id).
func (s *Service) Metric(ctx context.Context, ws int64, m herald.DeliveryMetric) error {
	if ws == 0 {
		d, err := s.store.Delivery(ctx, 0, m.DeliveryID)
		if err != nil {
			return err
		}
		ws = d.WorkspaceID
	}
	errs, err := s.store.Apply(ctx, ws, []herald.Op{&m})
	if err != nil {
		return err
	}
	return errs[0]
}

// Unsubscribe sets unsubscribed: true on the delivery's recipient through the write path and
// records unsubscribed on the delivery, in one transaction. It needs no login: the delivery id
// is unguessable.
func (s *Service) Unsubscribe(ctx context.Context, deliveryID string) error {
	d, err := s.store.Delivery(ctx, 0, deliveryID)
	if err != nil {
		return err
	}
	ops := []herald.Op{
		&herald.IdentifyPerson{Ref: herald.PersonRef{Kind: herald.ByCioID, Value: d.Customer.CioID}, UpdateOnly: true,
			Attributes: herald.Attributes{"unsubscribed": []byte("true")}},
		&herald.DeliveryMetric{DeliveryID: d.ID, Metric: herald.StatusUnsubscribed},
	}
	errs, err := s.store.Apply(ctx, d.WorkspaceID, ops)
	if err != nil {
		return err
	}
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// reader is the verified owner of an inbox token.
type reader struct {
	ws     *herald.Workspace
	person *herald.Person
}

func (s *Service) reader(ctx context.Context, token string) (*reader, error) {
	site, ident, mac, err := herald.ParseInboxToken(token)
	if err != nil {
		return nil, err
	}
	bad := herald.Errorf(herald.Unauthorized, "token", "not a valid inbox token")
	ws, err := s.store.WorkspaceBySiteID(ctx, site)
	if err != nil {
		return nil, bad
	}
	if !herald.CheckInboxToken(ws, ident, mac) {
		return nil, bad
	}
	p, err := s.store.Person(ctx, ws.ID, herald.PathRef(ident))
	if err != nil {
		return nil, herald.WithField(err, "token")
	}
	return &reader{ws: ws, person: p}, nil
}

// Inbox returns the in-app messages waiting for the token's owner, newest first.
func (s *Service) Inbox(ctx context.Context, token string) ([]herald.InboxMessage, error) {
	r, err := s.reader(ctx, token)
	if err != nil {
		return nil, err
	}
	return s.store.Inbox(ctx, r.ws.ID, r.person.PK, 100)
}

// InboxEvent records what the token's owner did with an in-app message: opened, clicked or
// dismissed.
func (s *Service) InboxEvent(ctx context.Context, token, deliveryID, metric string) error {
	switch metric {
	case herald.StatusOpened, herald.StatusClicked, herald.StatusDismissed:
	default:
		return herald.Errorf(herald.Invalid, "metric", "%q is not opened, clicked or dismissed", metric)
	}
	r, err := s.reader(ctx, token)
	if err != nil {
		return err
	}
	if err := s.store.SetInboxState(ctx, r.ws.ID, r.person.PK, deliveryID, metric); err != nil {
		return err
	}
	return s.Metric(ctx, r.ws.ID, herald.DeliveryMetric{DeliveryID: deliveryID, Metric: metric})
}

// Subscribe returns the in-app messages sent to the token's owner from now on, until cancel
// is called. Messages are delivered live within this process; readers also re-fetch the
// inbox when they connect.
func (s *Service) Subscribe(ctx context.Context, token string) (<-chan herald.InboxMessage, func(), error) {
	r, err := s.reader(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	ch, cancel := s.hub.subscribe(r.ws.ID, r.person.PK)
	return ch, cancel, nil
}

// hub fans in-app messages out to live subscribers.
type hub struct {
	mu   sync.Mutex
	subs map[[2]int64]map[chan herald.InboxMessage]struct{}
}

func (h *hub) subscribe(ws, pk int64) (<-chan herald.InboxMessage, func()) {
	ch := make(chan herald.InboxMessage, 16)
	k := [2]int64{ws, pk}
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[[2]int64]map[chan herald.InboxMessage]struct{}{}
	}
	if h.subs[k] == nil {
		h.subs[k] = map[chan herald.InboxMessage]struct{}{}
	}
	h.subs[k][ch] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs[k], ch)
			if len(h.subs[k]) == 0 {
				delete(h.subs, k)
			}
			h.mu.Unlock()
		})
	}
}

func (h *hub) publish(ws, pk int64, m herald.InboxMessage) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[[2]int64{ws, pk}] {
		select {
		case ch <- m:
		default: // a stalled reader re-fetches the inbox when it reconnects
		}
	}
}
