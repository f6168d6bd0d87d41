// Package trackapi serves Customer.io's Track API (v1 and v2) on Herald's write path, so that
// Customer.io's own clients work against Herald unmodified.
package trackapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/heraldhq/herald"
)

// Store is what the Track API needs of storage: the one write path and credential lookup.
type Store interface {
	Apply(ctx context.Context, ws int64, ops []herald.Op) ([]error, error)
	WorkspaceBySiteID(ctx context.Context, siteID string) (*herald.Workspace, error)
}

// Body limits, as Customer.io documents them.
const (
	MaxEntityBytes = 32 << 10  // one v2 operation
	MaxBatchBytes  = 500 << 10 // a v2 batch
	MaxV1Bytes     = 1 << 20   // any v1 body; attribute limits do the real work
)

// Handler serves the Track API.
type Handler struct {
	store Store
	log   *slog.Logger
	// Region is what GET /api/v1/accounts/region reports. Default "us".
	Region string
	// URL is the public base URL reported by the region endpoint.
	URL string
}

// New returns a Track API handler writing through s.
func New(s Store, log *slog.Logger) *Handler {
	return &Handler{store: s, log: log, Region: "us"}
}

// Register adds the Track API routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	for pattern, fn := range map[string]func(http.ResponseWriter, *http.Request, *herald.Workspace){
		"PUT /api/v1/customers/{identifier}":                        h.identify,
		"DELETE /api/v1/customers/{identifier}":                     h.deleteCustomer,
		"POST /api/v1/customers/{identifier}/events":                h.customerEvent,
		"POST /api/v1/events":                                       h.anonymousEvent,
		"PUT /api/v1/customers/{identifier}/devices":                h.addDevice,
		"DELETE /api/v1/customers/{identifier}/devices/{device_id}": h.deleteDevice,
		"POST /api/v1/customers/{identifier}/suppress":              h.suppress(false),
		"POST /api/v1/customers/{identifier}/unsuppress":            h.suppress(true),
		"POST /api/v1/merge_customers":                              h.merge,
		"GET /api/v1/accounts/region":                               h.region,
		"POST /api/v1/segments/{segment_id}/add_customers":          h.segmentMembers(false),
		"POST /api/v1/segments/{segment_id}/remove_customers":       h.segmentMembers(true),
		"POST /api/v1/metrics":                                      h.metrics,
		"POST /api/v1/push/events":                                  h.pushEvents,
		"POST /api/v2/entity":                                       h.entity,
		"POST /api/v2/batch":                                        h.batch,
	} {
		mux.Handle(pattern, h.auth(fn))
	}
}

// auth checks HTTP Basic site_id:api_key, accepting the standard and URL-safe base64
// alphabets, padded or not (Customer.io's Go client uses URL-safe).
func (h *Handler) auth(next func(http.ResponseWriter, *http.Request, *herald.Workspace)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		site, key, ok := basicAuth(r.Header.Get("Authorization"))
		if !ok {
			unauthorized(w)
			return
		}
		ws, err := h.store.WorkspaceBySiteID(r.Context(), site)
		if err != nil || ws.TrackAPIKey != key {
			if err != nil && herald.ErrorCode(err) != herald.NotFound {
				h.log.Error("track auth", "err", err)
			}
			unauthorized(w)
			return
		}
		next(w, r, ws)
	})
}

func basicAuth(header string) (user, pass string, ok bool) {
	const prefix = "Basic "
	if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return "", "", false
	}
	enc := strings.TrimSpace(header[len(prefix):])
	raw := strings.TrimRight(enc, "=")
	for _, e := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := e.DecodeString(raw); err == nil {
			user, pass, ok = strings.Cut(string(b), ":")
			return user, pass, ok && user != ""
		}
	}
	return "", "", false
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="herald track"`)
	writeJSON(w, http.StatusUnauthorized, map[string]any{"meta": map[string]any{"error": "Unauthorized: check the site id and API key"}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// readBody reads at most limit bytes; a longer body is a TooLarge error.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, herald.Errorf(herald.Invalid, "body", "could not be read: %v", err)
	}
	if int64(len(b)) > limit {
		return nil, herald.Errorf(herald.TooLarge, "body", "is over %d bytes", limit)
	}
	return b, nil
}

// statusOf maps an op error to the HTTP status the Track API answers with.
func statusOf(err error) int {
	switch herald.ErrorCode(err) {
	case herald.Internal:
		return http.StatusInternalServerError
	case herald.TooLarge:
		return http.StatusRequestEntityTooLarge
	case herald.Unauthorized:
		return http.StatusUnauthorized
	default:
		return http.StatusBadRequest
	}
}

// apply runs ops through the write path; a store fault is logged and reported as Internal.
func (h *Handler) apply(ctx context.Context, ws int64, ops []herald.Op) []error {
	errs, err := h.store.Apply(ctx, ws, ops)
	if err != nil {
		h.log.Error("track write", "err", err, "ops", len(ops))
		for i := range errs {
			errs[i] = &herald.Error{Code: herald.Internal, Message: "the write failed; nothing was applied, retry", Err: err}
		}
	}
	return errs
}

func publicMessage(err error) string {
	e := herald.AsError(err)
	if e.Code == herald.Internal {
		return "internal error; nothing was applied, retry"
	}
	return e.Error()
}

var errNotObject = errors.New("not a JSON object")
