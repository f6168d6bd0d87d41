package herald

// Import is one CSV import started through the App API, shaped as Customer.io reports it.
type Import struct {
	ID            int64  `json:"id"`
	WorkspaceID   int64  `json:"-"`
	Name          string `json:"name"`
	Description   string `json:"description"`
	Type          string `json:"type"`       // people, object, relationship
	Identifier    string `json:"identifier"` // id, email, cio_id
	ObjectTypeID  int    `json:"object_type_id,omitempty"`
	DataToProcess string `json:"data_to_process"`
	NoTriggers    bool   `json:"no_triggers,omitempty"` // from fire_triggers: false; not kept after the run
	State         string `json:"state"`                 // validating, importing, imported, failed, canceled
	RowsToImport  int    `json:"rows_to_import"`
	RowsImported  int    `json:"rows_imported"`
	RowsFailed    int    `json:"rows_failed"`
	Created       int    `json:"created"`
	Updated       int    `json:"updated"`
	Unchanged     int    `json:"unchanged"`
	Skipped       int    `json:"skipped"`
	Error         string `json:"error"`
	CreatedAt     int64  `json:"created_at"`
	UpdatedAt     int64  `json:"updated_at"`
}

// Import states.
const (
	ImportValidating = "validating"
	ImportImporting  = "importing"
	ImportImported   = "imported"
	ImportFailed     = "failed"
)
