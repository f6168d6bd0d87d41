package importer_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/importer"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/store"
)

func setup(t *testing.T, fn func(t *testing.T, s *store.Store, ws int64)) {
	testdb.Engines(t, func(t *testing.T, dsn string) {
		s, ws := testdb.OpenStore(t, dsn, herald.Workspace{})
		if _, err := s.CreateObjectType(context.Background(), ws.ID, herald.ObjectType{Name: "Accounts", SingularName: "Account"}); err != nil {
			t.Fatal(err)
		}
		fn(t, s, ws.ID)
	})
}

func run(t *testing.T, s *store.Store, ws int64, csv string, opts importer.Options) importer.Summary {
	t.Helper()
	sum, err := importer.Import(context.Background(), s, ws, strings.NewReader(csv), opts)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return sum
}

func TestImportFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opts       importer.Options
		csv        string
		want       importer.Summary // Errors compared by line and a reason fragment
		wantReason []string
	}{
		{name: "people with a BOM, CRLF and a quoted newline",
			opts: importer.Options{Kind: importer.People},
			csv:  "\ufeffid,email,bio\r\n1,a@example.com,\"line one\r\nline two\"\r\n2,b@example.com,plain\r\n",
			want: importer.Summary{Rows: 2, Created: 2}},
		{name: "semicolons detected; blank lines ignored",
			opts: importer.Options{Kind: importer.People, Identifier: "email"},
			csv:  "email;plan\n\na@example.com;pro\n\n\nb@example.com;free\n",
			want: importer.Summary{Rows: 2, Created: 2}},
		{name: "tabs detected",
			opts: importer.Options{Kind: importer.Objects, TypeID: 1},
			csv:  "object_id\tname\tportfolio_amount\nacc1\tAcme\t15000\n",
			want: importer.Summary{Rows: 1, Created: 1}},
		{name: "bad rows are reported with their line and the rest applied",
			opts:       importer.Options{Kind: importer.People},
			csv:        "id,plan,bio\n1,pro,ok\n,free,x\n3,pro\n4,pro,\"" + strings.Repeat("x", 1001) + "\"\n5,\"bad\"quote,x\n6,free,ok\n",
			want:       importer.Summary{Rows: 6, Created: 2, Failed: 4},
			wantReason: []string{"line 3: the id column is empty", "line 4: has 2 fields", "line 5: attributes.bio", "line 6:"}},
		{name: "type hints",
			opts: importer.Options{Kind: importer.Objects, TypeID: 1, Hints: map[string]string{"amount": "number", "vip": "boolean", "opened": "timestamp:2006-01-02"}},
			csv:  "object_id,amount,vip,opened\na,10.5,yes,2024-01-02\nb,ten,no,2024-01-02\nc,1,maybe,2024-01-02\n",
			want: importer.Summary{Rows: 3, Created: 1, Failed: 2}, wantReason: []string{"line 3: column amount", "line 4: column vip"}},
		{name: "relationships with attributes",
			opts: importer.Options{Kind: importer.Relationships},
			csv:  "object_type_id,object_id,email,user_role\n1,acc1,a@example.com,admin\n1,acc1,b@example.com,contributor\n9,acc1,c@example.com,admin\n",
			want: importer.Summary{Rows: 3, Created: 2, Failed: 1}, wantReason: []string{"line 4:", "object type 9 does not exist"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setup(t, func(t *testing.T, s *store.Store, ws int64) {
				got := run(t, s, ws, tt.csv, tt.opts)
				errs := got.Errors
				got.Errors = nil
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("summary = %+v, want %+v (errors %v)", got, tt.want, errs)
				}
				var all strings.Builder
				for _, e := range errs {
					fmt.Fprintf(&all, "line %d: %s\n", e.Line, e.Reason)
				}
				for _, r := range tt.wantReason {
					if !strings.Contains(all.String(), r) {
						t.Errorf("errors\n%sdo not mention %q", all.String(), r)
					}
				}
				for _, e := range errs {
					if e.Line == 0 || e.Reason == "" {
						t.Errorf("row error without line or reason: %+v", e)
					}
				}
			})
		})
	}
}

func TestImportRefusesFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, csv string
		opts      importer.Options
		want      string
	}{
		{"duplicate headers", "id,plan,Plan\n1,a,b\n", importer.Options{Kind: importer.People}, "appears twice"},
		{"empty file", "", importer.Options{Kind: importer.People}, "empty"},
		{"no identifier column", "plan\npro\n", importer.Options{Kind: importer.People}, "id or email column"},
		{"objects without object_id", "name\nx\n", importer.Options{Kind: importer.Objects, TypeID: 1}, "object_id column"},
		{"objects without a type", "object_id\nx\n", importer.Options{Kind: importer.Objects}, "object type"},
		{"bad data_to_process", "id\n1\n", importer.Options{Kind: importer.People, DataToProcess: "some"}, "only_new"},
		{"hint on a missing column", "id\n1\n", importer.Options{Kind: importer.People, Hints: map[string]string{"x": "number"}}, "no column"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := importer.Import(context.Background(), nil, 1, strings.NewReader(tt.csv), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestReimportChangesNothing(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, s *store.Store, ws int64) {
		ctx := context.Background()
		objects := "object_id,name,portfolio_amount\nacc1,Acme,15000\nacc2,Beta,900\n"
		rels := "object_type_id,object_id,id,user_role\n1,acc1,p1,admin\n1,acc2,p1,contributor\n1,acc2,p2,admin\n"
		first := run(t, s, ws, objects, importer.Options{Kind: importer.Objects, TypeID: 1})
		run(t, s, ws, rels, importer.Options{Kind: importer.Relationships})
		if first.Created != 2 {
			t.Fatalf("first import = %+v", first)
		}
		before, _ := s.ChangesAfter(ctx, 0, 100000)
		again := run(t, s, ws, objects, importer.Options{Kind: importer.Objects, TypeID: 1})
		againRels := run(t, s, ws, rels, importer.Options{Kind: importer.Relationships})
		after, _ := s.ChangesAfter(ctx, 0, 100000)
		if len(after) != len(before) {
			t.Errorf("re-import wrote %d change records", len(after)-len(before))
		}
		if again.Unchanged != 2 || againRels.Unchanged != 3 {
			t.Errorf("re-import summaries = %+v, %+v", again, againRels)
		}
		onlyNew := run(t, s, ws, "object_id,name\nacc1,Changed\nacc3,Gamma\n", importer.Options{Kind: importer.Objects, TypeID: 1, DataToProcess: "only_new"})
		onlyExisting := run(t, s, ws, "object_id,name\nacc1,Changed\nacc4,Delta\n", importer.Options{Kind: importer.Objects, TypeID: 1, DataToProcess: "only_existing"})
		if onlyNew.Created != 1 || onlyNew.Skipped != 1 || onlyExisting.Updated != 1 || onlyExisting.Skipped != 1 {
			t.Errorf("only_new = %+v, only_existing = %+v", onlyNew, onlyExisting)
		}
		if _, err := s.Object(ctx, ws, herald.ObjectRef{TypeID: 1, ObjectID: "acc4"}); herald.ErrorCode(err) != herald.NotFound {
			t.Errorf("only_existing created acc4: %v", err)
		}
	})
}

func TestImportWithoutTriggers(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, s *store.Store, ws int64) {
		run(t, s, ws, "object_id,name\nq1,Quiet\n", importer.Options{Kind: importer.Objects, TypeID: 1, NoTriggers: true})
		run(t, s, ws, "object_id,name\nl1,Loud\n", importer.Options{Kind: importer.Objects, TypeID: 1})
		cs, err := s.ChangesAfter(context.Background(), 0, 100)
		if err != nil || len(cs) != 2 {
			t.Fatalf("changes = %+v, %v", cs, err)
		}
		if !cs[0].Quiet || cs[1].Quiet {
			t.Errorf("quiet flags = %v, %v; want true, false", cs[0].Quiet, cs[1].Quiet)
		}
	})
}
