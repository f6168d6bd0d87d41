package segment

import (
	"context"
	"fmt"
	"sort"

	"github.com/heraldhq/herald"
)

// chunk bounds the people of one restricted evaluation and of one membership write.
const chunk = 500

// apply re-evaluates, for a batch of the feed, the people each change can affect, in the
// segments it can affect. Membership changes it makes are themselves changes in the feed,
// which is how segments that name other segments follow them.
func (e *Engine) apply(ctx context.Context, changes []herald.Change) error {
	segs := e.ordered()
	// pending[segment][person] is true while every change behind the re-evaluation was quiet.
	pending := map[int64]map[int64]bool{}
	related := map[int64][]int64{} // by change seq: the people related to its object
	for _, ch := range changes {
		for _, c := range segs {
			if c.seg.WorkspaceID != ch.WorkspaceID {
				continue
			}
			yes, viaObject := c.deps.affects(ch)
			if !yes {
				continue
			}
			var pks []int64
			switch {
			case viaObject:
				got, ok := related[ch.Seq]
				if !ok {
					var err error
					if got, err = e.Store.RelatedPKs(ctx, ch.WorkspaceID, ch.Object.TypeID, ch.Object.ObjectID); err != nil {
						return err
					}
					related[ch.Seq] = got
				}
				pks = got
			case ch.PersonPK != 0:
				pks = []int64{ch.PersonPK}
			}
			if len(pks) == 0 {
				continue
			}
			m := pending[c.seg.ID]
			if m == nil {
				m = map[int64]bool{}
				pending[c.seg.ID] = m
			}
			for _, pk := range pks {
				quiet, seen := m[pk]
				m[pk] = ch.Quiet && (!seen || quiet)
			}
		}
	}
	for _, c := range segs {
		m := pending[c.seg.ID]
		if len(m) == 0 {
			continue
		}
		pks := make([]int64, 0, len(m))
		for pk := range m {
			pks = append(pks, pk)
		}
		sort.Slice(pks, func(i, j int) bool { return pks[i] < pks[j] })
		for start := 0; start < len(pks); start += chunk {
			part := pks[start:min(start+chunk, len(pks))]
			if err := e.reconcile(ctx, c, part, func(pk int64) bool { return m[pk] }); err != nil {
				return err
			}
		}
	}
	return nil
}

// reconcile evaluates c for people pks and writes the membership changes.
func (e *Engine) reconcile(ctx context.Context, c *compiled, pks []int64, quiet func(int64) bool) error {
	match, err := e.evaluate(ctx, c, pks)
	if err != nil {
		return err
	}
	members, err := e.Store.SegmentMemberPKs(ctx, c.seg.ID, pks)
	if err != nil {
		return err
	}
	add, remove := diff(match, members)
	var loud, soft herald.SegmentMembership
	loud.SegmentID, soft.SegmentID = c.seg.ID, c.seg.ID
	for _, pk := range add {
		if quiet(pk) {
			soft.AddPKs = append(soft.AddPKs, pk)
		} else {
			loud.AddPKs = append(loud.AddPKs, pk)
		}
	}
	for _, pk := range remove {
		if quiet(pk) {
			soft.RemovePKs = append(soft.RemovePKs, pk)
		} else {
			loud.RemovePKs = append(loud.RemovePKs, pk)
		}
	}
	if err := e.write(ctx, c, &loud, false); err != nil {
		return err
	}
	return e.write(ctx, c, &soft, true)
}

func (e *Engine) write(ctx context.Context, c *compiled, op *herald.SegmentMembership, quiet bool) error {
	if len(op.AddPKs) == 0 && len(op.RemovePKs) == 0 {
		return nil
	}
	apply := e.Store.Apply
	if quiet {
		apply = e.Store.ApplyQuiet
	}
	errs, err := apply(ctx, c.seg.WorkspaceID, []herald.Op{op})
	if err != nil {
		return err
	}
	if errs[0] != nil && herald.ErrorCode(errs[0]) != herald.NotFound { // NotFound: deleted meanwhile
		return fmt.Errorf("segment %d membership: %w", c.seg.ID, errs[0])
	}
	return nil
}

