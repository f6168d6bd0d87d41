package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/heraldhq/herald"
)

const syncCols = `id, workspace_id, name, source, query, call, object_type_id, mapping, interval_seconds, enabled,
	last_sync_time, last_run_at, created_at, updated_at`

func scanSync(row interface{ Scan(...any) error }) (*herald.Sync, error) {
	var s herald.Sync
	var mapping string
	err := row.Scan(&s.ID, &s.WorkspaceID, &s.Name, &s.Source, &s.Query, &s.Call, &s.ObjectTypeID, &mapping, &s.IntervalSeconds,
		&s.Enabled, &s.LastSyncTime, &s.LastRunAt, &s.CreatedAt, &s.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, herald.Errorf(herald.NotFound, "sync", "no such sync")
	}
	if err != nil {
		return nil, err
	}
	return &s, json.Unmarshal([]byte(mapping), &s.Mapping)
}

// CreateSync stores a new sync definition.
func (s *Store) CreateSync(ctx context.Context, sy *herald.Sync) error {
	if err := herald.ValidateSync(sy); err != nil {
		return err
	}
	sy.CreatedAt, sy.UpdatedAt, sy.Enabled = s.now(), s.now(), true
	err := s.w.QueryRowContext(ctx, s.q(`INSERT INTO syncs (workspace_id, name, source, query, call, object_type_id, mapping,
		interval_seconds, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		sy.WorkspaceID, sy.Name, sy.Source, sy.Query, sy.Call, sy.ObjectTypeID, encodeJSON(sy.Mapping), sy.IntervalSeconds, true,
		sy.CreatedAt, sy.UpdatedAt).Scan(&sy.ID)
	if s.d.isUnique(err) {
		return herald.Errorf(herald.Conflict, "name", "a sync named %q exists", sy.Name)
	}
	return err
}

// Syncs lists a workspace's syncs by name.
func (s *Store) Syncs(ctx context.Context, ws int64) ([]herald.Sync, error) {
	rows, err := s.r.QueryContext(ctx, s.q("SELECT "+syncCols+" FROM syncs WHERE workspace_id = ? ORDER BY name"), ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []herald.Sync{}
	for rows.Next() {
		sy, err := scanSync(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *sy)
	}
	return out, rows.Err()
}

// Sync returns a sync by id, or by name when id is 0.
func (s *Store) Sync(ctx context.Context, ws, id int64, name string) (*herald.Sync, error) {
	if id != 0 {
		return scanSync(s.r.QueryRowContext(ctx, s.q("SELECT "+syncCols+" FROM syncs WHERE workspace_id = ? AND id = ?"), ws, id))
	}
	return scanSync(s.r.QueryRowContext(ctx, s.q("SELECT "+syncCols+" FROM syncs WHERE workspace_id = ? AND name = ?"), ws, name))
}

// DueSyncs lists enabled scheduled syncs of every workspace whose next run is due at now.
func (s *Store) DueSyncs(ctx context.Context, now int64) ([]herald.Sync, error) {
	rows, err := s.r.QueryContext(ctx, s.q("SELECT "+syncCols+` FROM syncs WHERE enabled = ? AND interval_seconds > 0
		AND last_run_at + interval_seconds <= ? ORDER BY id`), true, now)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []herald.Sync
	for rows.Next() {
		sy, err := scanSync(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *sy)
	}
	return out, rows.Err()
}

// staleRun is how long a claim on a sync outlives a process that died holding it.
const staleRun = 3600

// ClaimSync marks sync id as running from now; it reports false when another run holds it,
// so a run that is still going makes the next one wait.
func (s *Store) ClaimSync(ctx context.Context, id, now int64) (bool, error) {
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE syncs SET running_since = ?, last_run_at = ? WHERE id = ?
		AND (running_since = 0 OR running_since < ?)`), now, now, id, now-staleRun)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// FinishSync releases the claim; on success the sync's last_sync_time becomes the run's start.
func (s *Store) FinishSync(ctx context.Context, id int64, succeededFrom int64) error {
	if succeededFrom > 0 {
		_, err := s.w.ExecContext(ctx, s.q("UPDATE syncs SET running_since = 0, last_sync_time = ?, updated_at = ? WHERE id = ?"), succeededFrom, s.now(), id)
		return err
	}
	_, err := s.w.ExecContext(ctx, s.q("UPDATE syncs SET running_since = 0 WHERE id = ?"), id)
	return err
}

// SaveSyncRun inserts or updates a run record.
func (s *Store) SaveSyncRun(ctx context.Context, r *herald.SyncRun) error {
	errs := encodeJSON(r.Errors)
	if r.Errors == nil {
		errs = "[]"
	}
	if r.ID == 0 {
		return s.w.QueryRowContext(ctx, s.q(`INSERT INTO sync_runs (sync_id, state, started_at) VALUES (?, ?, ?) RETURNING id`),
			r.SyncID, r.State, r.StartedAt).Scan(&r.ID)
	}
	_, err := s.w.ExecContext(ctx, s.q(`UPDATE sync_runs SET state = ?, finished_at = ?, duration_ms = ?, rows_read = ?, rows_changed = ?,
		rows_failed = ?, errors = ?, error = ? WHERE id = ?`), r.State, r.FinishedAt, r.DurationMS, r.RowsRead, r.RowsChanged,
		r.RowsFailed, errs, r.Error, r.ID)
	return err
}

// SyncRuns lists a sync's runs, newest first.
func (s *Store) SyncRuns(ctx context.Context, syncID int64, limit int) ([]herald.SyncRun, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT id, sync_id, state, started_at, finished_at, duration_ms, rows_read, rows_changed,
		rows_failed, errors, error FROM sync_runs WHERE sync_id = ? ORDER BY id DESC LIMIT ?`), syncID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []herald.SyncRun{}
	for rows.Next() {
		var r herald.SyncRun
		var errs string
		if err := rows.Scan(&r.ID, &r.SyncID, &r.State, &r.StartedAt, &r.FinishedAt, &r.DurationMS, &r.RowsRead, &r.RowsChanged,
			&r.RowsFailed, &errs, &r.Error); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(errs), &r.Errors); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
