// Package pipelines serves the Segment-compatible Pipelines API (/v1/identify, /v1/track,
// /v1/page, /v1/screen, /v1/group, /v1/alias, /v1/batch) on Herald's write path, so that
// Segment's and Customer.io's CDP libraries can send to Herald.
package pipelines

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/heraldhq/herald"
)

// Store is what the Pipelines API needs of storage.
type Store interface {
	Apply(ctx context.Context, ws int64, ops []herald.Op) ([]error, error)
	WorkspaceByWriteKey(ctx context.Context, key string) (*herald.Workspace, error)
}

// Limits, as Customer.io documents them for its Pipelines API.
const (
	MaxCallBytes  = 32 << 10
	MaxBatchBytes = 500 << 10
)

// Handler serves the Pipelines API.
type Handler struct {
	store Store
	log   *slog.Logger
}

// New returns a Pipelines API handler writing through s.
func New(s Store, log *slog.Logger) *Handler { return &Handler{store: s, log: log} }

// Register adds the Pipelines routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	for _, kind := range []string{"identify", "track", "page", "screen", "group", "alias"} {
		mux.HandleFunc("POST /v1/"+kind, h.single(kind))
	}
	mux.HandleFunc("POST /v1/batch", h.batch)
}

// strict reports whether the caller asked for real error statuses; by default the API answers
// 200 to everything, as Customer.io's permissive mode does, and logs what it refused.
func strict(r *http.Request) bool { return r.Header.Get("X-Strict-Mode") == "1" }

func (h *Handler) auth(w http.ResponseWriter, r *http.Request) (*herald.Workspace, bool) {
	key, ok := writeKey(r.Header.Get("Authorization"))
	if ok {
		ws, err := h.store.WorkspaceByWriteKey(r.Context(), key)
		if err == nil {
			return ws, true
		}
		if herald.ErrorCode(err) != herald.NotFound {
			h.log.Error("pipelines auth", "err", err)
		}
	}
	h.answer(w, r, http.StatusUnauthorized, herald.Errorf(herald.Unauthorized, "Authorization", "send the source write key as the Basic user"))
	return nil, false
}

func writeKey(header string) (string, bool) {
	enc, ok := strings.CutPrefix(header, "Basic ")
	if !ok {
		return "", false
	}
	enc = strings.TrimRight(strings.TrimSpace(enc), "=")
	for _, e := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := e.DecodeString(enc); err == nil {
			user, _, _ := strings.Cut(string(b), ":")
			return user, user != ""
		}
	}
	return "", false
}

// answer writes 200 {} in permissive mode, or status with the errors in strict mode.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, status int, errs ...error) {
	w.Header().Set("Content-Type", "application/json")
	var list []map[string]any
	for i, err := range errs {
		if err == nil {
			continue
		}
		e := herald.AsError(err)
		msg := e.Message
		if e.Code == herald.Internal {
			msg = "internal error; nothing was applied, retry"
			status = http.StatusInternalServerError
		}
		item := map[string]any{"reason": string(e.Code), "field": e.Field, "message": msg}
		if len(errs) > 1 {
			item["batch_index"] = i
		}
		list = append(list, item)
	}
	if len(list) > 0 && !strict(r) && status != http.StatusInternalServerError {
		h.log.Warn("pipelines call refused (permissive mode answers 200)", "path", r.URL.Path, "errors", list)
		status = http.StatusOK
	}
	if len(list) == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	if len(list) == 0 || status == http.StatusOK {
		io.WriteString(w, "{}\n")
		return
	}
	// meta.errors is where Customer.io's clients read the message from.
	msgs := make([]string, len(list))
	for i, item := range list {
		msgs[i] = fmt.Sprint(item["field"], ": ", item["message"])
	}
	json.NewEncoder(w).Encode(map[string]any{"errors": list, "meta": map[string]any{"errors": msgs}})
}

func readBody(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, herald.Errorf(herald.Invalid, "body", "could not be read")
	}
	if int64(len(b)) > limit {
		return nil, herald.Errorf(herald.TooLarge, "body", "is over %d bytes", limit)
	}
	return b, nil
}

func (h *Handler) single(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ws, ok := h.auth(w, r)
		if !ok {
			return
		}
		body, err := readBody(r, MaxCallBytes)
		if err != nil {
			h.answer(w, r, http.StatusRequestEntityTooLarge, err)
			return
		}
		ops, err := ParseCall(kind, body, nil)
		if err != nil {
			h.answer(w, r, http.StatusBadRequest, err)
			return
		}
		errs, err := h.store.Apply(r.Context(), ws.ID, ops)
		if err != nil {
			h.log.Error("pipelines write", "err", err)
			h.answer(w, r, http.StatusInternalServerError, &herald.Error{Code: herald.Internal, Err: err})
			return
		}
		h.answer(w, r, http.StatusBadRequest, firstError(errs))
	}
}

func (h *Handler) batch(w http.ResponseWriter, r *http.Request) {
	ws, ok := h.auth(w, r)
	if !ok {
		return
	}
	body, err := readBody(r, MaxBatchBytes)
	if err != nil {
		h.answer(w, r, http.StatusRequestEntityTooLarge, err)
		return
	}
	var in struct {
		Batch        []json.RawMessage `json:"batch"`
		Context      json.RawMessage   `json:"context"`
		Integrations json.RawMessage   `json:"integrations"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.Batch == nil {
		h.answer(w, r, http.StatusBadRequest, herald.Errorf(herald.Invalid, "batch", "the body must be {\"batch\": [calls]}"))
		return
	}
	callErrs := make([]error, len(in.Batch))
	var ops []herald.Op
	var owner []int // ops[j] came from call owner[j]
	for i, raw := range in.Batch {
		if len(raw) > MaxCallBytes {
			callErrs[i] = herald.Errorf(herald.TooLarge, "", "the call is %d bytes; at most %d are allowed", len(raw), MaxCallBytes)
			continue
		}
		var head struct {
			Type string `json:"type"`
		}
		json.Unmarshal(raw, &head)
		callOps, err := ParseCall(head.Type, raw, in.Context)
		if err != nil {
			callErrs[i] = err
			continue
		}
		for range callOps {
			owner = append(owner, i)
		}
		ops = append(ops, callOps...)
	}
	if len(ops) > 0 {
		errs, err := h.store.Apply(r.Context(), ws.ID, ops)
		if err != nil {
			h.log.Error("pipelines write", "err", err)
			h.answer(w, r, http.StatusInternalServerError, &herald.Error{Code: herald.Internal, Err: err})
			return
		}
		for j, e := range errs {
			if e != nil && callErrs[owner[j]] == nil {
				callErrs[owner[j]] = e
			}
		}
	}
	if len(callErrs) == 1 {
		callErrs = append(callErrs, nil) // keep batch_index in the answer
	}
	h.answer(w, r, http.StatusBadRequest, callErrs...)
}

func firstError(errs []error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
