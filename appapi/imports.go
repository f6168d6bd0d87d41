package appapi

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldhq/herald"
)

// Importer starts background CSV imports.
type Importer interface {
	Start(ctx context.Context, imp *herald.Import, url string, data io.Reader) (*herald.Import, error)
}

// ImportStore reads imports back.
type ImportStore interface {
	Import(ctx context.Context, ws, id int64) (*herald.Import, error)
	ImportReport(ctx context.Context, ws, id int64) (string, error)
}

type importInput struct {
	Name          string          `json:"name"`
	Description   string          `json:"description"`
	DataFileURL   string          `json:"data_file_url"`
	Type          string          `json:"type"`
	Identifier    string          `json:"identifier"`
	ObjectTypeID  json.RawMessage `json:"object_type_id"`
	DataToProcess string          `json:"data_to_process"`
	FireTriggers  *bool           `json:"fire_triggers"`
}

// createImport is Customer.io's POST /v1/imports: {"import": {name, data_file_url, type,
// identifier, object_type_id, data_to_process, fire_triggers}}; Herald also takes a multipart upload with
// the file in "file" and the same fields as form values (or as JSON in "import").
func (h *Handler) createImport(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	if h.Imports == nil {
		return herald.Errorf(herald.Unsupported, "", "imports are not enabled on this server")
	}
	var in importInput
	var data io.Reader
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			return herald.Errorf(herald.Invalid, "body", "is not a valid multipart form: %v", err)
		}
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return herald.Errorf(herald.Invalid, "body", "is not a valid multipart form: %v", err)
			}
			if part.FormName() == "file" {
				data = part
				break // the file comes last; Start reads it before returning
			}
			v, _ := io.ReadAll(io.LimitReader(part, 64<<10))
			if part.FormName() == "import" {
				if err := json.Unmarshal(v, &in); err != nil {
					return herald.Errorf(herald.Invalid, "import", "is not valid JSON: %v", err)
				}
				continue
			}
			setFormField(&in, part.FormName(), string(v))
		}
		if data == nil {
			return herald.Errorf(herald.Required, "file", "upload the CSV as the form field file (after the other fields)")
		}
	} else {
		var body struct {
			Import *importInput `json:"import"`
		}
		if err := decode(r, &body); err != nil {
			return err
		}
		if body.Import == nil {
			return herald.Errorf(herald.Required, "import", "the body must be {\"import\": {…}}")
		}
		in = *body.Import
	}
	imp := &herald.Import{WorkspaceID: ws.ID, Name: in.Name, Description: in.Description, Type: in.Type,
		Identifier: in.Identifier, DataToProcess: in.DataToProcess, NoTriggers: in.FireTriggers != nil && !*in.FireTriggers}
	if len(in.ObjectTypeID) > 0 {
		n, err := herald.Int64Value(in.ObjectTypeID, "object_type_id")
		if err != nil {
			return err
		}
		imp.ObjectTypeID = int(n)
	}
	out, err := h.Imports.Start(r.Context(), imp, in.DataFileURL, data)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"import": out})
	return nil
}

func setFormField(in *importInput, name, v string) {
	switch name {
	case "name":
		in.Name = v
	case "description":
		in.Description = v
	case "data_file_url":
		in.DataFileURL = v
	case "type":
		in.Type = v
	case "identifier":
		in.Identifier = v
	case "object_type_id":
		in.ObjectTypeID = json.RawMessage(strconv.Quote(strings.TrimSpace(v)))
	case "data_to_process":
		in.DataToProcess = v
	case "fire_triggers":
		b := strings.TrimSpace(v) != "false"
		in.FireTriggers = &b
	}
}

func (h *Handler) importID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("import_id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, herald.Errorf(herald.Invalid, "import_id", "must be a positive integer")
	}
	return id, nil
}

func (h *Handler) getImport(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	id, err := h.importID(r)
	if err != nil {
		return err
	}
	imp, err := h.store.Import(r.Context(), ws.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"import": imp})
	return nil
}

// importReport serves the failed rows of an import as CSV (line,reason).
func (h *Handler) importReport(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	id, err := h.importID(r)
	if err != nil {
		return err
	}
	report, err := h.store.ImportReport(r.Context(), ws.ID, id)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="import-`+strconv.FormatInt(id, 10)+`-failed-rows.csv"`)
	io.WriteString(w, report)
	return nil
}
