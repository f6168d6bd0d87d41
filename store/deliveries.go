package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/heraldhq/herald"
)

const deliveryCols = `d.id, d.workspace_id, d.person_pk, COALESCE(p.ext_id, ''), COALESCE(p.email, ''), COALESCE(p.cio_id, ''),
	d.channel, COALESCE(d.campaign_id, 0), COALESCE(d.action_id, 0), COALESCE(d.template_id, 0), d.transactional, d.status, d.reason,
	d.recipient, d.subject, d.content, d.retain, d.attempts, d.next_attempt_at, d.created_at, d.updated_at`

const deliveryFrom = " FROM deliveries d LEFT JOIN people p ON p.pk = d.person_pk"

func scanDelivery(row interface{ Scan(...any) error }) (*herald.Delivery, error) {
	var d herald.Delivery
	var content sql.NullString
	err := row.Scan(&d.ID, &d.WorkspaceID, &d.PersonPK, &d.Customer.ID, &d.Customer.Email, &d.Customer.CioID,
		&d.Channel, &d.CampaignID, &d.ActionID, &d.TemplateID, &d.Transactional, &d.Status, &d.Reason,
		&d.Recipient, &d.Subject, &content, &d.Retain, &d.Attempts, &d.NextAttemptAt, &d.CreatedAt, &d.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, herald.Errorf(herald.NotFound, "delivery_id", "no such delivery")
	}
	if err != nil {
		return nil, err
	}
	if content.Valid {
		d.Content = []byte(content.String)
	}
	return &d, nil
}

