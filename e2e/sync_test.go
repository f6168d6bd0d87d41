package e2e

import (
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// TestSyncs defines and runs reverse-ETL syncs through the App API and through the CLI against
// the data directory of a running server.
func TestSyncs(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	if st, body := s.app("POST", "/v1/object_types", `{"name":"Courses","singular_name":"Course"}`); st != 201 {
		t.Fatalf("create type: %d %s", st, body)
	}
	src := filepath.Join(t.TempDir(), "lms.db")
	db, err := sql.Open("sqlite", "file:"+src)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE TABLE enrolments (student TEXT, course TEXT, status TEXT, changed INTEGER)",
		"INSERT INTO enrolments VALUES ('ann@example.com', 'py101', 'enrolled', 10), ('bob@example.com', 'py101', 'invited', 10)",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	st, body := s.app("POST", "/v1/syncs", `{"sync":{"name":"enrolments","source":"sqlite:`+src+`","call":"relationships","object_type_id":1,
		"query":"SELECT student, course, status FROM enrolments WHERE changed > {{last_sync_unix}}","mapping":{"email":"student","object_id":"course"}}}`)
	if st != 201 || strings.Contains(string(body), src) {
		t.Fatalf("create sync: %d %s (the source must not be shown)", st, body)
	}
	st, body = s.app("POST", "/v1/syncs/1/run", nil)
	if st != 200 || !strings.Contains(string(body), `"state":"succeeded"`) || !strings.Contains(string(body), `"rows_changed":2`) {
		t.Fatalf("run: %d %s", st, body)
	}
	if _, body := s.app("GET", "/v1/objects/1/py101/relationships", nil); !strings.Contains(string(body), `"status":"invited"`) {
		t.Errorf("relationships after the sync: %s", body)
	}
	if st, body := s.app("POST", "/v1/syncs", `{"sync":{"name":"bad","source":"sqlite:x","call":"merge","query":"select 1"}}`); st != 400 || !strings.Contains(string(body), `"field":"call"`) {
		t.Errorf("bad sync: %d %s", st, body)
	}

	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(binary, args...)
		cmd.Env = append(os.Environ(), "HERALD_DATA_DIR="+s.DataDir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("herald %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	cli("sync", "add", "students", "--source", "sqlite:"+src, "--call", "identify", "--query", "SELECT student, status FROM enrolments", "--map", "email=student")
	if out := cli("sync", "run", "students"); !strings.Contains(out, "succeeded: 2 rows read, 2 changed, 0 failed") {
		t.Errorf("sync run: %s", out)
	}
	if out := cli("sync", "list"); !strings.Contains(out, "students") || !strings.Contains(out, "enrolments") {
		t.Errorf("sync list: %s", out)
	}
	if _, body := s.app("GET", "/v1/customers/ann@example.com/attributes?id_type=email", nil); !strings.Contains(string(body), `"status":"enrolled"`) {
		t.Errorf("person after the CLI sync: %s", body)
	}
}
