package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/heraldhq/herald"
)

const journeyCols = "id, workspace_id, campaign_id, version, person_pk, object_type_id, object_id, trigger_data, dedupe_key, state, position, visits, attributes, next_at, deadline, exit_reason, created_at, updated_at"

func scanJourney(row interface{ Scan(...any) error }) (*herald.Journey, error) {
	var j herald.Journey
	var typeID sql.NullInt64
	var objectID sql.NullString
	var trigger, attrs []byte
	var pos string
	if err := row.Scan(&j.ID, &j.WorkspaceID, &j.CampaignID, &j.Version, &j.PersonPK, &typeID, &objectID, &trigger, &j.DedupeKey, &j.State,
		&pos, &j.Visits, &attrs, &j.NextAt, &j.Deadline, &j.ExitReason, &j.CreatedAt, &j.UpdatedAt); err != nil {
		return nil, err
	}
	if typeID.Valid {
		j.Object = &herald.ObjectRef{TypeID: int(typeID.Int64), ObjectID: objectID.String}
	}
	if len(trigger) > 0 {
		j.Trigger = append([]byte(nil), trigger...)
	}
	if err := json.Unmarshal([]byte(pos), &j.Position); err != nil {
		return nil, fmt.Errorf("journey %d position %q: %w", j.ID, pos, err)
	}
	if err := json.Unmarshal(attrs, &j.Attributes); err != nil {
		return nil, fmt.Errorf("journey %d attributes: %w", j.ID, err)
	}
	return &j, nil
}

// StartJourneys inserts journeys, skipping any whose (campaign, dedupe key) exists already:
// the key is how a campaign's frequency is kept (once per person, per object, per change),
// and it makes starting the same journeys twice (a re-read change) harmless. It returns the
// journeys it started, with their ids, and counts them as entered.
func (s *Store) StartJourneys(ctx context.Context, js []*herald.Journey) ([]*herald.Journey, error) {
	var started []*herald.Journey
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		started = started[:0]
		now := s.now()
		entered := map[int64]int64{}
		insert, err := tx.PrepareContext(ctx, s.q(`INSERT INTO journeys (workspace_id, campaign_id, version, person_pk, object_type_id, object_id, trigger_data,
			dedupe_key, state, position, attributes, next_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (campaign_id, dedupe_key) DO NOTHING RETURNING id`))
		if err != nil {
			return err
		}
		defer insert.Close()
		for _, j := range js {
			var typeID, objectID any
			if j.Object != nil {
				typeID, objectID = j.Object.TypeID, j.Object.ObjectID
			}
			pos, _ := json.Marshal(j.Position)
			attrs := encodeJSON(j.Attributes)
			var id int64
			err := insert.QueryRowContext(ctx,
				j.WorkspaceID, j.CampaignID, j.Version, j.PersonPK, typeID, objectID, nullJSON(j.Trigger), j.DedupeKey,
				herald.JourneyActive, string(pos), attrs, j.NextAt, now, now).Scan(&id)
			if err == sql.ErrNoRows {
				continue // this person has entered already (frequency)
			}
			if err != nil {
				return err
			}
			j.ID, j.State, j.CreatedAt, j.UpdatedAt = id, herald.JourneyActive, now, now
			started = append(started, j)
			entered[j.CampaignID]++
		}
		for campaign, n := range entered {
			if err := s.countMetric(ctx, tx, campaign, "", "entered", n); err != nil {
				return err
			}
		}
		return nil
	})
	return started, err
}

