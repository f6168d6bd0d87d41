package journey

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"maps"
	"strconv"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/segment"
)

// TriggerBroadcast starts campaign id's journeys for a broadcast's recipients (people who do
// not exist are skipped) and returns the trigger's id and how many journeys it started. Each
// trigger is an occasion of its own: the same people may be triggered again.
func (e *Engine) TriggerBroadcast(ctx context.Context, ws, id int64, b herald.Broadcast) (int64, int, error) {
	c, err := e.Store.Campaign(ctx, ws, id)
	if err != nil {
		return 0, 0, err
	}
	def, err := e.definition(ctx, c.ID, c.Version)
	if err != nil {
		return 0, 0, err
	}
	if def.Trigger.Type != herald.TriggerAPI {
		return 0, 0, herald.Errorf(herald.Invalid, "campaign_id", "campaign %d is triggered by %s, not by API", id, def.Trigger.Type)
	}
	if c.State != herald.CampaignRunning {
		return 0, 0, herald.Errorf(herald.Invalid, "campaign_id", "campaign %d is %s; start it first", id, c.State)
	}
	var b8 [8]byte
	rand.Read(b8[:])
	trigger := int64(binary.BigEndian.Uint64(b8[:]) >> 12) // fits a JavaScript number
	occasion := "t" + strconv.FormatInt(trigger, 36)
	r := running{c, def}
	started := 0
	group := func(pks []int64, data map[string]any) error {
		n, err := e.enter(ctx, r, pks, nil, herald.JourneyTrigger{Data: data}, occasion, nil)
		started += n
		return err
	}
	resolve := func(kind herald.IdentifierKind, v string) (int64, error) {
		p, err := e.Store.Person(ctx, ws, herald.PersonRef{Kind: kind, Value: v})
		if herald.ErrorCode(err) == herald.NotFound {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		return p.PK, nil
	}
	var pks []int64
	for _, v := range b.IDs {
		pk, err := resolve(herald.ByID, v)
		if err != nil {
			return 0, 0, err
		}
		if pk != 0 {
			pks = append(pks, pk)
		}
	}
	for _, v := range b.Emails {
		pk, err := resolve(herald.ByEmail, v)
		if err != nil {
			return 0, 0, err
		}
		if pk != 0 {
			pks = append(pks, pk)
		}
	}
	switch {
	case len(b.PerUser) > 0:
		for _, u := range b.PerUser {
			kind, v := herald.ByID, u.ID
			if v == "" {
				kind, v = herald.ByEmail, u.Email
			}
			pk, err := resolve(kind, v)
			if err != nil {
				return 0, 0, err
			}
			if pk == 0 {
				continue
			}
			data := maps.Clone(b.Data)
			if data == nil {
				data = map[string]any{}
			}
			maps.Copy(data, u.Data)
			if err := group([]int64{pk}, data); err != nil {
				return 0, 0, err
			}
		}
	case b.SegmentID != 0:
		if _, err := e.Store.Segment(ctx, ws, b.SegmentID); err != nil {
			return 0, 0, herald.WithField(err, "recipients.segment.id")
		}
		members, err := e.Store.SegmentMemberPKs(ctx, b.SegmentID, nil)
		if err != nil {
			return 0, 0, err
		}
		pks = append(pks, members...)
	case len(b.IDs) == 0 && len(b.Emails) == 0:
		// No recipients named: everyone the campaign's filter matches.
		q, err := segment.Compile(e.Store.Engine(), ws, def.Filter, e.Now().Unix(), nil)
		if err != nil {
			return 0, 0, err
		}
		if pks, err = e.Store.QueryPKs(ctx, q.SQL, q.Args...); err != nil {
			return 0, 0, err
		}
	}
	if len(pks) > 0 {
		if err := group(pks, b.Data); err != nil {
			return 0, 0, err
		}
	}
	e.Kick()
	return trigger, started, nil
}