// NewDeliveryID returns a fresh delivery id: 16 random bytes in URL-safe base64, unguessable
// because it also addresses the delivery's unsubscribe link.
func (s *Store) NewDeliveryID() string {
	b := make([]byte, 16)
	if _, err := io.ReadFull(s.Rand, b); err != nil {
		panic(fmt.Sprintf("read random bytes: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Delivery returns delivery id of workspace ws; ws 0 finds it in any workspace (tracking
// links and unsubscribe pages carry only the id).
func (s *Store) Delivery(ctx context.Context, ws int64, id string) (*herald.Delivery, error) {
	if ws == 0 {
		return scanDelivery(s.reader().QueryRowContext(ctx, s.q("SELECT "+deliveryCols+deliveryFrom+" WHERE d.id = ?"), id))
	}
	return scanDelivery(s.reader().QueryRowContext(ctx, s.q("SELECT "+deliveryCols+deliveryFrom+" WHERE d.id = ? AND d.workspace_id = ?"), id, ws))
}

// DeliveryHistory returns a delivery's status history, oldest first.
func (s *Store) DeliveryHistory(ctx context.Context, id string) ([]herald.DeliveryEvent, error) {
	rows, err := s.reader().QueryContext(ctx, s.q("SELECT metric, timestamp, reason, data FROM delivery_events WHERE delivery_id = ? ORDER BY pk"), id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []herald.DeliveryEvent{}
	for rows.Next() {
		var e herald.DeliveryEvent
		var data sql.NullString
		if err := rows.Scan(&e.Metric, &e.Timestamp, &e.Reason, &data); err != nil {
			return nil, err
		}
		if data.Valid {
			e.Data = []byte(data.String)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// PersonDeliveries lists the deliveries to person pk, newest first. The page cursor is the key
// of a delivery's queued history entry, which orders deliveries by creation uniquely.
func (s *Store) PersonDeliveries(ctx context.Context, ws, pk int64, page herald.Page) ([]*herald.Delivery, int64, error) {
	return s.listDeliveries(ctx, "d.workspace_id = ? AND d.person_pk = ?", []any{ws, pk}, page)
}

// CampaignDeliveries lists the deliveries a campaign's journeys made, newest first, paged as
// PersonDeliveries.
func (s *Store) CampaignDeliveries(ctx context.Context, ws, campaignID int64, page herald.Page) ([]*herald.Delivery, int64, error) {
	return s.listDeliveries(ctx, "d.workspace_id = ? AND d.campaign_id = ?", []any{ws, campaignID}, page)
}

func (s *Store) listDeliveries(ctx context.Context, where string, args []any, page herald.Page) ([]*herald.Delivery, int64, error) {
	limit := page.PageLimit()
	before := page.After
	if before == 0 {
		before = 1<<63 - 1
	}
	rows, err := s.reader().QueryContext(ctx, s.q("SELECT "+deliveryCols+", q.pk"+deliveryFrom+
		" JOIN delivery_events q ON q.delivery_id = d.id AND q.metric = 'queued'"+
		" WHERE "+where+" AND q.pk < ? ORDER BY q.pk DESC LIMIT ?"), append(args, before, limit+1)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []*herald.Delivery{}
	var keys []int64
	for rows.Next() {
		var key int64
		d, err := scanDelivery(scanExtra{rows, &key})
		if err != nil {
			return nil, 0, err
		}
		out, keys = append(out, d), append(keys, key)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = keys[limit-1]
	}
	return out, next, nil
}

// scanExtra scans a row with one more column after a scanner's own.
type scanExtra struct {
	rows  *sql.Rows
	extra any
}

func (x scanExtra) Scan(dest ...any) error { return x.rows.Scan(append(dest, x.extra)...) }

// ClaimDeliveries leases up to limit due deliveries (queued or attempted, next attempt at or
// before now, no live lease) until leaseUntil and counts the attempt. A claimed delivery is
// invisible to other claims until its lease ends, so concurrent senders (goroutines or herald
// processes) never send one delivery twice; a sender that dies leaves it to be claimed again
// once the lease has run out.
func (s *Store) ClaimDeliveries(ctx context.Context, now, leaseUntil int64, limit int) ([]*herald.Delivery, error) {
	var out []*herald.Delivery
	skip := ""
	if s.d.name() == "postgres" {
		skip = " FOR UPDATE SKIP LOCKED"
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		out = nil
		// Select, then update by id: PostgreSQL runs an UPDATE … WHERE id IN (a locking
		// subquery with LIMIT) as a subplan per row, minutes over a large queue.
		rows, err := tx.QueryContext(ctx, s.q(`SELECT id FROM deliveries WHERE status IN ('queued', 'attempted') AND next_attempt_at <= ? AND lease_until <= ?
			ORDER BY next_attempt_at LIMIT ?`+skip), now, now, limit)
		if err != nil {
			return fmt.Errorf("claim deliveries: %w", err)
		}
		var ids []any
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(ids) == 0 {
			return err
		}
		claim, claimArgs := s.d.in("id", ids)
		if _, err := tx.ExecContext(ctx, s.d.rebind("UPDATE deliveries SET lease_until = ?, attempts = attempts + 1 WHERE "+claim),
			append([]any{leaseUntil}, claimArgs...)...); err != nil {
			return fmt.Errorf("claim deliveries: %w", err)
		}
		in, args := s.d.in("d.id", ids)
		rows, err = tx.QueryContext(ctx, s.q("SELECT "+deliveryCols+deliveryFrom+" WHERE "+in), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	return out, err
}

// NextDeliveryDue returns when the earliest pending delivery is due (unix seconds), 0 when
// none is pending.
func (s *Store) NextDeliveryDue(ctx context.Context) (int64, error) {
	var at sql.NullInt64
	err := s.reader().QueryRowContext(ctx, "SELECT MIN(next_attempt_at) FROM deliveries WHERE status IN ('queued', 'attempted')").Scan(&at)
	return at.Int64, err
}

// PruneDeliveryContent forgets the rendered content of finished deliveries created before
// before: the retention setting. It returns how many it cleared.
func (s *Store) PruneDeliveryContent(ctx context.Context, before int64) (int64, error) {
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE deliveries SET content = NULL WHERE content IS NOT NULL AND created_at < ?
		AND status NOT IN ('queued', 'attempted')`), before)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ReleaseDeliveries gives back claimed deliveries that were not attempted (the sender is
// stopping): their lease ends now and the claim's attempt is not counted.
func (s *Store) ReleaseDeliveries(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	vals := make([]any, len(ids))
	for i, id := range ids {
		vals[i] = id
	}
	in, args := s.d.in("id", vals)
	_, err := s.w.ExecContext(ctx, s.q("UPDATE deliveries SET lease_until = 0, attempts = attempts - 1 WHERE "+in+
		" AND status IN ('queued', 'attempted')"), args...)
	return err
}