// builds evaluates over everyone each segment whose conditions have not been built yet.
func (e *Engine) builds(ctx context.Context) error {
	for _, c := range e.ordered() {
		if c.seg.BuiltVersion >= c.seg.Version {
			continue
		}
		if err := e.rebuild(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// refreshes evaluates again over everyone the segments whose outcome moves with time.
func (e *Engine) refreshes(ctx context.Context) error {
	now := e.Now().Unix()
	for _, c := range e.ordered() {
		if !c.deps.relative || c.seg.BuiltVersion < c.seg.Version {
			continue
		}
		at, ok := e.refreshed[c.seg.ID]
		if !ok {
			var err error
			if at, err = e.Store.SegmentRefreshedAt(ctx, c.seg.ID); err != nil {
				return err
			}
			e.refreshed[c.seg.ID] = at
		}
		if now-at < int64(e.Refresh.Seconds()) {
			continue
		}
		if err := e.rebuild(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// rebuild evaluates c over everyone and moves the membership to the result, recording
// progress as it goes.
func (e *Engine) rebuild(ctx context.Context, c *compiled) error {
	started := e.Now().Unix()
	match, err := e.evaluate(ctx, c, nil)
	if err != nil {
		return err
	}
	members, err := e.Store.SegmentMemberPKs(ctx, c.seg.ID, nil)
	if err != nil {
		return err
	}
	add, remove := diff(match, members)
	total := len(add) + len(remove)
	done := 0
	step := func(op *herald.SegmentMembership, n int) error {
		// A long build keeps the lease, so that no other process maintains the feed meanwhile.
		if ok, err := e.feed.Hold(ctx, e.Store, e.Now(), e.Lease); err != nil || !ok {
			return fmt.Errorf("segment %d build: the feed's lease was lost (%v)", c.seg.ID, err)
		}
		if err := e.write(ctx, c, op, false); err != nil {
			return err
		}
		done += n
		if total > 0 {
			return e.Store.SetSegmentBuild(ctx, c.seg.ID, c.seg.Version, done*99/total, false, 0)
		}
		return nil
	}
	for start := 0; start < len(add); start += 1000 {
		part := add[start:min(start+1000, len(add))]
		if err := step(&herald.SegmentMembership{SegmentID: c.seg.ID, AddPKs: part}, len(part)); err != nil {
			return err
		}
	}
	for start := 0; start < len(remove); start += 1000 {
		part := remove[start:min(start+1000, len(remove))]
		if err := step(&herald.SegmentMembership{SegmentID: c.seg.ID, RemovePKs: part}, len(part)); err != nil {
			return err
		}
	}
	if err := e.Store.SetSegmentBuild(ctx, c.seg.ID, c.seg.Version, 100, true, started); err != nil {
		return err
	}
	e.mu.Lock()
	c.seg.BuiltVersion = c.seg.Version
	e.mu.Unlock()
	e.refreshed[c.seg.ID] = started
	return nil
}

// diff returns the keys in want but not have, and in have but not want.
func diff(want, have []int64) (add, remove []int64) {
	in := make(map[int64]bool, len(have))
	for _, pk := range have {
		in[pk] = true
	}
	wanted := make(map[int64]bool, len(want))
	for _, pk := range want {
		wanted[pk] = true
		if !in[pk] {
			add = append(add, pk)
		}
	}
	for _, pk := range have {
		if !wanted[pk] {
			remove = append(remove, pk)
		}
	}
	sort.Slice(add, func(i, j int) bool { return add[i] < add[j] })
	sort.Slice(remove, func(i, j int) bool { return remove[i] < remove[j] })
	return add, remove
}
