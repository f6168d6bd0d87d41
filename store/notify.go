package store

import "sync"

// notifier wakes the engines that consume the change feed after a commit that appended
// change records, so that they need not poll this process's writes.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

// Changed returns a channel that is closed after the next commit that appends change
// records. Engines wait on it between reads of the feed (and poll too, for other processes).
func (s *Store) Changed() <-chan struct{} {
	s.notify.mu.Lock()
	defer s.notify.mu.Unlock()
	if s.notify.ch == nil {
		s.notify.ch = make(chan struct{})
	}
	return s.notify.ch
}

func (s *Store) signal() {
	s.notify.mu.Lock()
	if s.notify.ch != nil {
		close(s.notify.ch)
		s.notify.ch = nil
	}
	s.notify.mu.Unlock()
}
