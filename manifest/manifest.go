// Package manifest loads Herald definitions as code — object types, snippets, segments, message
// templates and campaigns — from YAML or JSON files and applies them to a workspace
// idempotently: each is matched by name, created when missing, updated when different and left
// alone when equal. Definitions refer to segments, object types and templates by name; names
// are resolved to ids before anything is saved. Everything is validated before the first write,
// so an invalid file changes nothing.
package manifest

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald"
)

// Store is what applying a manifest needs of Herald's store.
type Store interface {
	ObjectTypes(ctx context.Context, ws int64) ([]herald.ObjectType, error)
	CreateObjectType(ctx context.Context, ws int64, t herald.ObjectType) (*herald.ObjectType, error)
	UpdateObjectType(ctx context.Context, ws int64, t herald.ObjectType) (*herald.ObjectType, error)
	Snippets(ctx context.Context, ws int64) ([]herald.Snippet, error)
	PutSnippet(ctx context.Context, ws int64, sn herald.Snippet) (*herald.Snippet, error)
	Segments(ctx context.Context, ws int64) ([]*herald.Segment, error)
	CreateSegment(ctx context.Context, ws int64, g herald.Segment) (*herald.Segment, error)
	UpdateSegment(ctx context.Context, ws, id int64, g herald.Segment) (*herald.Segment, error)
	Templates(ctx context.Context, ws int64) ([]*herald.Template, error)
	SaveTemplate(ctx context.Context, ws int64, t herald.Template) (*herald.Template, error)
	Campaigns(ctx context.Context, ws int64) ([]*herald.Campaign, error)
	SaveCampaign(ctx context.Context, ws, id int64, definition []byte) (*herald.Campaign, error)
	SetCampaignState(ctx context.Context, ws, id int64, state string) (*herald.Campaign, error)
}

// Kinds of definitions, as a manifest's sections name them (singular).
const (
	KindObjectType = "object_type"
	KindSnippet    = "snippet"
	KindSegment    = "segment"
	KindTemplate   = "template"
	KindCampaign   = "campaign"
)

// Actions Apply reports for a definition.
const (
	Created   = "created"
	Updated   = "updated"
	Unchanged = "unchanged"
)

// Change is what Apply did with one definition.
type Change struct {
	Kind   string // KindObjectType …
	Name   string
	ID     int64  // the stored id (0 for snippets)
	Action string // Created, Updated or Unchanged
	State  string // campaigns: "started" or "stopped" when apply changed its state
	Source string // the file (and document) and path it came from
}

func (c Change) String() string {
	s := fmt.Sprintf("%s %q %s", c.Kind, c.Name, c.Action)
	if c.ID != 0 {
		s += fmt.Sprintf(" (id %d)", c.ID)
	}
	if c.State != "" {
		s += ", " + c.State
	}
	return s
}

// Set is the definitions of one or more manifest files, in the order they were read.
type Set struct {
	ObjectTypes []*ObjectTypeDef
	Snippets    []*SnippetDef
	Segments    []*SegmentDef
	Templates   []*TemplateDef
	Campaigns   []*CampaignDef
}

// Add appends o's definitions to s.
func (s *Set) Add(o *Set) {
	s.ObjectTypes = append(s.ObjectTypes, o.ObjectTypes...)
	s.Snippets = append(s.Snippets, o.Snippets...)
	s.Segments = append(s.Segments, o.Segments...)
	s.Templates = append(s.Templates, o.Templates...)
	s.Campaigns = append(s.Campaigns, o.Campaigns...)
}

// Source is where a definition was read: File (with its document number when the file has
// several) and Path, its JSON path in the document ("campaigns[2]").
type Source struct {
	File string
	Doc  int // 1-based; 0 when the file has one document
	Path string
}

func (s Source) String() string {
	if s.Doc > 0 {
		return fmt.Sprintf("%s (document %d): %s", s.File, s.Doc, s.Path)
	}
	return s.File + ": " + s.Path
}

// errAt returns err (an *herald.Error) with its field under src's path and the file named.
func errAt(src Source, err error) error {
	e := herald.AsError(herald.WithField(err, src.Path))
	if src.Doc > 0 {
		return &FileError{File: fmt.Sprintf("%s (document %d)", src.File, src.Doc), Err: e}
	}
	return &FileError{File: src.File, Err: e}
}

// FileError is an invalid definition: the file it is in, and the error, whose Field is the
// JSON path of the bad field in that file's document.
type FileError struct {
	File string
	Err  *herald.Error
}

func (e *FileError) Error() string { return e.File + ": " + e.Err.Error() }

func (e *FileError) Unwrap() error { return e.Err }
