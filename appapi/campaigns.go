package appapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/heraldhq/herald"
)

// CampaignStore is what the campaign endpoints need of storage.
type CampaignStore interface {
	Campaign(ctx context.Context, ws, id int64) (*herald.Campaign, error)
	Campaigns(ctx context.Context, ws int64) ([]*herald.Campaign, error)
	SaveCampaign(ctx context.Context, ws, id int64, definition []byte) (*herald.Campaign, error)
	SetCampaignState(ctx context.Context, ws, id int64, state string) (*herald.Campaign, error)
	JourneyMetrics(ctx context.Context, id int64) ([]herald.JourneyMetric, error)
	CampaignDeliveries(ctx context.Context, ws, campaignID int64, page herald.Page) ([]*herald.Delivery, int64, error)
}

// Journeys starts journeys on demand (the journey engine provides it).
type Journeys interface {
	// TriggerBroadcast starts an API-triggered campaign for a broadcast's recipients and
	// returns the trigger's id and the journeys started.
	TriggerBroadcast(ctx context.Context, ws, id int64, b herald.Broadcast) (int64, int, error)
	// Kick tells the engine that campaigns changed.
	Kick()
}

// campaignJSON is a campaign as Customer.io's App API shows one, plus Herald's definition.
func campaignJSON(c *herald.Campaign) map[string]any {
	out := map[string]any{
		"id": c.ID, "deduplicate_id": strconv.FormatInt(c.ID, 10) + ":" + strconv.FormatInt(c.UpdatedAt, 10),
		"name": c.Name, "state": c.State, "active": c.State == herald.CampaignRunning, "created": c.CreatedAt, "updated": c.UpdatedAt,
		"first_started": nilZero(c.StartedAt), "version": c.Version, "tags": []string{}, "definition": c.Definition,
	}
	def, err := herald.ParseCampaign(c.Definition, "campaign")
	if err != nil {
		return out
	}
	out["type"] = def.Trigger.Type
	if def.Trigger.Event != "" {
		out["event_name"] = def.Trigger.Event
	}
	if def.Trigger.SegmentID != 0 {
		out["trigger_segment_ids"] = []int64{def.Trigger.SegmentID}
	}
	out["filter_segment_ids"] = def.Filter.SegmentRefs()
	actions := []map[string]any{}
	for _, id := range def.StepIDs() {
		actions = append(actions, map[string]any{"id": id})
	}
	out["actions"] = actions
	return out
}

func pathCampaignID(r *http.Request) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue("campaign_id"), 10, 64)
	if err != nil || n <= 0 {
		return 0, herald.Errorf(herald.Invalid, "campaign_id", "must be a positive integer, got %q", r.PathValue("campaign_id"))
	}
	return n, nil
}

func (h *Handler) listCampaigns(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	cs, err := h.store.Campaigns(r.Context(), ws.ID)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(cs))
	for i, c := range cs {
		out[i] = campaignJSON(c)
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaigns": out})
	return nil
}

