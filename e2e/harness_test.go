// Package e2e drives the real herald binary over HTTP: compatibility with Customer.io's
// clients, durability across SIGKILL, and the README's walkthrough.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var binary string // built once by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "herald-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "herald")
	build := exec.Command("go", "build", "-race", "-o", binary, "../cmd/herald")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build herald:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running herald serve process.
type server struct {
	t        testing.TB
	URL      string
	SiteID   string
	TrackKey string
	AppKey   string
	WriteKey string
	DataDir  string
	Database string
	Env      []string // extra environment of the process (channel settings)
	addr     string
	cmd      *exec.Cmd
	logs     *syncBuffer
	exited   chan struct{} // closed when the process has exited
	movable  bool          // the address may change on a restart (nothing outside knows it yet)
}

// startServer runs herald serve on a fresh data dir (or the given database URL) with fixed
// credentials and waits until /healthz answers.
func startServer(t testing.TB, database string, env ...string) *server {
	t.Helper()
	s := &server{t: t, DataDir: t.TempDir(), Database: database, SiteID: "site-e2e", TrackKey: "track-key-e2e", AppKey: "app-key-e2e", WriteKey: "write-key-e2e", Env: env}
	s.addr = freeAddr(t)
	s.URL = "http://" + s.addr
	s.movable = true
	s.start()
	s.movable = false
	t.Cleanup(func() { s.stop(syscall.SIGTERM) })
	return s
}

func (s *server) start() {
	s.t.Helper()
	for attempt := 0; ; attempt++ {
		s.logs = &syncBuffer{}
		s.cmd = exec.Command(binary, "serve")
		s.cmd.Env = append(os.Environ(), "HERALD_ADDR="+s.addr, "HERALD_DATA_DIR="+s.DataDir, "HERALD_DATABASE_URL="+s.Database,
			"HERALD_SITE_ID="+s.SiteID, "HERALD_TRACK_API_KEY="+s.TrackKey, "HERALD_APP_API_KEY="+s.AppKey, "HERALD_WRITE_KEY="+s.WriteKey, "HERALD_LOG_LEVEL=warn")
		s.cmd.Env = append(s.cmd.Env, s.Env...)
		s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
		if err := s.cmd.Start(); err != nil {
			s.t.Fatalf("start herald: %v", err)
		}
		s.exited = make(chan struct{})
		go func(cmd *exec.Cmd, exited chan struct{}) { cmd.Wait(); close(exited) }(s.cmd, s.exited)
		switch s.waitHealthy() {
		case "healthy":
			return
		case "exited":
			// Another process can take the port between freeAddr and herald's bind: try another.
			if strings.Contains(s.logs.String(), "address already in use") && attempt < 3 && s.movable {
				s.addr = freeAddr(s.t)
				s.URL = "http://" + s.addr
				continue
			}
			s.t.Fatalf("herald exited before it was healthy; logs:\n%s", s.logs)
		default:
			s.t.Fatalf("herald did not become healthy; logs:\n%s", s.logs)
		}
	}
}

// waitHealthy waits for /healthz, or for the process to exit.
func (s *server) waitHealthy() string {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return "exited"
		default:
		}
		resp, err := http.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				// The answer may come from a process that held the port first; ours then exits
				// at once on its failed bind.
				select {
				case <-s.exited:
					return "exited"
				case <-time.After(100 * time.Millisecond):
				}
				return "healthy"
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "timeout"
}

// stop signals the process and waits for it to exit.
func (s *server) stop(sig syscall.Signal) {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// syncBuffer is a bytes.Buffer that the process's output and the test can use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// track sends a Track API request with Basic credentials.
func (s *server) track(method, path string, body any) (int, []byte) {
	return s.do(method, path, body, func(r *http.Request) { r.SetBasicAuth(s.SiteID, s.TrackKey) })
}

// app sends an App API request with the bearer key.
func (s *server) app(method, path string, body any) (int, []byte) {
	return s.do(method, path, body, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+s.AppKey) })
}

func (s *server) do(method, path string, body any, auth func(*http.Request)) (int, []byte) {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, s.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	auth(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		logs := ""
		if s.logs != nil {
			logs = s.logs.String()
			if len(logs) > 8000 {
				logs = "…" + logs[len(logs)-8000:]
			}
		}
		s.t.Fatalf("%s %s: %v; herald's output:\n%s", method, path, err, logs)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type bytesReader = bytes.Reader

func newBytesReader(b []byte) *bytesReader { return bytes.NewReader(b) }
