package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/heraldhq/herald"
)

// claimBatch is how many due deliveries one claim leases.
const claimBatch = 256

// Kick wakes the sender loop: a delivery is due now.
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run is the sender loop: it claims due deliveries and sends them, Concurrency at a time,
// until ctx ends, then waits for the sends in flight. It also forgets rendered content past
// the retention period.
func (s *Service) Run(ctx context.Context) {
	sem := make(chan struct{}, s.cfg.Concurrency)
	outcomes := make(chan outcome, s.cfg.Concurrency)
	recorded := make(chan struct{})
	go func() { s.record(outcomes); close(recorded) }()
	defer func() { s.running.Wait(); close(outcomes); <-recorded }()
	var lastPrune time.Time
	for ctx.Err() == nil {
		n := s.dispatch(ctx, sem, outcomes)
		if time.Since(lastPrune) > 10*time.Minute {
			lastPrune = time.Now()
			before := s.cfg.Now().Add(-s.cfg.Retention).Unix()
			if _, err := s.store.PruneDeliveryContent(ctx, before); err != nil && ctx.Err() == nil {
				s.log.Error("prune delivery content", "err", err)
			}
		}
		if n == claimBatch {
			continue // more are due
		}
		t := time.NewTimer(s.cfg.Poll)
		select {
		case <-ctx.Done():
		case <-s.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// dispatch claims one batch of due deliveries and starts their sends; it returns how many it
// claimed.
func (s *Service) dispatch(ctx context.Context, sem chan struct{}, outcomes chan<- outcome) int {
	now := s.cfg.Now()
	ds, err := s.store.ClaimDeliveries(ctx, now.Unix(), now.Add(s.cfg.Lease).Unix(), claimBatch)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("claim deliveries", "err", err)
		}
		return 0
	}
	for i, d := range ds {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			// Stopping: the rest go back, to be claimed at once by whoever runs next.
			var ids []string
			for _, rest := range ds[i:] {
				ids = append(ids, rest.ID)
			}
			release, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := s.store.ReleaseDeliveries(release, ids); err != nil {
				s.log.Error("release deliveries", "count", len(ids), "err", err)
			}
			return len(ds)
		}
		s.running.Add(1)
		go func(d *herald.Delivery) {
			defer func() { <-sem; s.running.Done() }()
			outcomes <- s.deliver(context.WithoutCancel(ctx), d)
		}(d)
	}
	return len(ds)
}

// outcome is what one send attempt produced, for the recorder to write.
type outcome struct {
	ws  int64
	ops []herald.Op // the DeliveryMetric first, then device deletions
}

// deliver sends one claimed delivery and returns the outcome to record.
func (s *Service) deliver(ctx context.Context, d *herald.Delivery) outcome {
	res, err := s.sendContent(ctx, d)
	op := &herald.DeliveryMetric{DeliveryID: d.ID, Attempt: d.Attempts, Recipient: d.Recipient}
	var extra []herald.Op
	se := herald.AsSendError(err)
	switch {
	case err == nil:
		op.Metric = herald.StatusSent
		if !d.Retain {
			op.Content = json.RawMessage{}
		}
		extra = s.unregistered(d, res)
	case se.Permanent:
		op.Metric, op.Reason = herald.StatusFailed, se.Error()
		if se.Code == herald.SendRejected || se.Code == herald.SendUnregistered {
			op.Metric = herald.StatusBounced
		}
		extra = s.unregistered(d, res)
	case d.Attempts >= s.cfg.MaxAttempts:
		op.Metric, op.Reason = herald.StatusFailed, "gave up after "+strconv.Itoa(d.Attempts)+" attempts: "+se.Error()
	default:
		op.Metric, op.Reason = herald.StatusAttempted, se.Error()
		op.RetryAt = s.cfg.Now().Add(s.backoff(d.Attempts, se.RetryAfter)).Unix()
	}
	return outcome{ws: d.WorkspaceID, ops: append([]herald.Op{op}, extra...)}
}

// recordBatch bounds the outcomes written in one transaction.
const recordBatch = 256

// record writes outcomes as they come, as many per write as are waiting, until outcomes is
// closed. A sent message whose outcome is not recorded would be sent again when its lease
// ends, so a failed write is retried for a while before it is given up (and logged).
func (s *Service) record(outcomes <-chan outcome) {
	ctx := context.Background()
	for first := range outcomes {
		batch := map[int64][]herald.Op{first.ws: first.ops}
	gather:
		for n := 1; n < recordBatch; n++ {
			select {
			case o, ok := <-outcomes:
				if !ok {
					break gather
				}
				batch[o.ws] = append(batch[o.ws], o.ops...)
			default:
				break gather // nothing else is waiting: write what there is
			}
		}
		for ws, ops := range batch {
			var errs []error
			var err error
			for wait := 100 * time.Millisecond; ; wait *= 2 {
				if errs, err = s.store.Apply(ctx, ws, ops); err == nil || wait > 3*time.Second {
					break
				}
				time.Sleep(wait)
			}
			if err != nil {
				s.log.Error("record delivery outcomes", "count", len(ops), "err", err)
				continue
			}
			for i, e := range errs {
				if e != nil {
					s.log.Error("record delivery outcome", "op", fmt.Sprintf("%T", ops[i]), "err", e)
				}
			}
		}
	}
}

