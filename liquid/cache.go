package liquid

import (
	clist "container/list"
	"sync"

	"github.com/osteele/liquid"
)

// cache keeps parsed templates by source, least recently used out first. A parse failure is
// kept too, so a broken template in a campaign is not parsed again for every recipient.
type cache struct {
	mu    sync.Mutex
	max   int
	order *clist.List // front = most recently used; values are *entry
	byKey map[string]*clist.Element
}

type entry struct {
	src string
	t   *liquid.Template
	err *Error
}

func newCache(max int) *cache {
	return &cache{max: max, order: clist.New(), byKey: make(map[string]*clist.Element, max)}
}

func (c *cache) get(src string) (*liquid.Template, *Error, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[src]
	if !ok {
		return nil, nil, false
	}
	c.order.MoveToFront(el)
	e := el.Value.(*entry)
	return e.t, e.err, true
}

func (c *cache) put(src string, t *liquid.Template, err *Error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[src]; ok {
		c.order.MoveToFront(el)
		return
	}
	c.byKey[src] = c.order.PushFront(&entry{src: src, t: t, err: err})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*entry).src)
	}
}

// len reports how many templates are cached.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
