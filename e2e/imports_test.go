package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
)

// TestImportsAPI imports an objects file by URL and a relationships file by upload through
// the App API, follows their state and downloads the failed-rows report.
func TestImportsAPI(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		s := startServer(t, dsn)
		if st, body := s.app("POST", "/v1/object_types", `{"name":"Courses","singular_name":"Course"}`); st != 201 {
			t.Fatalf("create type: %d %s", st, body)
		}
		files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "object_id,name,starts_at\npy101,Python 101,1735689600\n,Nameless,1\nsql201,SQL 201,1738368000\n")
		}))
		defer files.Close()

		st, body := s.app("POST", "/v1/imports", `{"import":{"name":"courses","data_file_url":"`+files.URL+`/courses.csv","type":"object","object_type_id":"1"}}`)
		if st != 200 {
			t.Fatalf("create import: %d %s", st, body)
		}
		imp := waitImport(t, s, body)
		if imp["state"] != "imported" || imp["rows_to_import"].(float64) != 3 || imp["created"].(float64) != 2 || imp["rows_failed"].(float64) != 1 {
			t.Errorf("objects import = %v", imp)
		}
		id := jsonInt(imp["id"])
		req, _ := http.NewRequest("GET", s.URL+"/v1/imports/"+id+"/report", nil)
		req.Header.Set("Authorization", "Bearer "+s.AppKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		report, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(report), "line,reason\n3,the object_id column is empty") {
			t.Errorf("report = %q", report)
		}

		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("type", "relationship")
		mw.WriteField("identifier", "email")
		fw, _ := mw.CreateFormFile("file", "enrolments.csv")
		io.WriteString(fw, "object_type_id,object_id,email,enrollment_status\n1,py101,ann@example.com,enrolled\n1,py101,bob@example.com,invited\n")
		mw.Close()
		req, _ = http.NewRequest("POST", s.URL+"/v1/imports", &buf)
		req.Header.Set("Authorization", "Bearer "+s.AppKey)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("upload: %d %s", resp.StatusCode, body)
		}
		imp = waitImport(t, s, body)
		if imp["state"] != "imported" || imp["created"].(float64) != 2 {
			t.Errorf("relationships import = %v", imp)
		}
		if st, body := s.app("GET", "/v1/objects/1/py101/relationships", nil); !strings.Contains(string(body), `"enrollment_status":"invited"`) {
			t.Errorf("relationships: %d %s", st, body)
		}
		if st, body := s.app("POST", "/v1/imports", `{"import":{"type":"object","data_file_url":"http://x"}}`); st != 400 || !strings.Contains(string(body), "object_type_id") {
			t.Errorf("import without a type: %d %s", st, body)
		}
	})
}

func waitImport(t *testing.T, s *server, created []byte) map[string]any {
	t.Helper()
	var out struct {
		Import map[string]any `json:"import"`
	}
	json.Unmarshal(created, &out)
	id := jsonInt(out.Import["id"])
	for i := 0; i < 200; i++ {
		_, body := s.app("GET", "/v1/imports/"+id, nil)
		json.Unmarshal(body, &out)
		if st := out.Import["state"]; st == "imported" || st == "failed" {
			return out.Import
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("import %s did not finish: %v", id, out.Import)
	return nil
}

func jsonInt(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
