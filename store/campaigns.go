package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/heraldhq/herald"
)

const campaignCols = "c.id, c.workspace_id, c.name, c.state, c.version, v.definition, c.created_at, c.updated_at, c.started_at"

const campaignFrom = " FROM campaigns c JOIN campaign_versions v ON v.campaign_id = c.id AND v.version = c.version"

func scanCampaign(row interface{ Scan(...any) error }) (*herald.Campaign, error) {
	var c herald.Campaign
	var def []byte
	err := row.Scan(&c.ID, &c.WorkspaceID, &c.Name, &c.State, &c.Version, &def, &c.CreatedAt, &c.UpdatedAt, &c.StartedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, herald.Errorf(herald.NotFound, "campaign_id", "campaign not found")
	}
	c.Definition = append([]byte(nil), def...)
	return &c, err
}

// Campaign returns campaign id of workspace ws at its current version.
func (s *Store) Campaign(ctx context.Context, ws, id int64) (*herald.Campaign, error) {
	return scanCampaign(s.r.QueryRowContext(ctx, s.q("SELECT "+campaignCols+campaignFrom+" WHERE c.workspace_id = ? AND c.id = ?"), ws, id))
}

// Campaigns returns workspace ws's campaigns (every workspace's for ws 0), by id.
func (s *Store) Campaigns(ctx context.Context, ws int64) ([]*herald.Campaign, error) {
	q, args := "SELECT "+campaignCols+campaignFrom+" ORDER BY c.id", []any{}
	if ws != 0 {
		q, args = "SELECT "+campaignCols+campaignFrom+" WHERE c.workspace_id = ? ORDER BY c.id", []any{ws}
	}
	rows, err := s.r.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*herald.Campaign{}
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CampaignDefinition returns version v of campaign id's definition.
func (s *Store) CampaignDefinition(ctx context.Context, id, version int64) ([]byte, error) {
	var def []byte
	err := s.r.QueryRowContext(ctx, s.q("SELECT definition FROM campaign_versions WHERE campaign_id = ? AND version = ?"), id, version).Scan(&def)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, herald.Errorf(herald.NotFound, "campaign_id", "campaign %d has no version %d", id, version)
	}
	return def, err
}

// SaveCampaign validates definition and stores it: as a new draft campaign when id is 0, else
// as the next version of campaign id (journeys under way keep their version). A definition
// equal to the current one changes nothing.
func (s *Store) SaveCampaign(ctx context.Context, ws, id int64, definition []byte) (*herald.Campaign, error) {
	def, err := herald.ParseCampaign(definition, "campaign")
	if err != nil {
		return nil, err
	}
	if err := s.checkCampaignRefs(ctx, ws, def); err != nil {
		return nil, err
	}
	now := s.now()
	var out *herald.Campaign
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		version := int64(1)
		if id == 0 {
			if err := tx.QueryRowContext(ctx, s.q(`INSERT INTO campaigns (workspace_id, name, state, trigger_type, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), ws, def.Name, herald.CampaignDraft, def.Trigger.Type, now, now).Scan(&id); err != nil {
				return err
			}
		} else {
			cur, err := scanCampaign(tx.QueryRowContext(ctx, s.q("SELECT "+campaignCols+campaignFrom+" WHERE c.workspace_id = ? AND c.id = ?"), ws, id))
			if err != nil {
				return err
			}
			if jsonEqual(cur.Definition, definition) {
				out = cur
				return nil
			}
			version = cur.Version + 1
			if _, err := tx.ExecContext(ctx, s.q("UPDATE campaigns SET name = ?, version = ?, trigger_type = ?, updated_at = ? WHERE id = ?"),
				def.Name, version, def.Trigger.Type, now, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.q("INSERT INTO campaign_versions (campaign_id, version, definition, created_at) VALUES (?, ?, ?, ?)"),
			id, version, string(definition), now); err != nil {
			return err
		}
		out, err = scanCampaign(tx.QueryRowContext(ctx, s.q("SELECT "+campaignCols+campaignFrom+" WHERE c.id = ?"), id))
		return err
	})
	return out, err
}

// checkCampaignRefs refuses a definition that names a segment the workspace lacks (in its
// trigger, goal, filter, audience, step conditions or segment steps).
func (s *Store) checkCampaignRefs(ctx context.Context, ws int64, def *herald.CampaignDef) error {
	for _, id := range def.SegmentRefs() {
		if _, err := s.Segment(ctx, ws, id); err != nil {
			if herald.ErrorCode(err) == herald.NotFound {
				return herald.Errorf(herald.NotFound, "campaign", "segment %d named in the campaign does not exist", id)
			}
			return err
		}
	}
	return nil
}

// SetCampaignState starts (running) or stops (stopped) a campaign. Stopping ends no journey
// under way; they finish on their version.
func (s *Store) SetCampaignState(ctx context.Context, ws, id int64, state string) (*herald.Campaign, error) {
	if state != herald.CampaignRunning && state != herald.CampaignStopped {
		return nil, herald.Errorf(herald.Invalid, "state", "must be running or stopped")
	}
	now := s.now()
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE campaigns SET state = ?, updated_at = ?,
		started_at = CASE WHEN started_at = 0 AND ? = 'running' THEN ? ELSE started_at END WHERE workspace_id = ? AND id = ?`),
		state, now, state, now, ws, id)
	if err != nil {
		return nil, fmt.Errorf("set campaign state: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, herald.Errorf(herald.NotFound, "campaign_id", "campaign %d does not exist", id)
	}
	if state == herald.CampaignRunning {
		// A date trigger fires for dates that come due while it runs, not for those that
		// passed while it was stopped: its scan resumes from now.
		if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO engine_cursors (name, seq) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET seq = excluded.seq`), "date:"+strconv.FormatInt(id, 10), now); err != nil {
			return nil, fmt.Errorf("reset date cursor: %w", err)
		}
	}
	return s.Campaign(ctx, ws, id)
}
