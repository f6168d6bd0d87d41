package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/heraldhq/herald"
)

const importCols = `id, workspace_id, name, description, type, identifier, object_type_id, data_to_process, state, rows_to_import,
	rows_imported, rows_failed, created, updated, unchanged, skipped, error, created_at, updated_at`

func scanImport(row interface{ Scan(...any) error }) (*herald.Import, error) {
	var i herald.Import
	err := row.Scan(&i.ID, &i.WorkspaceID, &i.Name, &i.Description, &i.Type, &i.Identifier, &i.ObjectTypeID, &i.DataToProcess, &i.State,
		&i.RowsToImport, &i.RowsImported, &i.RowsFailed, &i.Created, &i.Updated, &i.Unchanged, &i.Skipped, &i.Error, &i.CreatedAt, &i.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, herald.Errorf(herald.NotFound, "import_id", "no such import")
	}
	return &i, err
}

// CreateImport records a new import and fills in its id and times.
func (s *Store) CreateImport(ctx context.Context, imp *herald.Import) error {
	imp.CreatedAt, imp.UpdatedAt = s.now(), s.now()
	return s.w.QueryRowContext(ctx, s.q(`INSERT INTO imports (workspace_id, name, description, type, identifier, object_type_id,
		data_to_process, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		imp.WorkspaceID, imp.Name, imp.Description, imp.Type, imp.Identifier, imp.ObjectTypeID, imp.DataToProcess, imp.State,
		imp.CreatedAt, imp.UpdatedAt).Scan(&imp.ID)
}

// SaveImport stores an import's progress; a non-empty report replaces the failed-rows report.
func (s *Store) SaveImport(ctx context.Context, imp *herald.Import, report string) error {
	imp.UpdatedAt = s.now()
	_, err := s.w.ExecContext(ctx, s.q(`UPDATE imports SET state = ?, rows_to_import = ?, rows_imported = ?, rows_failed = ?,
		created = ?, updated = ?, unchanged = ?, skipped = ?, error = ?, report = CASE WHEN ? = '' THEN report ELSE ? END, updated_at = ?
		WHERE id = ?`), imp.State, imp.RowsToImport, imp.RowsImported, imp.RowsFailed, imp.Created, imp.Updated, imp.Unchanged,
		imp.Skipped, imp.Error, report, report, imp.UpdatedAt, imp.ID)
	return err
}

// Import returns import id of workspace ws.
func (s *Store) Import(ctx context.Context, ws, id int64) (*herald.Import, error) {
	return scanImport(s.r.QueryRowContext(ctx, s.q("SELECT "+importCols+" FROM imports WHERE workspace_id = ? AND id = ?"), ws, id))
}

// ImportReport returns the CSV report of an import's failed rows.
func (s *Store) ImportReport(ctx context.Context, ws, id int64) (string, error) {
	var report string
	err := s.r.QueryRowContext(ctx, s.q("SELECT report FROM imports WHERE workspace_id = ? AND id = ?"), ws, id).Scan(&report)
	if errors.Is(err, sql.ErrNoRows) {
		return "", herald.Errorf(herald.NotFound, "import_id", "no such import")
	}
	return report, err
}

// FailInterruptedImports marks imports that were running when the server stopped as failed;
// their applied rows stay applied, and a re-run of the same file completes them.
func (s *Store) FailInterruptedImports(ctx context.Context) error {
	_, err := s.w.ExecContext(ctx, s.q(`UPDATE imports SET state = ?, error = ?, updated_at = ? WHERE state IN (?, ?)`),
		herald.ImportFailed, "interrupted by a server restart; import the file again to complete it", s.now(),
		herald.ImportValidating, herald.ImportImporting)
	return err
}
