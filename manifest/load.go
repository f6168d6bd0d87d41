package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/heraldhq/herald"
	"gopkg.in/yaml.v3"
)

// Sections of a manifest document, in the order Apply writes them.
var sections = []string{"object_types", "snippets", "segments", "templates", "campaigns"}

// ObjectTypeDef is an object type of a manifest: {name, singular_name?, icon?}.
type ObjectTypeDef struct {
	Source       Source `json:"-"`
	Name         string `json:"name"`
	SingularName string `json:"singular_name"`
	Icon         string `json:"icon"`
}

// SnippetDef is a snippet of a manifest: {name, value}.
type SnippetDef struct {
	Source Source `json:"-"`
	Name   string `json:"name"`
	Value  string `json:"value"`
}

// SegmentDef is a segment of a manifest: {name, description?, conditions?}; no conditions
// makes a manual segment.
type SegmentDef struct {
	Source      Source          `json:"-"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Conditions  json.RawMessage `json:"conditions"`
}

// TemplateDef is a message template of a manifest: {name, channel (default email), content,
// description?, send_to_unsubscribed?, tracked?}.
type TemplateDef struct {
	Source             Source            `json:"-"`
	Name               string            `json:"name"`
	Description        string            `json:"description"`
	Channel            string            `json:"channel"`
	Content            map[string]string `json:"content"`
	SendToUnsubscribed bool              `json:"send_to_unsubscribed"`
	Tracked            bool              `json:"tracked"`
}

// CampaignDef is a campaign of a manifest: a campaign definition (see herald.ParseCampaign)
// plus an optional state, running or stopped.
type CampaignDef struct {
	Source     Source
	Name       string
	State      string
	Definition json.RawMessage // the definition without state, names not yet resolved
}

// Load reads a manifest file, or every .yaml, .yml and .json file directly in a directory
// (not its subdirectories, so data files can live beside them in a folder of their own), in
// name order.
func Load(path string) (*Set, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	files := []string{path}
	if info.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		files = nil
		for _, e := range entries {
			if !e.IsDir() && isManifest(e.Name()) {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
		sort.Strings(files)
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: no .yaml, .yml or .json files in it", path)
		}
	}
	set := &Set{}
	var errs []error
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		s, err := Parse(f, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		set.Add(s)
	}
	return set, errors.Join(errs...)
}

func isManifest(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// Parse reads the documents of one manifest file: JSON when name ends in .json, else YAML
// (several documents separated by ---). Each document is an object of sections: object_types,
// snippets, segments, templates and campaigns, each a list.
func Parse(name string, data []byte) (*Set, error) {
	var docs []map[string]json.RawMessage
	if strings.EqualFold(filepath.Ext(name), ".json") {
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if doc == nil {
			return nil, fmt.Errorf("%s: not a JSON object of sections (%s)", name, strings.Join(sections, ", "))
		}
		docs = append(docs, doc)
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var v any
			err := dec.Decode(&v)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if v == nil {
				continue // an empty document
			}
			raw, err := json.Marshal(jsonValue(v))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			var doc map[string]json.RawMessage
			if json.Unmarshal(raw, &doc) != nil {
				return nil, fmt.Errorf("%s: document %d is not a mapping of sections (%s)", name, len(docs)+1, strings.Join(sections, ", "))
			}
			docs = append(docs, doc)
		}
	}
	set := &Set{}
	var errs []error
	for i, doc := range docs {
		src := Source{File: name}
		if len(docs) > 1 {
			src.Doc = i + 1
		}
		if err := set.parseDoc(doc, src); err != nil {
			errs = append(errs, err)
		}
	}
	return set, errors.Join(errs...)
}

func (s *Set) parseDoc(doc map[string]json.RawMessage, src Source) error {
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		known := false
		for _, sec := range sections {
			known = known || k == sec
		}
		if !known {
			return errAt(Source{File: src.File, Doc: src.Doc, Path: k}, herald.Errorf(herald.Invalid, "", "unknown section; use %s", strings.Join(sections, ", ")))
		}
	}
	var errs []error
	for _, sec := range sections {
		raw, ok := doc[sec]
		if !ok || string(raw) == "null" {
			continue
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			errs = append(errs, errAt(Source{File: src.File, Doc: src.Doc, Path: sec}, herald.Errorf(herald.Invalid, "", "must be a list")))
			continue
		}
		for i, item := range items {
			at := Source{File: src.File, Doc: src.Doc, Path: fmt.Sprintf("%s[%d]", sec, i)}
			if err := s.parseItem(sec, item, at); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (s *Set) parseItem(section string, raw json.RawMessage, at Source) error {
	strict := func(v any, shape string) error {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			return errAt(at, herald.Errorf(herald.Invalid, "", "must be %s: %v", shape, err))
		}
		return nil
	}
	required := func(name string) error {
		if strings.TrimSpace(name) == "" {
			return errAt(at, herald.Errorf(herald.Required, "name", "is required"))
		}
		return nil
	}
	switch section {
	case "object_types":
		d := &ObjectTypeDef{Source: at}
		if err := strict(d, "an object type {name, singular_name?, icon?}"); err != nil {
			return err
		}
		if err := required(d.Name); err != nil {
			return err
		}
		s.ObjectTypes = append(s.ObjectTypes, d)
		return nil
	case "snippets":
		d := &SnippetDef{Source: at}
		if err := strict(d, "a snippet {name, value}"); err != nil {
			return err
		}
		if err := required(d.Name); err != nil {
			return err
		}
		s.Snippets = append(s.Snippets, d)
		return nil
	case "segments":
		d := &SegmentDef{Source: at}
		if err := strict(d, "a segment {name, description?, conditions?}"); err != nil {
			return err
		}
		if err := required(d.Name); err != nil {
			return err
		}
		s.Segments = append(s.Segments, d)
		return nil
	case "templates":
		d := &TemplateDef{Source: at}
		if err := strict(d, "a template {name, channel?, content, description?, send_to_unsubscribed?, tracked?}"); err != nil {
			return err
		}
		if err := required(d.Name); err != nil {
			return err
		}
		s.Templates = append(s.Templates, d)
		return nil
	default: // campaigns
		d := &CampaignDef{Source: at}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var def map[string]any
		if err := dec.Decode(&def); err != nil || def == nil {
			return errAt(at, herald.Errorf(herald.Invalid, "", "must be a campaign {name, trigger, workflow, …}"))
		}
		if st, ok := def["state"]; ok {
			delete(def, "state")
			d.State, _ = st.(string)
			if d.State != herald.CampaignRunning && d.State != herald.CampaignStopped {
				return errAt(at, herald.Errorf(herald.Invalid, "state", "must be running or stopped, got %v", st))
			}
		}
		name, _ := def["name"].(string)
		if err := required(name); err != nil {
			return err
		}
		d.Name = strings.TrimSpace(name)
		d.Definition, _ = json.Marshal(def)
		s.Campaigns = append(s.Campaigns, d)
		return nil
	}
}

// jsonValue turns what YAML decoded into values encoding/json can write (mappings with
// non-string keys become string-keyed).
func jsonValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonValue(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonValue(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = jsonValue(e)
		}
		return x
	}
	return v
}