func (h *Handler) getCampaign(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	id, err := pathCampaignID(r)
	if err != nil {
		return err
	}
	c, err := h.store.Campaign(r.Context(), ws.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaign": campaignJSON(c)})
	return nil
}

// saveCampaign is Herald's POST /v1/campaigns and PUT /v1/campaigns/{id}: {"campaign": the
// definition}. A new campaign is a draft; a changed one gets a new version.
func (h *Handler) saveCampaign(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	var id int64
	if r.PathValue("campaign_id") != "" {
		var err error
		if id, err = pathCampaignID(r); err != nil {
			return err
		}
	}
	var in struct {
		Campaign json.RawMessage `json:"campaign"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if len(in.Campaign) == 0 {
		return herald.Errorf(herald.Required, "campaign", "is required: {\"campaign\": {name, trigger, workflow …}}")
	}
	c, err := h.store.SaveCampaign(r.Context(), ws.ID, id, in.Campaign)
	if err != nil {
		return err
	}
	h.kickJourneys()
	writeJSON(w, http.StatusOK, map[string]any{"campaign": campaignJSON(c)})
	return nil
}

func (h *Handler) campaignState(state string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
		id, err := pathCampaignID(r)
		if err != nil {
			return err
		}
		c, err := h.store.SetCampaignState(r.Context(), ws.ID, id, state)
		if err != nil {
			return err
		}
		h.kickJourneys()
		writeJSON(w, http.StatusOK, map[string]any{"campaign": campaignJSON(c)})
		return nil
	}
}

func (h *Handler) kickJourneys() {
	if h.Journeys != nil {
		h.Journeys.Kick()
	}
}

// campaignMetrics answers getCampaignMetrics and getCampaignJourneyMetrics: the campaign's
// totals (entered, completed, exited, sent, failed …) as one-bucket series, and per step.
func (h *Handler) campaignMetrics(key string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
		id, err := pathCampaignID(r)
		if err != nil {
			return err
		}
		if _, err := h.store.Campaign(r.Context(), ws.ID, id); err != nil {
			return err
		}
		ms, err := h.store.JourneyMetrics(r.Context(), id)
		if err != nil {
			return err
		}
		totals := map[string]int64{}
		for _, m := range ms {
			if m.StepID == "" || m.Metric == "sent" || m.Metric == "failed" || m.Metric == "suppressed" {
				totals[m.Metric] += m.Count
			}
		}
		series := map[string][]int64{}
		for k, v := range totals {
			series[k] = []int64{v}
		}
		writeJSON(w, http.StatusOK, map[string]any{key: map[string]any{"series": series, "totals": totals, "steps": ms}})
		return nil
	}
}

func (h *Handler) campaignMessages(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	id, err := pathCampaignID(r)
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	if _, err := h.store.Campaign(r.Context(), ws.ID, id); err != nil {
		return err
	}
	ds, next, err := h.store.CampaignDeliveries(r.Context(), ws.ID, id, p)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(ds))
	for i, d := range ds {
		out[i] = messageJSON(d, nil)
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": out, "next": cursor(next)})
	return nil
}

// triggerCampaign is POST /v1/campaigns/{id}/triggers (customerio-node's triggerBroadcast):
// {data?, ids | emails | per_user_data | recipients: {segment: {id}}} → {"id": trigger id}.
func (h *Handler) triggerCampaign(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	if h.Journeys == nil {
		return herald.Errorf(herald.Unsupported, "", "API triggers need the journey engine")
	}
	id, err := pathCampaignID(r)
	if err != nil {
		return err
	}
	var in struct {
		Data       map[string]any              `json:"data"`
		IDs        []json.RawMessage           `json:"ids"`
		Emails     []string                    `json:"emails"`
		PerUser    []herald.BroadcastRecipient `json:"per_user_data"`
		DataFile   string                      `json:"data_file_url"`
		Recipients *struct {
			Segment *struct {
				ID json.RawMessage `json:"id"`
			} `json:"segment"`
		} `json:"recipients"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.DataFile != "" {
		return herald.Errorf(herald.Unsupported, "data_file_url", "triggers from a data file are not supported; send ids, emails or per_user_data")
	}
	b := herald.Broadcast{Data: in.Data, Emails: in.Emails, PerUser: in.PerUser}
	for _, raw := range in.IDs {
		b.IDs = append(b.IDs, herald.ValueString(raw))
	}
	for i, u := range in.PerUser {
		if u.ID == "" && u.Email == "" {
			return herald.Errorf(herald.Required, "per_user_data["+strconv.Itoa(i)+"]", "needs an id or an email")
		}
	}
	if in.Recipients != nil {
		if in.Recipients.Segment == nil {
			return herald.Errorf(herald.Unsupported, "recipients", "only {\"segment\": {\"id\": …}} recipients are supported")
		}
		n, err := herald.Int64Value(in.Recipients.Segment.ID, "recipients.segment.id")
		if err != nil || n <= 0 {
			return herald.Errorf(herald.Invalid, "recipients.segment.id", "must be a segment id")
		}
		b.SegmentID = n
	}
	trigger, _, err := h.Journeys.TriggerBroadcast(r.Context(), ws.ID, id, b)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": trigger})
	return nil
}
