package herald

// Workspace is one tenant: every entity belongs to exactly one. SiteID and TrackAPIKey are the
// Track API's Basic credentials, AppAPIKey the App API's bearer key, WriteKey the Pipelines
// API's source key.
type Workspace struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	SiteID      string `json:"site_id"`
	TrackAPIKey string `json:"track_api_key"`
	AppAPIKey   string `json:"app_api_key"`
	WriteKey    string `json:"write_key"` // the Pipelines API's Basic user`
	CreatedAt   int64  `json:"created_at"`
}
