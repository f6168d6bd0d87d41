package manifest

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"strings"

	"github.com/heraldhq/herald"
)

// placeholder ids stand for definitions Apply has yet to create while it validates.
const placeholder = 1 << 40

// current is what workspace ws holds, by name.
type current struct {
	types     map[string]herald.ObjectType // lower-cased name
	snippets  map[string]herald.Snippet
	segments  map[string]*herald.Segment
	templates map[string]*herald.Template
	campaigns map[string][]*herald.Campaign
}

func load(ctx context.Context, st Store, ws int64) (*current, *names, error) {
	c := &current{types: map[string]herald.ObjectType{}, snippets: map[string]herald.Snippet{}, segments: map[string]*herald.Segment{},
		templates: map[string]*herald.Template{}, campaigns: map[string][]*herald.Campaign{}}
	n := &names{types: map[string]int{}, segments: map[string]int64{}, dynamic: map[string]bool{}, templates: map[string]bool{}}
	types, err := st.ObjectTypes(ctx, ws)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range types {
		c.types[strings.ToLower(t.Name)] = t
		n.addType(t)
	}
	snippets, err := st.Snippets(ctx, ws)
	if err != nil {
		return nil, nil, err
	}
	for _, sn := range snippets {
		c.snippets[sn.Name] = sn
	}
	segs, err := st.Segments(ctx, ws)
	if err != nil {
		return nil, nil, err
	}
	for _, g := range segs {
		c.segments[g.Name] = g
		n.segments[g.Name] = g.ID
		n.dynamic[g.Name] = g.Type == herald.SegmentDynamic
	}
	tmpls, err := st.Templates(ctx, ws)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range tmpls {
		c.templates[t.Name] = t
		n.templates[t.Name] = true
	}
	camps, err := st.Campaigns(ctx, ws)
	if err != nil {
		return nil, nil, err
	}
	for _, cp := range camps {
		c.campaigns[cp.Name] = append(c.campaigns[cp.Name], cp)
	}
	return c, n, nil
}

// Apply validates every definition of set against workspace ws, then, when all are valid,
// writes those that are missing or different, in dependency order: object types, snippets,
// segments (each after the segments it names), templates, campaigns (with their state). An
// invalid definition is reported as a *FileError (all of them, joined) and nothing is written.
func Apply(ctx context.Context, st Store, ws int64, set *Set) ([]Change, error) {
	cur, n, err := load(ctx, st, ws)
	if err != nil {
		return nil, err
	}
	order, err := validate(set, cur, n)
	if err != nil {
		return nil, err
	}
	w := &writer{st: st, ws: ws, cur: cur, n: n}
	for _, d := range set.ObjectTypes {
		if err := w.objectType(ctx, d); err != nil {
			return w.changes, errAt(d.Source, err)
		}
	}
	for _, d := range set.Snippets {
		if err := w.snippet(ctx, d); err != nil {
			return w.changes, errAt(d.Source, err)
		}
	}
	for _, d := range order {
		if err := w.segment(ctx, d); err != nil {
			return w.changes, errAt(d.Source, err)
		}
	}
	for _, d := range set.Templates {
		if err := w.template(ctx, d); err != nil {
			return w.changes, errAt(d.Source, err)
		}
	}
	for _, d := range set.Campaigns {
		if err := w.campaign(ctx, d); err != nil {
			return w.changes, errAt(d.Source, err)
		}
	}
	return w.changes, nil
}

