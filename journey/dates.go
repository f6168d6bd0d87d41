package journey

import (
	"context"
	"strconv"
	"time"

	"github.com/heraldhq/herald"
)

// dates starts the journeys of date-triggered campaigns whose dates came due since the last
// scan: every campaign keeps, as a cursor, the time it has scanned up to. A date moved before
// it came due moves the send (journeys start at the moment a date comes due, from the data
// as it is then); a date moved after it fired fires again at its new time.
func (e *Engine) dates(ctx context.Context) error {
	now := e.Now()
	if now.Sub(e.datesAt) < e.DateScan {
		return nil
	}
	e.datesAt = now
	campaigns, err := e.running(ctx)
	if err != nil {
		return err
	}
	for _, r := range campaigns {
		if r.def.Trigger.Type != herald.TriggerDate {
			continue
		}
		name := "date:" + strconv.FormatInt(r.c.ID, 10)
		from, ok, err := e.Store.ClaimCursor(ctx, name, e.owner, now.Add(e.Lease).Unix())
		if err != nil {
			return err
		}
		if !ok {
			continue // another process scans this one
		}
		if from == 0 {
			from = r.c.StartedAt
		}
		to := now.Unix()
		if to <= from {
			continue
		}
		if err := e.fireDates(ctx, r, from, to); err != nil {
			return err
		}
		if err := e.Store.SaveCursor(ctx, name, e.owner, to); err != nil {
			return err
		}
	}
	return nil
}

// fireDates starts r's journeys for every date occurrence in (from, to].
func (e *Engine) fireDates(ctx context.Context, r running, from, to int64) error {
	t := r.def.Trigger
	values, err := e.Store.DateValues(ctx, r.c.WorkspaceID, t.On, t.TypeID, t.Attribute, t.Timezone == "person")
	if err != nil {
		return err
	}
	fixed := time.UTC
	if t.Timezone != "" && t.Timezone != "person" {
		fixed, _ = time.LoadLocation(t.Timezone)
	}
	for _, v := range values {
		base, ok := herald.ParseNumber(v.Value)
		if !ok {
			continue // not a timestamp
		}
		loc := fixed
		if t.Timezone == "person" && v.Timezone != "" {
			if l, err := time.LoadLocation(v.Timezone); err == nil {
				loc = l
			}
		}
		for _, at := range Occurrences(int64(base), t, loc, from, to) {
			var object *herald.ObjectRef
			pks := []int64{v.PersonPK}
			if t.On != "person" {
				object = &herald.ObjectRef{TypeID: t.TypeID, ObjectID: v.ObjectID}
			}
			if t.On == "object" {
				if pks, err = e.Store.RelatedPKs(ctx, r.c.WorkspaceID, t.TypeID, v.ObjectID); err != nil {
					return err
				}
				if t.Audience.Relationship != nil {
					if pks, err = e.holds(ctx, r.c.WorkspaceID, relatedTo(object, t.Audience.Relationship), pks); err != nil {
						return err
					}
				}
				if pks, err = e.holds(ctx, r.c.WorkspaceID, t.Audience.People, pks); err != nil {
					return err
				}
			}
			jt := herald.JourneyTrigger{Data: map[string]any{"date": int64(base), "due_at": at}}
			// The object is part of the occasion: two appointments at one time are two reminders.
			occasion := "d" + strconv.FormatInt(int64(base), 10) + ":" + strconv.FormatInt(at, 10) + ":" + v.ObjectID
			if _, err := e.enter(ctx, r, pks, object, jt, occasion, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// Occurrences returns the times in (from, to] at which a date trigger fires for a date base
// (unix seconds): once at base + offset, or every month or year on base's day (and month),
// each shifted by the offset and, when the trigger names an hour, moved to that hour in loc.
func Occurrences(base int64, t herald.Trigger, loc *time.Location, from, to int64) []int64 {
	fire := func(at time.Time) int64 {
		at = at.Add(t.Offset)
		if t.Hour >= 0 {
			l := at.In(loc)
			at = time.Date(l.Year(), l.Month(), l.Day(), t.Hour, 0, 0, 0, loc)
		}
		return at.Unix()
	}
	b := time.Unix(base, 0).In(loc)
	var out []int64
	add := func(at time.Time) {
		if f := fire(at); f > from && f <= to {
			out = append(out, f)
		}
	}
	if t.Recurrence == "once" {
		add(b)
		return out
	}
	// Occurrences near the window: a day and the offset of slack on each side.
	slack := t.Offset
	if slack < 0 {
		slack = -slack
	}
	slack += 48 * time.Hour
	start, end := time.Unix(from, 0).Add(-slack).In(loc), time.Unix(to, 0).Add(slack).In(loc)
	for y, m := start.Year(), start.Month(); ; {
		month := m
		if t.Recurrence == "yearly" {
			month = b.Month()
		}
		day := min(b.Day(), daysIn(y, month))
		at := time.Date(y, month, day, b.Hour(), b.Minute(), b.Second(), 0, loc)
		if at.After(end) {
			break
		}
		if !at.Before(b) {
			add(at)
		}
		if t.Recurrence == "yearly" {
			y++
		} else if m++; m > 12 {
			y, m = y+1, 1
		}
	}
	return out
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
