package herald

// Page is a cursor position in a list: items after After (for newest-first lists, before it),
// at most Limit of them. Lists return the cursor of the next page, 0 when there is none.
type Page struct {
	After int64
	Limit int
}

// PageLimit is Limit bounded to 1..1000, 50 when unset.
func (p Page) PageLimit() int {
	switch {
	case p.Limit <= 0:
		return 50
	case p.Limit > 1000:
		return 1000
	default:
		return p.Limit
	}
}

// ActivityFilter narrows an activity listing. Zero fields do not filter.
type ActivityFilter struct {
	Type     string // exact activity type, e.g. "event" or "_o:1:create"
	Name     string // event name
	PersonPK int64
	Object   *ObjectIdentity // TypeID and ObjectID
}
