package liquid

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeLoader serves n objects of every type and counts its calls per type.
type fakeLoader struct {
	n     int
	calls atomic.Int32
	slugs []string
	limit int
}

func (f *fakeLoader) Related(_ context.Context, slug string, limit int) ([]map[string]any, error) {
	f.calls.Add(1)
	f.slugs = append(f.slugs, slug)
	f.limit = limit
	var out []map[string]any
	for i := 0; i < f.n && i < limit; i++ {
		out = append(out, map[string]any{
			"object_id":    fmt.Sprint(i),
			"name":         fmt.Sprintf("%s-%d", slug, i),
			"relationship": map[string]any{"role": fmt.Sprintf("r%d", i)},
		})
	}
	return out, nil
}

func TestObjectsLoadLazily(t *testing.T) {
	t.Parallel()
	e := New(Options{})
	for _, tc := range []struct {
		name      string
		src       string
		want      string
		wantCalls int32
		wantSlugs string
	}{
		{"not referenced: loader not called", "Hi {{ customer.first_name }}", "Hi Ada", 0, ""},
		{"referenced in an untaken branch: not called", "{% if false %}{{ objects.accounts[0].name }}{% endif %}x", "x", 0, ""},
		{"referenced: called once for the type", "{{ objects.accounts[0].name }} {{ objects.accounts[1].name }}", "accounts-0 accounts-1", 1, "accounts"},
		{"two types: one call each", "{{ objects.accounts.size }} {{ objects.people.first.name }}", "12 people-0", 2, "accounts,people"},
		{"relationship attributes", "{{ objects.accounts[2].relationship.role }}", "r2", 1, "accounts"},
		{"more than ten objects are reachable", "{{ objects.accounts[11].name }} of {{ objects.accounts | size }}", "accounts-11 of 12", 1, "accounts"},
		{"loop over all of them", "{% for a in objects.accounts %}{{ a.object_id }}{% endfor %}", "01234567891011", 1, "accounts"},
		{"loop with limit", "{% for a in objects.accounts limit: 2 %}{{ a.name }};{% endfor %}", "accounts-0;accounts-1;", 1, "accounts"},
		{"where on relationship", `{{ objects.accounts | where: "object_id", "3" | map: "name" | join }}`, "accounts-3", 1, "accounts"},
		{"where_exp on relationship", `{{ objects.accounts | where_exp: "a", "a.relationship.role == 'r4'" | map: "name" | join }}`, "accounts-4", 1, "accounts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			loader := &fakeLoader{n: 12}
			c := testContext()
			c.Objects = loader
			got, err := e.Render(context.Background(), tc.src, c)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if n := loader.calls.Load(); n != tc.wantCalls {
				t.Errorf("loader called %d times, want %d", n, tc.wantCalls)
			}
			if s := strings.Join(loader.slugs, ","); s != tc.wantSlugs {
				t.Errorf("loaded %q, want %q", s, tc.wantSlugs)
			}
		})
	}
}

func TestObjectsLoadOncePerContext(t *testing.T) {
	t.Parallel()
	loader := &fakeLoader{n: 2}
	c := testContext()
	c.Objects = loader
	_, err := New(Options{}).RenderFields(context.Background(), map[string]string{
		"subject": "{{ objects.accounts[0].name }}", "body": "{{ objects.accounts[1].name }}",
	}, c)
	if err != nil {
		t.Fatal(err)
	}
	if n := loader.calls.Load(); n != 1 {
		t.Errorf("loader called %d times for two fields, want 1", n)
	}
}

func TestObjectsOverTheBoundFail(t *testing.T) {
	t.Parallel()
	e := New(Options{MaxObjects: 5})
	for _, tc := range []struct {
		name    string
		n       int
		wantErr bool
	}{
		{"exactly the maximum is fine", 5, false},
		{"one more fails naming the limit", 6, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			loader := &fakeLoader{n: tc.n}
			c := testContext()
			c.Objects = loader
			got, err := e.Render(context.Background(), "{{ objects.accounts.size }}", c)
			if loader.limit != 6 {
				t.Errorf("loader asked for %d, want MaxObjects+1 = 6", loader.limit)
			}
			if !tc.wantErr {
				if err != nil || got != "5" {
					t.Fatalf("got %q, %v; want 5", got, err)
				}
				return
			}
			var le *Error
			if !errors.As(err, &le) || le.Kind != LimitFailure || le.Limit != "objects.accounts" {
				t.Fatalf("err = %v, want a limit failure on objects.accounts", err)
			}
			if !strings.Contains(err.Error(), "5") {
				t.Errorf("message %q does not state the bound", err)
			}
		})
	}
}

func TestObjectsLoaderErrorFails(t *testing.T) {
	t.Parallel()
	c := testContext()
	c.Objects = ObjectLoaderFunc(func(context.Context, string, int) ([]map[string]any, error) {
		return nil, errors.New("database is down")
	})
	_, err := New(Options{}).Render(context.Background(), "{{ objects.accounts.size }}", c)
	if err == nil || !strings.Contains(err.Error(), "database is down") || !strings.Contains(err.Error(), "objects.accounts") {
		t.Fatalf("err = %v, want the loader's error naming objects.accounts", err)
	}
}

func TestObjectsWithoutLoaderAreEmpty(t *testing.T) {
	t.Parallel()
	got, err := New(Options{}).Render(context.Background(), "{{ objects.accounts.size }}", testContext())
	if err != nil || got != "0" {
		t.Fatalf("got %q, %v; want 0", got, err)
	}
}
