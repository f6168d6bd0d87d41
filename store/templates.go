package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/heraldhq/herald"
)

// Message templates, snippets and channel settings are administration data: written directly,
// not through the write path, because no engine reacts to them.

const templateCols = "id, name, description, channel, fields, send_to_unsubscribed, tracked, created_at, updated_at"

func scanTemplate(row interface{ Scan(...any) error }) (*herald.Template, error) {
	var t herald.Template
	var fields string
	err := row.Scan(&t.ID, &t.Name, &t.Description, &t.Channel, &fields, &t.SendToUnsubscribed, &t.Tracked, &t.CreatedAt, &t.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, herald.Errorf(herald.NotFound, "transactional_message_id", "no such message")
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(fields), &t.Fields); err != nil {
		return nil, err
	}
	return &t, nil
}

// Template returns the template of workspace ws addressed by ref: its numeric id, or its name.
func (s *Store) Template(ctx context.Context, ws int64, ref string) (*herald.Template, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		t, err := scanTemplate(s.reader().QueryRowContext(ctx, s.q("SELECT "+templateCols+" FROM message_templates WHERE workspace_id = ? AND id = ?"), ws, id))
		if herald.ErrorCode(err) != herald.NotFound {
			return t, err
		}
	}
	return scanTemplate(s.reader().QueryRowContext(ctx, s.q("SELECT "+templateCols+" FROM message_templates WHERE workspace_id = ? AND name = ?"), ws, ref))
}

// Templates lists workspace ws's templates by id.
func (s *Store) Templates(ctx context.Context, ws int64) ([]*herald.Template, error) {
	rows, err := s.reader().QueryContext(ctx, s.q("SELECT "+templateCols+" FROM message_templates WHERE workspace_id = ? ORDER BY id"), ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*herald.Template{}
	for rows.Next() {
		t, err := scanTemplate(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// SaveTemplate creates a template (t.ID 0) or replaces template t.ID. Names are unique in a
// workspace.
func (s *Store) SaveTemplate(ctx context.Context, ws int64, t herald.Template) (*herald.Template, error) {
	if err := herald.ValidateTemplate(&t); err != nil {
		return nil, err
	}
	fields, _ := json.Marshal(t.Fields)
	if t.Fields == nil {
		fields = []byte("{}")
	}
	var out *herald.Template
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		id := t.ID
		var err error
		if id == 0 {
			err = tx.QueryRowContext(ctx, s.q(`INSERT INTO message_templates (workspace_id, name, description, channel, fields, send_to_unsubscribed, tracked, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`), ws, t.Name, t.Description, string(t.Channel), string(fields), t.SendToUnsubscribed, t.Tracked, now, now).Scan(&id)
		} else {
			var res sql.Result
			res, err = tx.ExecContext(ctx, s.q(`UPDATE message_templates SET name = ?, description = ?, channel = ?, fields = ?, send_to_unsubscribed = ?, tracked = ?, updated_at = ?
				WHERE workspace_id = ? AND id = ?`), t.Name, t.Description, string(t.Channel), string(fields), t.SendToUnsubscribed, t.Tracked, now, ws, id)
			if err == nil {
				if n, _ := res.RowsAffected(); n == 0 {
					return herald.Errorf(herald.NotFound, "transactional_message_id", "no message %d", id)
				}
			}
		}
		if s.d.isUnique(err) {
			return herald.Errorf(herald.Conflict, "name", "a message named %q exists", t.Name)
		}
		if err != nil {
			return err
		}
		out, err = scanTemplate(tx.QueryRowContext(ctx, s.q("SELECT "+templateCols+" FROM message_templates WHERE id = ?"), id))
		return err
	})
	return out, err
}

// DeleteTemplate deletes template id of workspace ws.
func (s *Store) DeleteTemplate(ctx context.Context, ws, id int64) error {
	res, err := s.w.ExecContext(ctx, s.q("DELETE FROM message_templates WHERE workspace_id = ? AND id = ?"), ws, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return herald.Errorf(herald.NotFound, "transactional_message_id", "no message %d", id)
	}
	return nil
}

// Snippets returns workspace ws's snippets by name.
func (s *Store) Snippets(ctx context.Context, ws int64) ([]herald.Snippet, error) {
	rows, err := s.reader().QueryContext(ctx, s.q("SELECT name, value, updated_at FROM snippets WHERE workspace_id = ? ORDER BY name"), ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []herald.Snippet{}
	for rows.Next() {
		var sn herald.Snippet
		if err := rows.Scan(&sn.Name, &sn.Value, &sn.UpdatedAt); err != nil {
			return nil, err
		}
		out = append(out, sn)
	}
	return out, rows.Err()
}

// PutSnippet creates or replaces a snippet.
func (s *Store) PutSnippet(ctx context.Context, ws int64, sn herald.Snippet) (*herald.Snippet, error) {
	if err := herald.ValidateSnippet(&sn); err != nil {
		return nil, err
	}
	sn.UpdatedAt = s.now()
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO snippets (workspace_id, name, value, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (workspace_id, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`), ws, sn.Name, sn.Value, sn.UpdatedAt)
	if err != nil {
		return nil, err
	}
	return &sn, nil
}

// DeleteSnippet deletes snippet name.
func (s *Store) DeleteSnippet(ctx context.Context, ws int64, name string) error {
	res, err := s.w.ExecContext(ctx, s.q("DELETE FROM snippets WHERE workspace_id = ? AND name = ?"), ws, name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return herald.Errorf(herald.NotFound, "name", "no snippet %q", name)
	}
	return nil
}

// ChannelSettings returns workspace ws's settings per channel (a JSON object each); channels
// without settings are absent.
func (s *Store) ChannelSettings(ctx context.Context, ws int64) (map[herald.Channel]json.RawMessage, error) {
	rows, err := s.reader().QueryContext(ctx, s.q("SELECT channel, settings FROM channel_settings WHERE workspace_id = ?"), ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[herald.Channel]json.RawMessage{}
	for rows.Next() {
		var ch, v string
		if err := rows.Scan(&ch, &v); err != nil {
			return nil, err
		}
		out[herald.Channel(ch)] = json.RawMessage(v)
	}
	return out, rows.Err()
}

// PutChannelSettings replaces workspace ws's settings of one channel.
func (s *Store) PutChannelSettings(ctx context.Context, ws int64, ch herald.Channel, settings json.RawMessage) error {
	if !ch.Valid() {
		return herald.Errorf(herald.Invalid, "channel", "%q is not a channel", ch)
	}
	var probe map[string]any
	if err := json.Unmarshal(settings, &probe); err != nil || probe == nil {
		return herald.Errorf(herald.Invalid, string(ch), "settings must be a JSON object")
	}
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO channel_settings (workspace_id, channel, settings, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (workspace_id, channel) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`), ws, string(ch), string(settings), s.now())
	return err
}
