package herald

import "strings"

// Sync is a reverse-ETL job: a SQL query against an external database (PostgreSQL, MySQL or
// SQLite) or a CSV URL (a published spreadsheet), run on a schedule; every row becomes an
// identify, object, relationship or event write. Source holds credentials and is never shown.
type Sync struct {
	ID              int64             `json:"id"`
	WorkspaceID     int64             `json:"-"`
	Name            string            `json:"name"`
	Source          string            `json:"-"`
	Query           string            `json:"query"`
	Call            string            `json:"call"` // identify, objects, relationships, track
	ObjectTypeID    int               `json:"object_type_id,omitempty"`
	Mapping         map[string]string `json:"mapping"`
	IntervalSeconds int64             `json:"interval_seconds"`
	Enabled         bool              `json:"enabled"`
	LastSyncTime    int64             `json:"last_sync_time"` // start of the last successful run
	LastRunAt       int64             `json:"last_run_at"`
	CreatedAt       int64             `json:"created_at"`
	UpdatedAt       int64             `json:"updated_at"`
}

// SyncRun is one run of a sync.
type SyncRun struct {
	ID          int64      `json:"id"`
	SyncID      int64      `json:"sync_id"`
	State       string     `json:"state"` // running, succeeded, failed
	StartedAt   int64      `json:"started_at"`
	FinishedAt  int64      `json:"finished_at"`
	DurationMS  int64      `json:"duration_ms"`
	RowsRead    int        `json:"rows_read"`
	RowsChanged int        `json:"rows_changed"`
	RowsFailed  int        `json:"rows_failed"`
	Errors      []RowIssue `json:"errors"`
	Error       string     `json:"error"`
}

// RowIssue is a refused row of a sync or import: its number (1-based) and the reason.
type RowIssue struct {
	Row    int    `json:"row"`
	Reason string `json:"reason"`
}

// SyncCalls are the kinds of writes a sync makes.
var SyncCalls = map[string]bool{"identify": true, "objects": true, "relationships": true, "track": true}

// ValidateSync checks a sync definition.
func ValidateSync(s *Sync) error {
	s.Name = strings.TrimSpace(s.Name)
	if s.Name == "" {
		return Errorf(Required, "name", "is required")
	}
	if s.Source == "" {
		return Errorf(Required, "source", "is required: postgres://…, mysql://…, sqlite:PATH or an http(s) CSV URL")
	}
	if !SyncCalls[s.Call] {
		return Errorf(Invalid, "call", "must be identify, objects, relationships or track, got %q", s.Call)
	}
	csvSource := strings.HasPrefix(s.Source, "http://") || strings.HasPrefix(s.Source, "https://")
	if !csvSource && strings.TrimSpace(s.Query) == "" {
		return Errorf(Required, "query", "is required for a database source")
	}
	if (s.Call == "objects" || (s.Call == "relationships" && s.Mapping["object_type_id"] == "")) && s.ObjectTypeID <= 0 {
		return Errorf(Required, "object_type_id", "is required for %s syncs", s.Call)
	}
	if s.IntervalSeconds < 0 {
		return Errorf(Invalid, "interval_seconds", "must not be negative")
	}
	if s.Mapping == nil {
		s.Mapping = map[string]string{}
	}
	for k := range s.Mapping {
		switch k {
		case "id", "email", "cio_id", "anonymous_id", "object_id", "object_type_id", "relationship_attributes", "event", "event_name", "timestamp", "event_id":
		default:
			return Errorf(Invalid, "mapping."+k, "is not a mapping key (id, email, cio_id, anonymous_id, object_id, object_type_id, relationship_attributes, event, event_name, timestamp, event_id)")
		}
	}
	return nil
}
