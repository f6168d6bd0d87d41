package journey

import (
	"context"
	"strconv"

	"github.com/heraldhq/herald"
)

// goal credits change ch to r's conversion goal when it is one: the newest message r sent the
// person within the goal's window is marked converted, and with exit goal or goal_or_filter
// the person's journeys in r end.
func (e *Engine) goal(ctx context.Context, r running, ch herald.Change) error {
	g := r.def.Goal
	if g == nil || ch.PersonPK == 0 {
		return nil
	}
	switch {
	case g.Event != "" && ch.Type == string(herald.EventCustom) && ch.Name == g.Event:
	case g.SegmentID != 0 && ch.Type == herald.ActSegmentEntered && ch.Name == strconv.FormatInt(g.SegmentID, 10):
	default:
		return nil
	}
	since := ch.Timestamp - int64(g.Within.Seconds())
	id, status, err := e.Store.LatestCampaignDelivery(ctx, r.c.WorkspaceID, ch.PersonPK, r.c.ID, since)
	if err != nil {
		return err
	}
	// A delivery converts once: a repeated goal (or this change read again) credits nothing.
	if id != "" && status != herald.StatusConverted {
		errs, err := e.Store.Apply(ctx, r.c.WorkspaceID, []herald.Op{&herald.DeliveryMetric{DeliveryID: id, Metric: herald.StatusConverted, Timestamp: ch.Timestamp}})
		if err != nil {
			return err
		}
		if errs[0] == nil {
			if err := e.Store.CountCampaignMetric(ctx, r.c.ID, "", "converted", 1); err != nil {
				return err
			}
		}
	}
	if r.def.Exit == "goal" || r.def.Exit == "goal_or_filter" {
		_, err := e.Store.ExitJourneys(ctx, r.c.ID, ch.PersonPK, "reached the goal")
		return err
	}
	return nil
}
