// Package appapi serves Herald's App API: reads and administration, shaped like Customer.io's
// App API wherever one exists, so that Customer.io's clients work against it.
package appapi

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldhq/herald"
)

// Store is what the App API needs of storage.
type Store interface {
	WorkspaceByAppKey(ctx context.Context, key string) (*herald.Workspace, error)
	ObjectTypes(ctx context.Context, ws int64) ([]herald.ObjectType, error)
	ObjectType(ctx context.Context, ws int64, id int) (*herald.ObjectType, error)
	CreateObjectType(ctx context.Context, ws int64, t herald.ObjectType) (*herald.ObjectType, error)
	UpdateObjectType(ctx context.Context, ws int64, t herald.ObjectType) (*herald.ObjectType, error)
	Object(ctx context.Context, ws int64, ref herald.ObjectRef) (*herald.Object, error)
	FindObjects(ctx context.Context, ws int64, typeID int, match func(*herald.Object) bool, page herald.Page) ([]herald.Object, int64, error)
	ObjectPeople(ctx context.Context, objectPK int64, page herald.Page) ([]herald.Relationship, int64, error)
	Person(ctx context.Context, ws int64, ref herald.PersonRef) (*herald.Person, error)
	FindPeople(ctx context.Context, ws int64, match func(*herald.Person) bool, page herald.Page) ([]herald.Person, int64, error)
	PersonObjects(ctx context.Context, personPK int64, page herald.Page) ([]herald.Relationship, int64, error)
	Devices(ctx context.Context, personPK int64) ([]herald.Device, error)
	Activities(ctx context.Context, ws int64, f herald.ActivityFilter, page herald.Page) ([]herald.Change, int64, error)
	ImportStore
	SyncStore
	SegmentStore
	CampaignStore
	MessageStore
}

// Handler serves the App API.
type Handler struct {
	store Store
	log   *slog.Logger
	// Imports runs CSV imports; without it POST /v1/imports answers 501.
	Imports Importer
	// Syncs runs reverse-ETL syncs on demand; without it POST /v1/syncs/{id}/run answers 501.
	Syncs SyncRunner
	// Segments previews conditions and is told of segment changes; without it
	// POST /v1/segments/preview answers 501.
	Segments SegmentEngine
	// Journeys runs API triggers and is told of campaign changes; without it
	// POST /v1/campaigns/{id}/triggers answers 501.
	Journeys Journeys
	// Messages sends and previews messages; without it the send and preview endpoints answer 501.
	Messages Messenger
	// Templates checks the Liquid of saved templates and snippets; without it they are saved
	// unchecked.
	Templates interface{ Parse(src string) error }
}

// New returns an App API handler reading s.
func New(s Store, log *slog.Logger) *Handler { return &Handler{store: s, log: log} }

type handlerFunc func(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error

// Register adds the App API routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	for pattern, fn := range map[string]handlerFunc{
		"GET /v1/object_types":                                h.listObjectTypes,
		"POST /v1/object_types":                               h.createObjectType,
		"GET /v1/object_types/{type_id}":                      h.getObjectType,
		"PUT /v1/object_types/{type_id}":                      h.updateObjectType,
		"GET /v1/object_types/{type_id}/objects":              h.listObjects,
		"POST /v1/objects":                                    h.findObjects,
		"GET /v1/objects/{type_id}/{object_id}/attributes":    h.objectAttributes,
		"GET /v1/objects/{type_id}/{object_id}/relationships": h.objectRelationships,
		"GET /v1/customers":                                   h.customersByEmail,
		"POST /v1/customers":                                  h.searchCustomers,
		"GET /v1/customers/{customer_id}/attributes":          h.customerAttributes,
		"GET /v1/customers/{customer_id}/relationships":       h.customerRelationships,
		"GET /v1/customers/{customer_id}/activities":          h.customerActivities,
		"GET /v1/activities":                                  h.activities,
		"POST /v1/imports":                                    h.createImport,
		"GET /v1/imports/{import_id}":                         h.getImport,
		"GET /v1/syncs":                                       h.listSyncs,
		"POST /v1/syncs":                                      h.createSync,
		"GET /v1/syncs/{sync_id}":                             h.getSync,
		"GET /v1/syncs/{sync_id}/runs":                        h.syncRuns,
		"POST /v1/syncs/{sync_id}/run":                        h.runSync,
		"GET /v1/imports/{import_id}/report":                  h.importReport,
		"GET /v1/campaigns":                                   h.listCampaigns,
		"POST /v1/campaigns":                                  h.saveCampaign,
		"GET /v1/campaigns/{campaign_id}":                     h.getCampaign,
		"PUT /v1/campaigns/{campaign_id}":                     h.saveCampaign,
		"POST /v1/campaigns/{campaign_id}/start":              h.campaignState(herald.CampaignRunning),
		"POST /v1/campaigns/{campaign_id}/stop":               h.campaignState(herald.CampaignStopped),
		"GET /v1/campaigns/{campaign_id}/metrics":             h.campaignMetrics("metric"),
		"GET /v1/campaigns/{campaign_id}/journey_metrics":     h.campaignMetrics("journey_metrics"),
		"GET /v1/campaigns/{campaign_id}/messages":            h.campaignMessages,
		"POST /v1/campaigns/{campaign_id}/triggers":           h.triggerCampaign,
		"GET /v1/segments":                                    h.listSegments,
		"POST /v1/segments":                                   h.createSegment,
		"POST /v1/segments/preview":                           h.previewSegment,
		"GET /v1/segments/{segment_id}":                       h.getSegment,
		"PUT /v1/segments/{segment_id}":                       h.updateSegment,
		"DELETE /v1/segments/{segment_id}":                    h.deleteSegment,
		"GET /v1/segments/{segment_id}/customer_count":        h.segmentCount,
		"GET /v1/segments/{segment_id}/membership":            h.segmentMembership,
		"GET /v1/customers/{customer_id}/segments":            h.customerSegments,
		"POST /v1/send/email":                                 h.send(herald.ChannelEmail),
		"POST /v1/send/sms":                                   h.send(herald.ChannelSMS),
		"POST /v1/send/push":                                  h.send(herald.ChannelPush),
		"POST /v1/send/in_app":                                h.send(herald.ChannelInApp),
		"POST /v1/messages/preview":                           h.preview,
		"GET /v1/messages/{message_id}":                       h.getMessage,
		"GET /v1/customers/{customer_id}/messages":            h.customerMessages,
		"POST /v1/customers/{customer_id}/inbox_token":        h.inboxToken,
		"GET /v1/transactional":                               h.listTemplates,
		"POST /v1/transactional":                              h.saveTemplate,
		"GET /v1/transactional/{message_id}":                  h.getTemplate,
		"PUT /v1/transactional/{message_id}":                  h.saveTemplate,
		"DELETE /v1/transactional/{message_id}":               h.deleteTemplate,
		"GET /v1/snippets":                                    h.listSnippets,
		"POST /v1/snippets":                                   h.putSnippet,
		"PUT /v1/snippets":                                    h.putSnippet,
		"DELETE /v1/snippets/{name}":                          h.deleteSnippet,
		"GET /v1/settings/channels":                           h.channelSettings,
		"PUT /v1/settings/channels/{channel}":                 h.putChannelSettings,
	} {
		mux.Handle(pattern, h.auth(fn))
	}
}