// backoff is the wait before attempt n+1: Backoff doubled per failed attempt, at most
// MaxBackoff, and never shorter than the provider's Retry-After.
func (s *Service) backoff(n int, hint time.Duration) time.Duration {
	d := s.cfg.Backoff
	for i := 1; i < n && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.cfg.MaxBackoff)
	return max(d, hint)
}

// unregistered deletes the devices a push found gone (FCM UNREGISTERED).
func (s *Service) unregistered(d *herald.Delivery, res herald.SendResult) []herald.Op {
	var ops []herald.Op
	for _, r := range res.Recipients {
		if se := herald.AsSendError(r.Err); se != nil && se.Code == herald.SendUnregistered {
			ops = append(ops, &herald.DeleteDevice{Ref: herald.PersonRef{Kind: herald.ByCioID, Value: d.Customer.CioID}, Token: r.To})
		}
	}
	return ops
}

// sendContent decodes a delivery's rendered content and hands it to its channel.
func (s *Service) sendContent(ctx context.Context, d *herald.Delivery) (herald.SendResult, error) {
	if len(d.Content) == 0 {
		return herald.SendResult{}, herald.PermanentError(herald.SendInvalid, "", "the rendered message is no longer stored", nil)
	}
	notConfigured := herald.PermanentError(herald.SendInvalid, "", "the "+string(d.Channel)+" channel is not configured on this server", nil)
	ch, err := s.channelsOf(ctx, d.WorkspaceID)
	if err != nil {
		return herald.SendResult{}, err
	}
	switch d.Channel {
	case herald.ChannelEmail:
		return send(ctx, ch.Email, d.Content, notConfigured)
	case herald.ChannelSMS:
		return send(ctx, ch.SMS, d.Content, notConfigured)
	case herald.ChannelPush:
		return send(ctx, ch.Push, d.Content, notConfigured)
	case herald.ChannelWebhook:
		return send(ctx, ch.Webhook, d.Content, notConfigured)
	case herald.ChannelInApp:
		var m herald.InboxMessage
		if err := json.Unmarshal(d.Content, &m); err != nil {
			return herald.SendResult{}, herald.PermanentError(herald.SendInvalid, "", "stored content does not decode", err)
		}
		m.CreatedAt = s.cfg.Now().Unix()
		if err := s.store.PutInboxMessage(ctx, d.WorkspaceID, d.PersonPK, m); err != nil {
			return herald.SendResult{}, herald.TemporaryError(herald.SendUnavailable, "", "inbox", err)
		}
		m.State = herald.StatusQueued
		s.hub.publish(d.WorkspaceID, d.PersonPK, m)
		return herald.SendResult{ProviderID: d.ID, Status: "in inbox", Attempts: 1}, nil
	}
	return herald.SendResult{}, herald.PermanentError(herald.SendInvalid, "", "unknown channel "+string(d.Channel), nil)
}

// channelsOf returns the senders for workspace ws: its own where its settings configure them,
// the server's otherwise.
func (s *Service) channelsOf(ctx context.Context, ws int64) (Channels, error) {
	if s.cfg.ChannelsFor == nil {
		return s.channels, nil
	}
	wc, err := s.workspace(ctx, ws)
	if err != nil {
		return Channels{}, herald.TemporaryError(herald.SendUnavailable, "", "reading channel settings", err)
	}
	if len(wc.settings) == 0 {
		return s.channels, nil
	}
	own, err := s.cfg.ChannelsFor(wc.settings)
	if err != nil {
		return Channels{}, herald.PermanentError(herald.SendInvalid, "", "channel settings", err)
	}
	ch := s.channels
	if own.Email != nil {
		ch.Email = own.Email
	}
	if own.SMS != nil {
		ch.SMS = own.SMS
	}
	if own.Push != nil {
		ch.Push = own.Push
	}
	if own.Webhook != nil {
		ch.Webhook = own.Webhook
	}
	return ch, nil
}

func send[M any](ctx context.Context, to Sender[M], content json.RawMessage, notConfigured error) (herald.SendResult, error) {
	if to == nil {
		return herald.SendResult{}, notConfigured
	}
	var m M
	if err := json.Unmarshal(content, &m); err != nil {
		return herald.SendResult{}, herald.PermanentError(herald.SendInvalid, "", "stored content does not decode", err)
	}
	return to.Send(ctx, &m)
}