// validate checks every definition with the names of both the workspace and the manifest
// (placeholders for the ones to be created) and returns the segments in the order they can be
// written.
func validate(set *Set, cur *current, n *names) ([]*SegmentDef, error) {
	var errs []error
	fail := func(src Source, err error) { errs = append(errs, errAt(src, err)) }

	seen := map[string]Source{}
	dup := func(kind, name string, src Source) bool {
		key := kind + "\x00" + name
		if first, ok := seen[key]; ok {
			fail(src, herald.Errorf(herald.Conflict, "name", "%s %q is also defined at %s", strings.ReplaceAll(kind, "_", " "), name, first))
			return true
		}
		seen[key] = src
		return false
	}
	slugs := map[string]string{} // slug → lower-cased type name
	for k, t := range cur.types {
		slugs[t.Slug], slugs[t.SingularSlug] = k, k
	}
	for i, d := range set.ObjectTypes {
		t := herald.ObjectType{Name: d.Name, SingularName: d.SingularName, Icon: d.Icon}
		if err := herald.ValidateObjectType(&t); err != nil {
			fail(d.Source, err)
			continue
		}
		key := strings.ToLower(t.Name)
		if dup(KindObjectType, key, d.Source) {
			continue
		}
		for _, sl := range []string{t.Slug, t.SingularSlug} {
			if other, ok := slugs[sl]; ok && other != key {
				fail(d.Source, herald.Errorf(herald.Conflict, "name", "the slug %q is another object type's (%q)", sl, other))
			}
			slugs[sl] = key
		}
		if old, ok := cur.types[key]; ok {
			t.ID = old.ID
		} else {
			t.ID = placeholder + i
		}
		n.addType(t)
	}
	for _, d := range set.Snippets {
		sn := herald.Snippet{Name: d.Name, Value: d.Value}
		if err := herald.ValidateSnippet(&sn); err != nil {
			fail(d.Source, err)
			continue
		}
		dup(KindSnippet, sn.Name, d.Source)
	}
	for _, d := range set.Templates {
		d.Name = strings.TrimSpace(d.Name)
		if dup(KindTemplate, d.Name, d.Source) {
			continue
		}
		if _, err := d.template(); err != nil {
			fail(d.Source, err)
			continue
		}
		n.templates[d.Name] = true
	}
	for i, d := range set.Segments {
		d.Name = strings.TrimSpace(d.Name)
		if dup(KindSegment, d.Name, d.Source) {
			continue
		}
		if _, ok := cur.segments[d.Name]; !ok {
			n.segments[d.Name] = placeholder + int64(i)
		}
		n.dynamic[d.Name] = len(d.Conditions) > 0 && string(d.Conditions) != "null"
	}
	deps := map[*SegmentDef]map[string]bool{}
	for _, d := range set.Segments {
		g, refs, err := d.segment(n)
		if err != nil {
			fail(d.Source, err)
			continue
		}
		if old, ok := cur.segments[d.Name]; ok && old.Type != g.Type {
			fail(d.Source, herald.Errorf(herald.Invalid, "conditions", "segment %q is %s and cannot become %s; give it another name", d.Name, old.Type, g.Type))
			continue
		}
		if refs[d.Name] {
			fail(d.Source, herald.Errorf(herald.Invalid, "conditions", "segment %q names itself", d.Name))
			continue
		}
		deps[d] = refs
	}
	for _, d := range set.Campaigns {
		if dup(KindCampaign, d.Name, d.Source) {
			continue
		}
		if len(cur.campaigns[d.Name]) > 1 {
			fail(d.Source, herald.Errorf(herald.Conflict, "name", "the workspace has %d campaigns named %q; rename all but one", len(cur.campaigns[d.Name]), d.Name))
			continue
		}
		if _, err := d.definition(n); err != nil {
			fail(d.Source, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return segmentOrder(set.Segments, deps)
}

// segmentOrder puts every segment after the manifest's segments it names.
func segmentOrder(defs []*SegmentDef, deps map[*SegmentDef]map[string]bool) ([]*SegmentDef, error) {
	pending := map[string]bool{}
	for _, d := range defs {
		pending[d.Name] = true
	}
	var out []*SegmentDef
	for len(out) < len(defs) {
		progress := false
		for _, d := range defs {
			if !pending[d.Name] {
				continue
			}
			ready := true
			for ref := range deps[d] {
				ready = ready && !pending[ref]
			}
			if ready {
				out = append(out, d)
				delete(pending, d.Name)
				progress = true
			}
		}
		if !progress {
			var errs []error
			for _, d := range defs {
				if pending[d.Name] {
					errs = append(errs, errAt(d.Source, herald.Errorf(herald.Invalid, "conditions", "segments name each other in a cycle")))
				}
			}
			return nil, errors.Join(errs...)
		}
	}
	return out, nil
}

// template returns d as a herald.Template, validated.
func (d *TemplateDef) template() (herald.Template, error) {
	t := herald.Template{Name: d.Name, Description: d.Description, Channel: herald.Channel(d.Channel), Fields: d.Content,
		SendToUnsubscribed: d.SendToUnsubscribed, Tracked: d.Tracked}
	if t.Channel == "" {
		t.Channel = herald.ChannelEmail
	}
	if !t.Channel.Valid() {
		return t, herald.Errorf(herald.Invalid, "channel", "must be email, sms, push, in_app or webhook, got %q", d.Channel)
	}
	if len(t.Fields) == 0 {
		return t, herald.Errorf(herald.Required, "content", "give the message's fields (subject, body …)")
	}
	return t, herald.ValidateTemplate(&t)
}

// segment returns d as a herald.Segment with names resolved, validated, and the segment
// names its conditions use.
func (d *SegmentDef) segment(n *names) (herald.Segment, map[string]bool, error) {
	g := herald.Segment{Name: d.Name, Description: d.Description}
	refs := map[string]bool{}
	if err := herald.ValidateSegment(&g); err != nil {
		return g, nil, rebase(err, "segment")
	}
	if len(d.Conditions) == 0 || string(d.Conditions) == "null" {
		return g, refs, nil
	}
	raw, err := n.resolve(d.Conditions, refs)
	if err != nil {
		return g, nil, herald.WithField(err, "conditions")
	}
	g.Conditions = raw
	if err := herald.ValidateSegment(&g); err != nil {
		return g, nil, rebase(err, "segment")
	}
	return g, refs, nil
}

// definition returns d's campaign definition with names resolved, validated.
func (d *CampaignDef) definition(n *names) (json.RawMessage, error) {
	raw, err := n.resolve(d.Definition, map[string]bool{})
	if err != nil {
		return nil, err
	}
	if _, err := herald.ParseCampaign(raw, "campaign"); err != nil {
		return nil, rebase(err, "campaign")
	}
	return raw, nil
}

// writer writes a validated set, recording what it did.
type writer struct {
	st      Store
	ws      int64
	cur     *current
	n       *names
	changes []Change
}

func (w *writer) record(kind, name string, id int64, action string, src Source) *Change {
	w.changes = append(w.changes, Change{Kind: kind, Name: name, ID: id, Action: action, Source: src.String()})
	return &w.changes[len(w.changes)-1]
}

func (w *writer) objectType(ctx context.Context, d *ObjectTypeDef) error {
	t := herald.ObjectType{Name: d.Name, SingularName: d.SingularName, Icon: d.Icon, Enabled: true}
	if err := herald.ValidateObjectType(&t); err != nil {
		return err
	}
	old, ok := w.cur.types[strings.ToLower(t.Name)]
	action := Unchanged
	switch {
	case !ok:
		out, err := w.st.CreateObjectType(ctx, w.ws, t)
		if err != nil {
			return err
		}
		t, action = *out, Created
	case old.Name != t.Name || old.SingularName != t.SingularName || old.Icon != t.Icon:
		t.ID, t.Enabled = old.ID, old.Enabled
		out, err := w.st.UpdateObjectType(ctx, w.ws, t)
		if err != nil {
			return err
		}
		t, action = *out, Updated
	default:
		t = old
	}
	w.n.addType(t)
	w.record(KindObjectType, t.Name, int64(t.ID), action, d.Source)
	return nil
}

func (w *writer) snippet(ctx context.Context, d *SnippetDef) error {
	sn := herald.Snippet{Name: d.Name, Value: d.Value}
	if err := herald.ValidateSnippet(&sn); err != nil {
		return err
	}
	old, ok := w.cur.snippets[sn.Name]
	action := Unchanged
	if !ok || old.Value != sn.Value {
		if _, err := w.st.PutSnippet(ctx, w.ws, sn); err != nil {
			return err
		}
		action = map[bool]string{true: Updated, false: Created}[ok]
	}
	w.record(KindSnippet, sn.Name, 0, action, d.Source)
	return nil
}

func (w *writer) segment(ctx context.Context, d *SegmentDef) error {
	g, _, err := d.segment(w.n)
	if err != nil {
		return err
	}
	old, ok := w.cur.segments[g.Name]
	action, id := Unchanged, int64(0)
	switch {
	case !ok:
		out, err := w.st.CreateSegment(ctx, w.ws, g)
		if err != nil {
			return err
		}
		action, id = Created, out.ID
	case old.Description != g.Description || !sameJSON(old.Conditions, g.Conditions):
		out, err := w.st.UpdateSegment(ctx, w.ws, old.ID, g)
		if err != nil {
			return err
		}
		action, id = Updated, out.ID
	default:
		id = old.ID
	}
	w.n.segments[g.Name] = id
	w.record(KindSegment, g.Name, id, action, d.Source)
	return nil
}

func (w *writer) template(ctx context.Context, d *TemplateDef) error {
	t, err := d.template()
	if err != nil {
		return err
	}
	old, ok := w.cur.templates[t.Name]
	action, id := Unchanged, int64(0)
	switch {
	case ok && old.Description == t.Description && old.Channel == t.Channel && maps.Equal(old.Fields, t.Fields) &&
		old.SendToUnsubscribed == t.SendToUnsubscribed && old.Tracked == t.Tracked:
		id = old.ID
	default:
		action = Created
		if ok {
			t.ID, action = old.ID, Updated
		}
		out, err := w.st.SaveTemplate(ctx, w.ws, t)
		if err != nil {
			return err
		}
		id = out.ID
	}
	w.record(KindTemplate, t.Name, id, action, d.Source)
	return nil
}

func (w *writer) campaign(ctx context.Context, d *CampaignDef) error {
	def, err := d.definition(w.n)
	if err != nil {
		return err
	}
	var old *herald.Campaign
	if olds := w.cur.campaigns[d.Name]; len(olds) == 1 {
		old = olds[0]
	}
	action, c := Unchanged, old
	switch {
	case old == nil:
		if c, err = w.st.SaveCampaign(ctx, w.ws, 0, def); err != nil {
			return err
		}
		action = Created
	case !sameJSON(old.Definition, def):
		if c, err = w.st.SaveCampaign(ctx, w.ws, old.ID, def); err != nil {
			return err
		}
		action = Updated
	}
	ch := w.record(KindCampaign, d.Name, c.ID, action, d.Source)
	if d.State != "" && d.State != c.State {
		if _, err := w.st.SetCampaignState(ctx, w.ws, c.ID, d.State); err != nil {
			return err
		}
		ch.State = map[string]string{herald.CampaignRunning: "started", herald.CampaignStopped: "stopped"}[d.State]
	}
	return nil
}