func (h *Handler) auth(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || strings.TrimSpace(key) == "" {
			writeError(w, herald.Errorf(herald.Unauthorized, "Authorization", "send the App API key as a Bearer token"))
			return
		}
		ws, err := h.store.WorkspaceByAppKey(r.Context(), strings.TrimSpace(key))
		if err != nil {
			if herald.ErrorCode(err) != herald.NotFound {
				h.log.Error("app auth", "err", err)
			}
			writeError(w, herald.Errorf(herald.Unauthorized, "Authorization", "the App API key is not valid"))
			return
		}
		if err := fn(w, r, ws); err != nil {
			if herald.ErrorCode(err) == herald.Internal {
				h.log.Error("app api", "path", r.URL.Path, "err", err)
			}
			writeError(w, err)
		}
	})
}

var statusByCode = map[herald.Code]int{
	herald.NotFound:     http.StatusNotFound,
	herald.Conflict:     http.StatusConflict,
	herald.Unauthorized: http.StatusUnauthorized,
	herald.TooLarge:     http.StatusRequestEntityTooLarge,
	herald.Internal:     http.StatusInternalServerError,
	herald.Unsupported:  http.StatusNotImplemented,
}

// writeError answers with Customer.io's {"meta":{"error"}} plus Herald's structured errors.
func writeError(w http.ResponseWriter, err error) {
	e := herald.AsError(err)
	status, ok := statusByCode[e.Code]
	if !ok {
		status = http.StatusBadRequest
	}
	msg := e.Error()
	if e.Code == herald.Internal {
		msg = "internal error"
	}
	writeJSON(w, status, map[string]any{
		"meta":   map[string]any{"error": msg},
		"errors": []map[string]string{{"reason": string(e.Code), "field": e.Field, "message": msg}},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body of at most 1 MiB into v.
func decode(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
	if err != nil {
		return herald.Errorf(herald.Invalid, "body", "could not be read")
	}
	if len(b) > 1<<20 {
		return herald.Errorf(herald.TooLarge, "body", "is over 1 MiB")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return herald.Errorf(herald.Invalid, "body", "is not valid JSON: %v", err)
	}
	return nil
}

// page reads start (an opaque cursor) and limit from the query string.
func page(r *http.Request) (herald.Page, error) {
	var p herald.Page
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return p, herald.Errorf(herald.Invalid, "limit", "must be an integer from 1 to 1000")
		}
		p.Limit = n
	}
	if s := r.URL.Query().Get("start"); s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) != 8 {
			return p, herald.Errorf(herald.Invalid, "start", "is not a cursor this API returned")
		}
		p.After = int64(binary.BigEndian.Uint64(b))
	}
	return p, nil
}

// cursor encodes a next-page position; 0 (no next page) is "".
func cursor(n int64) string {
	if n == 0 {
		return ""
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func pathTypeID(r *http.Request) (int, error) {
	n, err := strconv.Atoi(r.PathValue("type_id"))
	if err != nil || n <= 0 {
		return 0, herald.Errorf(herald.Invalid, "object_type_id", "must be a positive integer, got %q", r.PathValue("type_id"))
	}
	return n, nil
}
