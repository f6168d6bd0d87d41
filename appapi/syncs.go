package appapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/heraldhq/herald"
)

// SyncRunner runs a sync now.
type SyncRunner interface {
	Run(ctx context.Context, sy *herald.Sync) (*herald.SyncRun, error)
}

// SyncStore keeps sync definitions and their runs.
type SyncStore interface {
	CreateSync(ctx context.Context, sy *herald.Sync) error
	Syncs(ctx context.Context, ws int64) ([]herald.Sync, error)
	Sync(ctx context.Context, ws, id int64, name string) (*herald.Sync, error)
	SyncRuns(ctx context.Context, syncID int64, limit int) ([]herald.SyncRun, error)
}

type syncInput struct {
	Name            string            `json:"name"`
	Source          string            `json:"source"`
	Query           string            `json:"query"`
	Call            string            `json:"call"`
	ObjectTypeID    int               `json:"object_type_id"`
	Mapping         map[string]string `json:"mapping"`
	IntervalSeconds int64             `json:"interval_seconds"`
}

func (h *Handler) createSync(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	var in struct {
		Sync *syncInput `json:"sync"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Sync == nil {
		return herald.Errorf(herald.Required, "sync", "the body must be {\"sync\": {name, source, query, call, mapping, interval_seconds}}")
	}
	sy := &herald.Sync{WorkspaceID: ws.ID, Name: in.Sync.Name, Source: in.Sync.Source, Query: in.Sync.Query, Call: in.Sync.Call,
		ObjectTypeID: in.Sync.ObjectTypeID, Mapping: in.Sync.Mapping, IntervalSeconds: in.Sync.IntervalSeconds}
	if err := h.store.CreateSync(r.Context(), sy); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"sync": sy})
	return nil
}

func (h *Handler) listSyncs(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	syncs, err := h.store.Syncs(r.Context(), ws.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"syncs": syncs})
	return nil
}

func (h *Handler) pathSync(r *http.Request, ws *herald.Workspace) (*herald.Sync, error) {
	id, err := strconv.ParseInt(r.PathValue("sync_id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, herald.Errorf(herald.Invalid, "sync_id", "must be a positive integer")
	}
	return h.store.Sync(r.Context(), ws.ID, id, "")
}

func (h *Handler) getSync(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	sy, err := h.pathSync(r, ws)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"sync": sy})
	return nil
}

func (h *Handler) syncRuns(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	sy, err := h.pathSync(r, ws)
	if err != nil {
		return err
	}
	runs, err := h.store.SyncRuns(r.Context(), sy.ID, 50)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": runs})
	return nil
}

// runSync runs a sync now and answers with the finished run.
func (h *Handler) runSync(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	if h.Syncs == nil {
		return herald.Errorf(herald.Unsupported, "", "syncs are not enabled on this server")
	}
	sy, err := h.pathSync(r, ws)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Hour)
	defer cancel()
	run, err := h.Syncs.Run(ctx, sy)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"run": run})
	return nil
}
