package segment

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/heraldhq/herald"
)

// deps is what a condition tree reads, so that a change re-evaluates only the segments it
// can affect.
type deps struct {
	personAttrs bool            // person attribute leaves
	events      map[string]bool // event names
	types       map[int]bool    // object types of related leaves
	segments    map[int64]bool  // segments named
	relative    bool            // outcome moves with the clock: re-evaluated on a schedule
	relIndexes  map[string]bool // relationship attributes compared for equality with text
}

func analyze(c *herald.Cond) deps {
	d := deps{events: map[string]bool{}, types: map[int]bool{}, segments: map[int64]bool{}, relIndexes: map[string]bool{}}
	var walk func(c *herald.Cond, person bool)
	walk = func(c *herald.Cond, person bool) {
		if c == nil {
			return
		}
		for _, x := range c.And {
			walk(x, person)
		}
		for _, x := range c.Or {
			walk(x, person)
		}
		walk(c.Not, person)
		switch {
		case c.Attr != nil:
			d.personAttrs = d.personAttrs || person
			d.relative = d.relative || c.Attr.IsRelative()
		case c.Segment != 0:
			d.segments[c.Segment] = true
		case c.Event != nil:
			d.events[c.Event.Name] = true
			d.relative = d.relative || c.Event.WithinDays > 0
			walk(c.Event.Data, false)
		case c.Related != nil:
			d.types[c.Related.TypeID] = true
			walk(c.Related.Object, false)
			walk(c.Related.Relationship, false)
			indexable(c.Related.Relationship, d.relIndexes)
		}
	}
	walk(c, true)
	return d
}

// affects reports whether change ch can change membership of a segment with these deps, and
// whether the people affected are those related to the change's object (rather than the
// change's person).
func (d deps) affects(ch herald.Change) (yes, viaObject bool) {
	switch ch.Type {
	case herald.ActProfileCreate, herald.ActProfileDelete, herald.ActProfileMerge:
		return true, false
	case herald.ActAttributeChange:
		return d.personAttrs, false
	case string(herald.EventCustom), herald.ActPage, herald.ActScreen:
		return d.events[ch.Name], false
	case herald.ActAnonymousEventMerged:
		return len(d.events) > 0, false
	case herald.ActAddRelationship, herald.ActDeleteRelationship:
		return ch.Object != nil && d.types[ch.Object.TypeID], false
	case herald.ActSegmentEntered, herald.ActSegmentExited:
		id, _ := strconv.ParseInt(ch.Name, 10, 64)
		return d.segments[id], false
	}
	if ch.Object == nil || !d.types[ch.Object.TypeID] {
		return false, false
	}
	switch {
	case strings.HasPrefix(ch.Type, "_r:"): // a relationship's attributes changed
		return true, false
	case strings.HasPrefix(ch.Type, "_o:"): // an object was created, changed or deleted
		return true, true
	}
	return false, false
}

// indexable collects the fields of c's eq and in leaves whose operands are plain text: the
// comparisons an expression index on the attribute's text serves.
func indexable(c *herald.Cond, into map[string]bool) {
	if c == nil {
		return
	}
	for _, x := range append(append([]*herald.Cond{}, c.And...), c.Or...) {
		indexable(x, into)
	}
	if c.Attr == nil || (c.Attr.Operator != "eq" && c.Attr.Operator != "in") {
		return
	}
	ops := c.Attr.List
	if c.Attr.Operator == "eq" {
		ops = []json.RawMessage{c.Attr.Value}
	}
	for _, op := range ops {
		v := herald.ValueString(op)
		if _, num := herald.ParseNumber(v); num || v == "true" || v == "false" {
			return
		}
	}
	into[c.Attr.Field] = true
}