func (s *Store) countMetric(ctx context.Context, tx *sql.Tx, campaign int64, step, metric string, n int64) error {
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO journey_metrics (campaign_id, step_id, metric, count) VALUES (?, ?, ?, ?)
		ON CONFLICT (campaign_id, step_id, metric) DO UPDATE SET count = journey_metrics.count + excluded.count`), campaign, step, metric, n)
	return err
}

// ClaimJourneys leases up to limit active journeys due at now to owner until the unix time
// until, so that N processes share the work without running a journey twice at once.
func (s *Store) ClaimJourneys(ctx context.Context, now int64, owner string, until int64, limit int) ([]*herald.Journey, error) {
	var out []*herald.Journey
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		lock := ""
		if s.d.name() == "postgres" {
			lock = " FOR UPDATE SKIP LOCKED"
		}
		rows, err := tx.QueryContext(ctx, s.q("SELECT "+journeyCols+" FROM journeys WHERE state = 'active' AND next_at <= ? AND claimed_until < ? ORDER BY next_at LIMIT ?"+lock), now, now, limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			j, err := scanJourney(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, j)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
		ids := make([]any, len(out))
		for i, j := range out {
			ids[i] = j.ID
		}
		in, args := s.d.in("id", ids)
		_, err = tx.ExecContext(ctx, s.d.rebind("UPDATE journeys SET owner = ?, claimed_until = ? WHERE "+in), append([]any{owner, until}, args...)...)
		return err
	})
	return out, err
}

// SaveJourneys records, in one transaction, journeys' new positions, states and attributes,
// counts the steps they ran (counts[i] belongs to js[i]) in their campaigns' metrics, and
// releases owner's leases. A journey owner no longer holds is not saved, nor are its counts;
// saved[i] tells which were.
func (s *Store) SaveJourneys(ctx context.Context, owner string, js []*herald.Journey, counts [][]herald.StepCount) (saved []bool, err error) {
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		saved = make([]bool, len(js))
		now := s.now()
		totals := map[[3]string]int64{}
		campaigns := map[string]int64{}
		stmt, err := tx.PrepareContext(ctx, s.q(`UPDATE journeys SET state = ?, position = ?, visits = ?, attributes = ?, next_at = ?, deadline = ?,
			exit_reason = ?, owner = '', claimed_until = 0, updated_at = ? WHERE id = ? AND owner = ?`))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, j := range js {
			pos, _ := json.Marshal(j.Position)
			res, err := stmt.ExecContext(ctx, j.State, string(pos), j.Visits, encodeJSON(j.Attributes), j.NextAt, j.Deadline, j.ExitReason, now, j.ID, owner)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue
			}
			saved[i] = true
			c := strconv.FormatInt(j.CampaignID, 10)
			campaigns[c] = j.CampaignID
			for _, st := range counts[i] {
				totals[[3]string{c, st.StepID, st.Metric}]++
			}
		}
		for k, n := range totals {
			if err := s.countMetric(ctx, tx, campaigns[k[0]], k[1], k[2], n); err != nil {
				return err
			}
		}
		return nil
	})
	return saved, err
}

// JourneyMetrics returns campaign id's counts, per step ("" for the campaign as a whole).
func (s *Store) JourneyMetrics(ctx context.Context, id int64) ([]herald.JourneyMetric, error) {
	rows, err := s.r.QueryContext(ctx, s.q("SELECT step_id, metric, count FROM journey_metrics WHERE campaign_id = ? ORDER BY step_id, metric"), id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []herald.JourneyMetric{}
	for rows.Next() {
		var m herald.JourneyMetric
		if err := rows.Scan(&m.StepID, &m.Metric, &m.Count); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// PersonJourneys returns person pk's journeys in campaign id (all campaigns for id 0).
func (s *Store) PersonJourneys(ctx context.Context, pk, id int64) ([]*herald.Journey, error) {
	q, args := "SELECT "+journeyCols+" FROM journeys WHERE person_pk = ? ORDER BY id", []any{pk}
	if id != 0 {
		q, args = "SELECT "+journeyCols+" FROM journeys WHERE person_pk = ? AND campaign_id = ? ORDER BY id", []any{pk, id}
	}
	rows, err := s.r.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*herald.Journey
	for rows.Next() {
		j, err := scanJourney(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// NextJourneyDue returns the earliest next_at of an active journey (0 when there is none).
func (s *Store) NextJourneyDue(ctx context.Context) (int64, error) {
	var t sql.NullInt64
	err := s.r.QueryRowContext(ctx, "SELECT MIN(next_at) FROM journeys WHERE state = 'active'").Scan(&t)
	return t.Int64, err
}

// LatestCampaignDelivery returns the id and status of the newest message campaign id sent
// person pk since the unix time since ("" when there is none): the one a conversion is
// credited to (none when it is converted already).
func (s *Store) LatestCampaignDelivery(ctx context.Context, ws, pk, campaignID, since int64) (id, status string, err error) {
	err = s.r.QueryRowContext(ctx, s.q(`SELECT id, status FROM deliveries WHERE workspace_id = ? AND person_pk = ? AND campaign_id = ? AND created_at >= ?
		AND status IN ('sent', 'delivered', 'opened', 'clicked', 'converted') ORDER BY created_at DESC, id DESC LIMIT 1`), ws, pk, campaignID, since).Scan(&id, &status)
	if err == sql.ErrNoRows {
		return "", "", nil
	}
	return id, status, err
}

// ExitJourneys ends person pk's active journeys in campaign id with reason, counting them as
// exited. A journey a runner holds is taken from it: the runner's save then finds it gone.
func (s *Store) ExitJourneys(ctx context.Context, campaignID, pk int64, reason string) (int64, error) {
	var n int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE journeys SET state = 'exited', exit_reason = ?, owner = '', claimed_until = 0, updated_at = ?
			WHERE campaign_id = ? AND person_pk = ? AND state = 'active'`), reason, s.now(), campaignID, pk)
		if err != nil {
			return err
		}
		if n, _ = res.RowsAffected(); n > 0 {
			return s.countMetric(ctx, tx, campaignID, "", "exited", n)
		}
		return nil
	})
	return n, err
}

// CountCampaignMetric adds n to a campaign's count metric (step "" for the campaign).
func (s *Store) CountCampaignMetric(ctx context.Context, campaignID int64, step, metric string, n int64) error {
	return s.withTx(ctx, func(tx *sql.Tx) error { return s.countMetric(ctx, tx, campaignID, step, metric, n) })
}
