package store

import (
	"context"
	"errors"
	"sync"

	"github.com/heraldhq/herald"
)

// Group commit: Apply hands its ops to a committer goroutine, which takes every request that
// is waiting for the same workspace (up to maxGroupOps operations) and applies them in one
// transaction. A commit, its fsync and its multi-row statements are then paid once per group
// instead of once per request. Each op still succeeds or fails alone; a fault that stops a
// group's transaction is retried request by request, so one request cannot fail another.

// maxGroupOps bounds the operations of one group transaction.
const maxGroupOps = 2000

// errClosed answers writes after Close.
var errClosed = errors.New("store is closed")

type applyReq struct {
	ws     int64
	quiet  bool
	ops    []herald.Op
	errs   []error
	failed []bool
	err    error
	done   chan struct{}
}

type committer struct {
	once sync.Once
	stop sync.Once
	reqs chan *applyReq
	quit chan struct{}
	wg   sync.WaitGroup
}

// commit applies ops through the committers and waits for the result. The transaction does
// not use ctx: once handed over, a request is applied even if its caller goes away, so that a
// 2xx is never sent for a write that was not made, nor a failure for one that was.
func (s *Store) commit(ctx context.Context, ws int64, quiet bool, ops []herald.Op, errs []error, failed []bool) error {
	c := &s.committer
	c.once.Do(func() {
		c.reqs, c.quit = make(chan *applyReq), make(chan struct{})
		n := 1 // SQLite has one writer
		if s.d.name() == "postgres" {
			n = 2
		}
		for i := 0; i < n; i++ {
			c.wg.Add(1)
			go s.runCommitter()
		}
	})
	req := &applyReq{ws: ws, quiet: quiet, ops: ops, errs: errs, failed: failed, done: make(chan struct{})}
	select {
	case c.reqs <- req:
	case <-c.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	<-req.done
	return req.err
}

func (s *Store) runCommitter() {
	c := &s.committer
	defer c.wg.Done()
	var next *applyReq // a request for another workspace, kept for the following group
	for {
		first := next
		next = nil
		if first == nil {
			select {
			case first = <-c.reqs:
			case <-c.quit:
				return
			}
		}
		group, total := []*applyReq{first}, len(first.ops)
	gather:
		for total < maxGroupOps && next == nil {
			select {
			case r := <-c.reqs:
				if r.ws != first.ws || r.quiet != first.quiet {
					next = r
					break gather
				}
				group = append(group, r)
				total += len(r.ops)
			default:
				break gather
			}
		}
		s.applyGroup(group)
	}
}

// applyGroup applies the requests of one workspace in one transaction.
func (s *Store) applyGroup(group []*applyReq) {
	ctx := context.Background()
	defer func() {
		for _, r := range group {
			close(r.done)
		}
	}()
	if len(group) == 1 {
		r := group[0]
		r.err = s.applyBatch(ctx, r.ws, r.quiet, r.ops, r.errs, r.failed)
		return
	}
	var ops []herald.Op
	var errs []error
	var failed []bool
	for _, r := range group {
		ops = append(ops, r.ops...)
		errs = append(errs, r.errs...)
		failed = append(failed, r.failed...)
	}
	err := s.applyBatch(ctx, group[0].ws, group[0].quiet, ops, errs, failed)
	if errors.Is(err, errCommit) { // it may have been applied: never apply it twice
		for _, r := range group {
			r.err = err
		}
		return
	}
	if err != nil {
		for _, r := range group { // isolate the fault: each request on its own
			for i := range r.errs {
				if !r.failed[i] {
					r.errs[i] = nil
				}
			}
			r.err = s.applyBatch(ctx, r.ws, r.quiet, r.ops, r.errs, r.failed)
		}
		return
	}
	at := 0
	for _, r := range group {
		copy(r.errs, errs[at:at+len(r.ops)])
		copy(r.failed, failed[at:at+len(r.ops)])
		at += len(r.ops)
	}
}

func (s *Store) stopCommitters() {
	c := &s.committer
	c.once.Do(func() { c.quit = make(chan struct{}) })
	c.stop.Do(func() { close(c.quit) })
	c.wg.Wait()
}
