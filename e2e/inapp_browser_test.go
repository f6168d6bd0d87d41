package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// requireBrowserEnv makes a missing Chromium a failure instead of a skip (.ci/run sets it
// after installing Chromium).
const requireBrowserEnv = "HERALD_REQUIRE_BROWSER"

// TestInAppBrowser loads herald.js into a customer's page in headless Chromium, the way the
// snippet's header says to include it, and drives it as a reader would. A message sent through
// the App API while the page is open appears without a reload, rendered with Liquid. Showing it
// records opened, clicking it records clicked and follows its link, and closing it records
// dismissed. A dismissed message stays away on the next page load. A click on a link inside a
// message body is recorded even though the page navigates away at once. SQLite only: what
// the page sees does not depend on the engine, and the inbox is read on both elsewhere.
func TestInAppBrowser(t *testing.T) {
	t.Parallel()
	chromium := chromiumPath(t)
	s := startServer(t, "")
	if st, b := s.track("PUT", "/api/v1/customers/ann", map[string]any{"email": "ann@example.com", "first_name": "Ann"}); st != 200 {
		t.Fatalf("identify: %d %s", st, b)
	}
	st, b := s.app("POST", "/v1/customers/ann/inbox_token", nil)
	var tok struct {
		Token string `json:"token"`
	}
	if st != 200 || json.Unmarshal(b, &tok) != nil || tok.Token == "" {
		t.Fatalf("inbox token: %d %s", st, b)
	}
	herald := distant(t, s.URL)
	shop := shopSite(t, herald.URL, tok.Token)
	br := startBrowser(t, chromium)

	// The page opens its stream with an empty inbox.
	br.waitStream("open the shop page", "inbox", chromedp.Navigate(shop+"/home"))
	br.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.heraldTestMark = "first load"`))

	// A message sent now arrives over the open stream and is shown as a modal.
	var order string
	sentAt := time.Now()
	br.waitStream("receive the order message live", "message", chromedp.Func(func(context.Context, *chromedp.Target) error {
		order = sendInApp(t, s, map[string]any{
			"identifiers": map[string]string{"id": "ann"}, "title": "Hi {{ customer.first_name }}",
			"body": "<p>Your order {{ trigger.order }} has shipped.</p>", "link": shop + "/orders/A-17",
			"message_data": map[string]any{"order": "A-17"},
		})
		return nil
	}))
	br.do("show the order message", chromedp.WaitVisible(chromedp.CSS(".herald-modal h2")))
	t.Logf("the message was shown %v after the send", time.Since(sentAt).Round(time.Millisecond))
	br.screenshot("order-message.png")
	if got := run(br, "read the title", chromedp.Text(chromedp.CSS(".herald-modal h2"))); got != "Hi Ann" {
		br.fatalf("title %q, want %q", got, "Hi Ann")
	}
	if got := run(br, "read the body", chromedp.Text(chromedp.CSS(".herald-modal > div > div"))); got != "Your order A-17 has shipped." {
		br.fatalf("body %q, want the rendered order line", got)
	}
	if got := run(br, "read the mark", chromedp.Evaluate[string](`window.heraldTestMark || ""`)); got != "first load" {
		br.fatalf("the page was reloaded (mark %q)", got)
	}
	waitMetric(t, s, br, order, "opened")

	// Clicking the message records the click before its link is followed; the next page shows
	// the message again from the inbox, without reporting a second open.
	br.waitStream("click the message", "inbox", chromedp.Click(chromedp.CSS(".herald-modal > div > div")))
	if got := run(br, "read the location", chromedp.Location()); got != shop+"/orders/A-17" {
		br.fatalf("location after the click %q, want the message's link", got)
	}
	waitMetric(t, s, br, order, "clicked")
	br.do("show the message on the next page", chromedp.WaitVisible(chromedp.CSS(".herald-modal h2")))

	// Closing it records dismissed, and it is not shown on the next load.
	br.do("close the message",
		chromedp.Click(chromedp.CSS(`.herald-modal button[aria-label="Close"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(".herald-message")))
	waitMetric(t, s, br, order, "dismissed")
	if got, want := inboxMetrics(t, s, br, order), []string{"opened", "clicked", "dismissed"}; !slices.Equal(got, want) {
		br.fatalf("reader metrics of the order message %v, want %v", got, want)
	}
	br.waitStream("reload the page", "inbox", chromedp.Reload())

	// A banner whose body links elsewhere: following the link records the click although the
	// page unloads at once. Had the dismissed message come back, it would be shown first.
	var tracking string
	br.waitStream("receive the banner live", "message", chromedp.Func(func(context.Context, *chromedp.Target) error {
		tracking = sendInApp(t, s, map[string]any{
			"identifiers": map[string]string{"id": "ann"}, "display_type": "banner", "title": "{{ customer.first_name }}, it is on its way",
			"body": `<p>Out for delivery. <a id="track" href="/track/A-17">Track it</a></p>`,
		})
		return nil
	}))
	br.do("show the banner", chromedp.WaitVisible(chromedp.CSS(".herald-banner #track")))
	if got := run(br, "count the messages shown", chromedp.Evaluate[int](`document.querySelectorAll(".herald-message").length`)); got != 1 {
		br.fatalf("%d messages shown, want only the banner", got)
	}
	if got := run(br, "read the banner title", chromedp.Text(chromedp.CSS(".herald-banner h2"))); got != "Ann, it is on its way" {
		br.fatalf("banner title %q", got)
	}
	waitMetric(t, s, br, tracking, "opened")
	// Herald is farther away than the shop: the click's report (a CORS preflight, then the
	// POST) is still on its way when the shop's next page replaces this one.
	herald.delay.Store(int64(300 * time.Millisecond))
	br.waitStream("follow the banner's link", "inbox", chromedp.Click(chromedp.CSS(".herald-banner #track")))
	if got := run(br, "read the location", chromedp.Location()); got != shop+"/track/A-17" {
		br.fatalf("location after following the link %q", got)
	}
	waitMetric(t, s, br, tracking, "clicked")
}

