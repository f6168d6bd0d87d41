package trackapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/heraldhq/herald"
)

// MaxSegmentIDs bounds the ids of one add_customers or remove_customers call, as Customer.io.
const MaxSegmentIDs = 1000

// segmentMembers serves POST /api/v1/segments/{segment_id}/add_customers and
// /remove_customers: {"ids": [...]} with id_type id (default), email or cio_id, for manual
// segments only. Ids that address nobody are ignored, as Customer.io does.
func (h *Handler) segmentMembers(remove bool) func(http.ResponseWriter, *http.Request, *herald.Workspace) {
	return func(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) {
		op, err := parseSegmentMembers(r, remove)
		h.v1Apply(w, r, ws, op, err)
	}
}

func parseSegmentMembers(r *http.Request, remove bool) (*herald.SegmentMembership, error) {
	op := &herald.SegmentMembership{Manual: true}
	id, err := strconv.ParseInt(r.PathValue("segment_id"), 10, 64)
	if err != nil || id <= 0 {
		return op, herald.Errorf(herald.Invalid, "segment_id", "must be a positive integer, got %q", r.PathValue("segment_id"))
	}
	op.SegmentID = id
	kind := r.URL.Query().Get("id_type")
	switch kind {
	case "":
		kind = "id"
	case "id", "email", "cio_id":
	default:
		return op, herald.Errorf(herald.Invalid, "id_type", "must be id, email or cio_id, got %q", kind)
	}
	body, err := v1Body(r)
	if err != nil {
		return op, err
	}
	var ids []json.RawMessage
	if json.Unmarshal(body["ids"], &ids) != nil {
		return op, herald.Errorf(herald.Invalid, "ids", "must be an array of %s identifiers", kind)
	}
	if len(ids) == 0 || len(ids) > MaxSegmentIDs {
		return op, herald.Errorf(herald.Invalid, "ids", "must hold 1 to %d identifiers, got %d", MaxSegmentIDs, len(ids))
	}
	for i, raw := range ids {
		v := herald.ValueString(raw)
		if len(raw) > 0 && raw[0] != '"' && !isNumber(raw) {
			return op, herald.Errorf(herald.Invalid, fmt.Sprintf("ids[%d]", i), "must be a string or number")
		}
		ref := herald.PersonRef{Kind: herald.IdentifierKind(kind), Value: v}
		if remove {
			op.Remove = append(op.Remove, ref)
		} else {
			op.Add = append(op.Add, ref)
		}
	}
	return op, nil
}

func isNumber(raw json.RawMessage) bool {
	_, ok := herald.ParseNumber(string(raw))
	return ok
}
