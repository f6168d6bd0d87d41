// Package feed holds what the engines that consume the change feed share: the lease on a
// cursor that lets one process at a time consume it.
package feed

import (
	"context"
	"log/slog"
	"time"
)

// Claimer takes or renews a lease on a named cursor (store.Store provides it).
type Claimer interface {
	ClaimCursor(ctx context.Context, name, owner string, until int64) (seq int64, ok bool, err error)
}

// Lease is one process's claim on the cursor Name. Seq is where the holder has got to (it may
// be ahead of what it has saved); a newly taken lease resumes where the last holder saved.
type Lease struct {
	Name, Owner string
	Seq         int64
	until       time.Time
}

// Hold takes or renews the lease for d, renewing it when half of it is left, and reports
// whether this process holds it.
func (l *Lease) Hold(ctx context.Context, c Claimer, now time.Time, d time.Duration) (bool, error) {
	if !l.until.IsZero() && l.until.Sub(now) > d/2 {
		return true, nil
	}
	seq, ok, err := c.ClaimCursor(ctx, l.Name, l.Owner, now.Add(d).Unix())
	if err != nil || !ok {
		l.until = time.Time{}
		return false, err
	}
	if l.until.IsZero() {
		l.Seq = seq
	}
	l.until = now.Add(d)
	return true, nil
}

// Loop runs step until ctx ends: again at once while it reports more work, otherwise after
// the next local commit (changed), a kick, or wait() — whichever comes first. A step's error
// is logged as name's and the loop goes on.
func Loop(ctx context.Context, name string, log *slog.Logger, changed func() <-chan struct{}, kick <-chan struct{},
	wait func(context.Context) time.Duration, step func(context.Context) (bool, error)) {
	for ctx.Err() == nil {
		next := changed()
		more, err := step(ctx)
		if err != nil && ctx.Err() == nil {
			log.Error(name, "err", err)
			more = false
		}
		if more {
			continue
		}
		select {
		case <-ctx.Done():
		case <-next:
		case <-kick:
		case <-time.After(wait(ctx)):
		}
	}
}
