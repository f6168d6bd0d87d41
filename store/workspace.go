package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/heraldhq/herald"
)

const workspaceCols = "id, name, site_id, track_api_key, app_api_key, write_key, created_at"

func scanWorkspace(row interface{ Scan(...any) error }) (*herald.Workspace, error) {
	var w herald.Workspace
	err := row.Scan(&w.ID, &w.Name, &w.SiteID, &w.TrackAPIKey, &w.AppAPIKey, &w.WriteKey, &w.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, herald.Errorf(herald.NotFound, "", "workspace not found")
	}
	return &w, err
}

// DefaultWorkspace returns the first workspace, creating it when there is none. Credentials
// left empty in want are generated; non-empty ones are applied to the workspace, so a
// deployment can pin its keys through the environment. created reports a new workspace.
func (s *Store) DefaultWorkspace(ctx context.Context, want herald.Workspace) (ws *herald.Workspace, created bool, err error) {
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		ws, err = scanWorkspace(tx.QueryRowContext(ctx, s.q("SELECT "+workspaceCols+" FROM workspaces ORDER BY id LIMIT 1")))
		if herald.ErrorCode(err) == herald.NotFound {
			created = true
			w := s.newWorkspace("Default")
			applyCredentials(&w, want)
			ws, err = s.insertWorkspace(ctx, tx, w)
			return err
		}
		if err != nil {
			return err
		}
		w := *ws
		applyCredentials(&w, want)
		if w != *ws {
			_, err = tx.ExecContext(ctx, s.q("UPDATE workspaces SET name = ?, site_id = ?, track_api_key = ?, app_api_key = ?, write_key = ? WHERE id = ?"),
				w.Name, w.SiteID, w.TrackAPIKey, w.AppAPIKey, w.WriteKey, w.ID)
			ws = &w
		}
		return err
	})
	return ws, created, err
}

func applyCredentials(w *herald.Workspace, want herald.Workspace) {
	if want.Name != "" {
		w.Name = want.Name
	}
	if want.SiteID != "" {
		w.SiteID = want.SiteID
	}
	if want.TrackAPIKey != "" {
		w.TrackAPIKey = want.TrackAPIKey
	}
	if want.AppAPIKey != "" {
		w.AppAPIKey = want.AppAPIKey
	}
	if want.WriteKey != "" {
		w.WriteKey = want.WriteKey
	}
}

func (s *Store) newWorkspace(name string) herald.Workspace {
	return herald.Workspace{Name: name, SiteID: s.newID("", 10), TrackAPIKey: s.newID("", 20), AppAPIKey: s.newID("", 24),
		WriteKey: s.newID("", 16), CreatedAt: s.now()}
}

func (s *Store) insertWorkspace(ctx context.Context, q queryer, w herald.Workspace) (*herald.Workspace, error) {
	return scanWorkspace(q.QueryRowContext(ctx, s.q(`INSERT INTO workspaces (name, site_id, track_api_key, app_api_key, write_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING `+workspaceCols), w.Name, w.SiteID, w.TrackAPIKey, w.AppAPIKey, w.WriteKey, w.CreatedAt))
}

// CreateWorkspace creates a workspace with generated credentials.
func (s *Store) CreateWorkspace(ctx context.Context, name string) (*herald.Workspace, error) {
	return s.insertWorkspace(ctx, s.w, s.newWorkspace(name))
}

// WorkspaceBySiteID finds the workspace whose Track site id is siteID.
func (s *Store) WorkspaceBySiteID(ctx context.Context, siteID string) (*herald.Workspace, error) {
	return scanWorkspace(s.r.QueryRowContext(ctx, s.q("SELECT "+workspaceCols+" FROM workspaces WHERE site_id = ?"), siteID))
}

// WorkspaceByAppKey finds the workspace whose App API key is key.
func (s *Store) WorkspaceByAppKey(ctx context.Context, key string) (*herald.Workspace, error) {
	return scanWorkspace(s.r.QueryRowContext(ctx, s.q("SELECT "+workspaceCols+" FROM workspaces WHERE app_api_key = ?"), key))
}

// WorkspaceByWriteKey finds the workspace whose Pipelines write key is key.
func (s *Store) WorkspaceByWriteKey(ctx context.Context, key string) (*herald.Workspace, error) {
	return scanWorkspace(s.r.QueryRowContext(ctx, s.q("SELECT "+workspaceCols+" FROM workspaces WHERE write_key = ?"), key))
}
