package importer

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/heraldhq/herald"
)

// Store is what background imports need of storage.
type Store interface {
	Writer
	CreateImport(ctx context.Context, imp *herald.Import) error
	SaveImport(ctx context.Context, imp *herald.Import, report string) error
}

// Service runs imports started through the App API in the background, recording their state
// and a report of refused rows.
type Service struct {
	store Store
	log   *slog.Logger
	// Client fetches data_file_url; default: a client with a 10-minute timeout.
	Client *http.Client
	// MaxBytes bounds a file. Default 1 GiB.
	MaxBytes int64

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewService returns a Service writing through s.
func NewService(s Store, log *slog.Logger) *Service {
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{store: s, log: log, Client: &http.Client{Timeout: 10 * time.Minute}, MaxBytes: 1 << 30, ctx: ctx, cancel: cancel}
}

// Close stops running imports and waits for them.
func (s *Service) Close() {
	s.cancel()
	s.wg.Wait()
}

// kinds maps Customer.io's import types to the file kinds.
var kinds = map[string]Kind{"people": People, "object": Objects, "relationship": Relationships}

// Start validates imp, records it and imports in the background from data (an uploaded file,
// read fully before Start returns) or, when data is nil, from imp's URL.
func (s *Service) Start(ctx context.Context, imp *herald.Import, url string, data io.Reader) (*herald.Import, error) {
	if _, ok := kinds[imp.Type]; !ok {
		if imp.Type == "event" {
			return nil, herald.Errorf(herald.Unsupported, "type", "event imports are not supported yet; use people, object or relationship")
		}
		return nil, herald.Errorf(herald.Invalid, "type", "must be people, object or relationship, got %q", imp.Type)
	}
	if imp.Type == "object" && imp.ObjectTypeID <= 0 {
		return nil, herald.Errorf(herald.Required, "object_type_id", "is required for an object import")
	}
	if imp.DataToProcess == "" {
		imp.DataToProcess = "all"
	}
	if _, err := newMapper(&table{header: []string{"id", "email", "cio_id", "object_id", "object_type_id"}}, s.options(imp)); err != nil {
		return nil, err
	}
	if data == nil && url == "" {
		return nil, herald.Errorf(herald.Required, "data_file_url", "give data_file_url or upload a file")
	}
	if imp.Name == "" {
		imp.Name = "Import " + time.Now().UTC().Format(time.RFC3339)
	}
	file, err := os.CreateTemp("", "herald-import-*.csv")
	if err != nil {
		return nil, err
	}
	cleanup := func() { file.Close(); os.Remove(file.Name()) }
	if data != nil {
		n, err := io.Copy(file, io.LimitReader(data, s.MaxBytes+1))
		if err != nil {
			cleanup()
			return nil, herald.Errorf(herald.Invalid, "file", "could not be read: %v", err)
		}
		if n > s.MaxBytes {
			cleanup()
			return nil, herald.Errorf(herald.TooLarge, "file", "is over %d bytes", s.MaxBytes)
		}
	}
	imp.State = herald.ImportValidating
	if err := s.store.CreateImport(ctx, imp); err != nil {
		cleanup()
		return nil, err
	}
	out := *imp
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cleanup()
		s.run(imp, file, url)
	}()
	return &out, nil
}

func (s *Service) options(imp *herald.Import) Options {
	return Options{Kind: kinds[imp.Type], TypeID: imp.ObjectTypeID, Identifier: imp.Identifier, DataToProcess: imp.DataToProcess, NoTriggers: imp.NoTriggers}
}

func (s *Service) run(imp *herald.Import, file *os.File, url string) {
	ctx := s.ctx
	fail := func(err error) {
		imp.State, imp.Error = herald.ImportFailed, err.Error()
		if e := s.store.SaveImport(context.Background(), imp, ""); e != nil {
			s.log.Error("save import", "id", imp.ID, "err", e)
		}
	}
	if url != "" {
		if err := s.fetch(ctx, url, file); err != nil {
			fail(err)
			return
		}
	}
	rows, err := countRows(file)
	if err != nil {
		fail(err)
		return
	}
	imp.RowsToImport, imp.State = rows, herald.ImportImporting
	if err := s.store.SaveImport(ctx, imp, ""); err != nil {
		fail(err)
		return
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		fail(err)
		return
	}
	opts := s.options(imp)
	opts.Progress = func(n int) {
		imp.RowsImported = n
		if err := s.store.SaveImport(ctx, imp, ""); err != nil {
			s.log.Warn("save import progress", "id", imp.ID, "err", err)
		}
	}
	sum, err := Import(ctx, s.store, imp.WorkspaceID, file, opts)
	imp.RowsImported, imp.RowsFailed = sum.Rows-sum.Failed, sum.Failed
	imp.Created, imp.Updated, imp.Unchanged, imp.Skipped = sum.Created, sum.Updated, sum.Unchanged, sum.Skipped
	if err != nil {
		fail(err)
		return
	}
	imp.State = herald.ImportImported
	if err := s.store.SaveImport(context.Background(), imp, Report(sum.Errors)); err != nil {
		s.log.Error("save import", "id", imp.ID, "err", err)
	}
}

func (s *Service) fetch(ctx context.Context, url string, file *os.File) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return fmt.Errorf("data_file_url: %w", err)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return fmt.Errorf("fetch data_file_url: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch data_file_url: the server answered %s", resp.Status)
	}
	n, err := io.Copy(file, io.LimitReader(resp.Body, s.MaxBytes+1))
	if err != nil {
		return fmt.Errorf("fetch data_file_url: %w", err)
	}
	if n > s.MaxBytes {
		return fmt.Errorf("data_file_url: the file is over %d bytes", s.MaxBytes)
	}
	_, err = file.Seek(0, io.SeekStart)
	return err
}

// countRows counts the data rows of a CSV file, for rows_to_import.
func countRows(f *os.File) (int, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	t, err := newTable(f)
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		_, err := t.r.Read()
		if err == io.EOF {
			return n, nil
		}
		if _, ok := err.(*csv.ParseError); !ok && err != nil {
			return 0, err
		}
		n++
	}
}

// Report renders refused rows as CSV: line,reason.
func Report(errs []RowError) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"line", "reason"})
	for _, e := range errs {
		w.Write([]string{strconv.Itoa(e.Line), e.Reason})
	}
	w.Flush()
	return b.String()
}