// chromiumPath finds Chromium, or skips (fails under HERALD_REQUIRE_BROWSER=1) without it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no chromium on PATH; install it (Debian: apt-get install chromium) to run the browser tests"
	if os.Getenv(requireBrowserEnv) == "1" {
		t.Fatalf("%s (%s=1 makes this a failure)", msg, requireBrowserEnv)
	}
	t.Skip(msg)
	return ""
}

// shopSite serves a customer's page at every path: a heading and herald.js included with the
// reader's token, as the snippet's header shows. It returns the site's URL.
func shopSite(t *testing.T, heraldURL, token string) string {
	t.Helper()
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store") // a signed-in page: no back/forward cache
		fmt.Fprintf(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body style="font-family:sans-serif"><h1>Shop: %s</h1><p>The customer's own page.</p>
<script src="%s/inbox/v1/herald.js" data-token="%s"></script>
</body></html>
`, html.EscapeString(r.URL.Path), html.EscapeString(heraldURL), html.EscapeString(token))
	}))
	t.Cleanup(site.Close)
	return site.URL
}

// distantHerald is a reverse proxy to herald that can hold every request for a while before
// passing it on, as a server far from the reader would (a request the browser abandons
// meanwhile never reaches herald).
type distantHerald struct {
	URL   string
	delay atomic.Int64 // nanoseconds
}

// distant starts the proxy; it passes requests on at once until delay is set.
func distant(t *testing.T, heraldURL string) *distantHerald {
	t.Helper()
	target, err := url.Parse(heraldURL)
	if err != nil {
		t.Fatal(err)
	}
	d := &distantHerald{}
	proxy := httputil.NewSingleHostReverseProxy(target) // flushes event streams at once
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(time.Duration(d.delay.Load())):
		case <-r.Context().Done():
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(site.Close)
	d.URL = site.URL
	return d
}

// sendInApp sends an in-app message through the App API and returns its delivery id.
func sendInApp(t *testing.T, s *server, body map[string]any) string {
	t.Helper()
	st, b := s.app("POST", "/v1/send/in_app", body)
	var out struct {
		DeliveryID string `json:"delivery_id"`
	}
	if st != 200 || json.Unmarshal(b, &out) != nil || out.DeliveryID == "" {
		t.Fatalf("send in-app: %d %s", st, b)
	}
	return out.DeliveryID
}

// inboxMetrics returns the reader's metrics (opened, clicked, dismissed) in the delivery's
// history, in order.
func inboxMetrics(t *testing.T, s *server, br *browser, id string) []string {
	t.Helper()
	st, b := s.app("GET", "/v1/messages/"+id, nil)
	var out struct {
		Message struct {
			History []struct {
				Metric string `json:"metric"`
			} `json:"history"`
		} `json:"message"`
	}
	if st != 200 || json.Unmarshal(b, &out) != nil {
		br.fatalf("get message %s: %d %s", id, st, b)
	}
	var got []string
	for _, e := range out.Message.History {
		if e.Metric == "opened" || e.Metric == "clicked" || e.Metric == "dismissed" {
			got = append(got, e.Metric)
		}
	}
	return got
}

// waitMetric waits up to 10s for metric in the delivery's history, as the App API shows it.
func waitMetric(t *testing.T, s *server, br *browser, id, metric string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Contains(inboxMetrics(t, s, br, id), metric) {
		if time.Now().After(deadline) {
			_, b := s.app("GET", "/v1/messages/"+id, nil)
			br.fatalf("no %s in the history of %s after 10s: %s\nherald logs:\n%s", metric, id, b, s.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// browser is a headless Chromium tab. Its failures carry a screenshot (in the test's artifact
// directory: go test -artifacts keeps it), the page's console and Chromium's output.
type browser struct {
	t       *testing.T
	ctx     context.Context
	mu      sync.Mutex
	console []string
	output  lockedBuffer
}

// startBrowser starts Chromium on a fresh profile; it is closed when the test ends.
func startBrowser(t *testing.T, path string) *browser {
	t.Helper()
	br := &browser{t: t}
	// chromedp's defaults already run headless with no-first-run, disable-background-networking
	// and disable-sync; the page and herald are both on 127.0.0.1.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox, // tests run as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1024, 640),
		chromedp.CombinedOutput(&br.output),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	br.ctx = ctx
	if err := chromedp.Do(ctx); err != nil { // the browser lives as long as ctx: no timeout here
		t.Fatalf("start chromium %s: %v\n%s", path, err, br.output.String())
	}
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			br.mu.Lock()
			br.console = append(br.console, m.String())
			br.mu.Unlock()
		}
	}()
	return br
}

// do runs the steps within 15s.
func (br *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	br.t.Helper()
	run(br, what, chromedp.Steps(steps...))
}

// run runs one action within 15s and returns its value.
func run[T any](br *browser, what string, a chromedp.Action[T]) T {
	br.t.Helper()
	ctx, cancel := context.WithTimeout(br.ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		br.fatalf("%s: %v", what, err)
	}
	return v
}

// waitStream runs trigger and waits for the page's inbox stream to receive the named event
// ("inbox" when a page connects, "message" for a newly delivered message).
func (br *browser) waitStream(what, event string, trigger chromedp.Action[chromedp.Void]) {
	br.t.Helper()
	run(br, what, chromedp.WaitEvent(network.EventSourceMessageReceived,
		func(e network.EventEventSourceMessageReceived) bool { return e.EventName == event }, trigger))
}

// screenshot saves the viewport into the test's artifact directory and returns its path.
func (br *browser) screenshot(name string) string {
	ctx, cancel := context.WithTimeout(br.ctx, 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return fmt.Sprintf("(no screenshot: %v)", err)
	}
	path := filepath.Join(br.t.ArtifactDir(), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return fmt.Sprintf("(no screenshot: %v)", err)
	}
	return path
}

// fatalf fails the test with a screenshot, the page's console and Chromium's output.
func (br *browser) fatalf(format string, args ...any) {
	br.t.Helper()
	shot := br.screenshot("failure.png")
	br.mu.Lock()
	console := strings.Join(br.console, "\n")
	br.mu.Unlock()
	var output []string
	for _, line := range strings.Split(br.output.String(), "\n") {
		if !strings.Contains(line, "dbus") { // no system bus in containers: noise
			output = append(output, line)
		}
	}
	br.t.Fatalf("%s\nscreenshot: %s (kept with go test -artifacts)\npage console:\n%s\nchromium output:\n%s",
		fmt.Sprintf(format, args...), shot, console, strings.Join(output, "\n"))
}

// lockedBuffer is a bytes.Buffer that Chromium's output goroutine and the test share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
