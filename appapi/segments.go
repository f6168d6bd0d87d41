package appapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/heraldhq/herald"
)

// SegmentStore is what the segment endpoints need of storage.
type SegmentStore interface {
	Segment(ctx context.Context, ws, id int64) (*herald.Segment, error)
	Segments(ctx context.Context, ws int64) ([]*herald.Segment, error)
	CreateSegment(ctx context.Context, ws int64, g herald.Segment) (*herald.Segment, error)
	UpdateSegment(ctx context.Context, ws, id int64, g herald.Segment) (*herald.Segment, error)
	DeleteSegment(ctx context.Context, ws, id int64) error
	SegmentCount(ctx context.Context, id int64) (int64, error)
	SegmentMembers(ctx context.Context, id int64, page herald.Page) ([]herald.Identifiers, int64, error)
	PersonSegments(ctx context.Context, ws, pk int64) ([]*herald.Segment, error)
	PeopleIdentifiers(ctx context.Context, pks []int64) ([]herald.Identifiers, error)
}

// SegmentEngine evaluates conditions (the segment engine provides it).
type SegmentEngine interface {
	// Preview counts the people matching conditions now and returns the keys of a sample.
	Preview(ctx context.Context, ws int64, conditions []byte, sample int) (int, []int64, error)
	// Kick tells the engine that segment definitions changed.
	Kick()
}

// segmentJSON is a segment as Customer.io's App API shows it.
func segmentJSON(g *herald.Segment) map[string]any {
	out := map[string]any{
		"id": g.ID, "deduplicate_id": strconv.FormatInt(g.ID, 10) + ":" + strconv.FormatInt(g.UpdatedAt, 10),
		"name": g.Name, "description": g.Description, "type": g.Type, "state": g.State, "progress": g.Progress,
		"tags": nil, "created_at": g.CreatedAt, "updated_at": g.UpdatedAt,
	}
	if g.Type == herald.SegmentDynamic {
		out["conditions"] = g.Conditions
	}
	return out
}

func pathSegmentID(r *http.Request) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue("segment_id"), 10, 64)
	if err != nil || n <= 0 {
		return 0, herald.Errorf(herald.Invalid, "segment_id", "must be a positive integer, got %q", r.PathValue("segment_id"))
	}
	return n, nil
}

func (h *Handler) listSegments(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	segs, err := h.store.Segments(r.Context(), ws.ID)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(segs))
	for i, g := range segs {
		out[i] = segmentJSON(g)
	}
	writeJSON(w, http.StatusOK, map[string]any{"segments": out})
	return nil
}

type segmentInput struct {
	Segment *struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Conditions  json.RawMessage `json:"conditions"`
	} `json:"segment"`
}

func (in segmentInput) segment() (herald.Segment, error) {
	if in.Segment == nil {
		return herald.Segment{}, herald.Errorf(herald.Required, "segment", "is required: {\"segment\": {\"name\": …, \"conditions\": …}}")
	}
	return herald.Segment{Name: in.Segment.Name, Description: in.Segment.Description, Conditions: in.Segment.Conditions}, nil
}

func (h *Handler) createSegment(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	var in segmentInput
	if err := decode(r, &in); err != nil {
		return err
	}
	g, err := in.segment()
	if err != nil {
		return err
	}
	created, err := h.store.CreateSegment(r.Context(), ws.ID, g)
	if err != nil {
		return err
	}
	h.kick()
	writeJSON(w, http.StatusOK, map[string]any{"segment": segmentJSON(created)})
	return nil
}

func (h *Handler) updateSegment(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	id, err := pathSegmentID(r)
	if err != nil {
		return err
	}
	var in segmentInput
	if err := decode(r, &in); err != nil {
		return err
	}
	g, err := in.segment()
	if err != nil {
		return err
	}
	updated, err := h.store.UpdateSegment(r.Context(), ws.ID, id, g)
	if err != nil {
		return err
	}
	h.kick()
	writeJSON(w, http.StatusOK, map[string]any{"segment": segmentJSON(updated)})
	return nil
}

func (h *Handler) kick() {
	if h.Segments != nil {
		h.Segments.Kick()
	}
}

func (h *Handler) getSegment(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	id, err := pathSegmentID(r)
	if err != nil {
		return err
	}
	g, err := h.store.Segment(r.Context(), ws.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"segment": segmentJSON(g)})
	return nil
}

func (h *Handler) deleteSegment(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	id, err := pathSegmentID(r)
	if err != nil {
		return err
	}
	if err := h.store.DeleteSegment(r.Context(), ws.ID, id); err != nil {
		return err
	}
	h.kick()
	writeJSON(w, http.StatusOK, map[string]any{})
	return nil
}

func (h *Handler) segmentCount(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	id, err := pathSegmentID(r)
	if err != nil {
		return err
	}
	if _, err := h.store.Segment(r.Context(), ws.ID, id); err != nil {
		return err
	}
	n, err := h.store.SegmentCount(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": n})
	return nil
}

func (h *Handler) segmentMembership(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	id, err := pathSegmentID(r)
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	if _, err := h.store.Segment(r.Context(), ws.ID, id); err != nil {
		return err
	}
	people, next, err := h.store.SegmentMembers(r.Context(), id, p)
	if err != nil {
		return err
	}
	ids := make([]string, len(people))
	for i, p := range people {
		ids[i] = p.ID
	}
	writeJSON(w, http.StatusOK, map[string]any{"identifiers": people, "ids": ids, "next": cursor(next)})
	return nil
}

func (h *Handler) customerSegments(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	p, err := h.person(r, ws)
	if err != nil {
		return err
	}
	segs, err := h.store.PersonSegments(r.Context(), ws.ID, p.PK)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(segs))
	for i, g := range segs {
		out[i] = segmentJSON(g)
	}
	writeJSON(w, http.StatusOK, map[string]any{"segments": out})
	return nil
}

// previewSegment is Herald's POST /v1/segments/preview: the count and a sample of the people
// a condition tree matches now, without saving a segment.
func (h *Handler) previewSegment(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	if h.Segments == nil {
		return herald.Errorf(herald.Unsupported, "", "segment previews need the segment engine")
	}
	var in struct {
		Conditions json.RawMessage `json:"conditions"`
		Sample     int             `json:"sample"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if len(in.Conditions) == 0 {
		return herald.Errorf(herald.Required, "conditions", "is required")
	}
	if in.Sample <= 0 || in.Sample > 100 {
		in.Sample = 10
	}
	n, pks, err := h.Segments.Preview(r.Context(), ws.ID, in.Conditions, in.Sample)
	if err != nil {
		return err
	}
	sample, err := h.store.PeopleIdentifiers(r.Context(), pks)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": n, "sample": sample})
	return nil
}
