// Package tracking serves the endpoints that people, not API clients, reach: the open pixel
// and click redirect of tracked emails, the unsubscribe page (no login: the delivery id in
// its URL is the key), and the in-app inbox that Herald's JS snippet reads (a list, a
// server-sent-events stream, and opened / clicked / dismissed reports), authenticated by the
// per-person token a customer's backend mints.
package tracking

import (
	"context"
	_ "embed"
	"encoding/json"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// Service is what the endpoints need: the delivery service provides it.
type Service interface {
	Opened(ctx context.Context, token string) error
	Clicked(ctx context.Context, token string) (string, error)
	Unsubscribe(ctx context.Context, deliveryID string) error
	ViewInBrowser(ctx context.Context, deliveryID string) (string, error)
	Inbox(ctx context.Context, token string) ([]herald.InboxMessage, error)
	InboxEvent(ctx context.Context, token, deliveryID, metric string) error
	Subscribe(ctx context.Context, token string) (<-chan herald.InboxMessage, func(), error)
}

// Handler serves the tracking endpoints.
type Handler struct {
	svc Service
	log *slog.Logger
	// Heartbeat is how often an inbox stream reads the inbox again, for messages another
	// herald process sent, and, when nothing is new, sends a comment so that proxies keep the
	// stream open. Default 5s.
	Heartbeat time.Duration
}

// New returns a Handler over svc.
func New(svc Service, log *slog.Logger) *Handler {
	return &Handler{svc: svc, log: log, Heartbeat: 5 * time.Second}
}

// Register adds the routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /t/o/{token}", h.open)
	mux.HandleFunc("GET /t/c/{token}", h.click)
	mux.HandleFunc("GET /t/v/{delivery_id}", h.view)
	mux.HandleFunc("GET /unsubscribe/{delivery_id}", h.unsubscribePage)
	mux.HandleFunc("POST /unsubscribe/{delivery_id}", h.unsubscribe)
	mux.HandleFunc("GET /inbox/v1/messages", cors(h.inbox))
	mux.HandleFunc("GET /inbox/v1/stream", cors(h.stream))
	mux.HandleFunc("POST /inbox/v1/messages/{delivery_id}/{metric}", cors(h.inboxEvent))
	mux.HandleFunc("OPTIONS /inbox/v1/", cors(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	mux.HandleFunc("GET /inbox/v1/herald.js", h.script)
}

// pixel is a transparent 1×1 GIF.
var pixel = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// open answers with the pixel whatever happens: a mail client shows no error.
func (h *Handler) open(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.Opened(r.Context(), r.PathValue("token")); err != nil && herald.ErrorCode(err) != herald.NotFound {
		h.log.Error("record open", "err", err)
	}
	w.Header().Set("Content-Type", "image/gif")
	w.Header().Set("Cache-Control", "no-store, max-age=0")
	w.Write(pixel)
}

func (h *Handler) click(w http.ResponseWriter, r *http.Request) {
	link, err := h.svc.Clicked(r.Context(), r.PathValue("token"))
	if link == "" {
		if herald.ErrorCode(err) != herald.NotFound {
			h.log.Error("record click", "err", err)
		}
		http.Error(w, "This link is not valid.", http.StatusNotFound)
		return
	}
	if err != nil {
		h.log.Error("record click", "err", err)
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, link, http.StatusFound)
}

// view shows a sent email's HTML in the browser, as the message's own page: a sandboxing
// Content-Security-Policy keeps its scripts and forms from running.
func (h *Handler) view(w http.ResponseWriter, r *http.Request) {
	html, err := h.svc.ViewInBrowser(r.Context(), r.PathValue("delivery_id"))
	if err != nil {
		if herald.ErrorCode(err) != herald.NotFound {
			h.log.Error("view in browser", "err", err)
		}
		renderPage(w, http.StatusNotFound, pageData{Title: "Message not available", Text: "This message is not available any more."})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "sandbox allow-popups allow-popups-to-escape-sandbox; script-src 'none'")
	w.Header().Set("Cache-Control", "private, no-store")
	io.WriteString(w, html)
}

var page = template.Must(template.New("unsubscribe").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}
button{font:inherit;padding:.5rem 1rem;cursor:pointer}</style></head><body>
<h1>{{.Title}}</h1><p>{{.Text}}</p>
{{if .Form}}<form method="post"><button type="submit">Unsubscribe</button></form>{{end}}
</body></html>
`))

type pageData struct {
	Title, Text string
	Form        bool
}

func renderPage(w http.ResponseWriter, status int, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	page.Execute(w, d)
}

// unsubscribePage asks for confirmation: a GET (a link scanner, a prefetch) changes nothing.
func (h *Handler) unsubscribePage(w http.ResponseWriter, _ *http.Request) {
	renderPage(w, http.StatusOK, pageData{Title: "Unsubscribe", Text: "Stop receiving these emails?", Form: true})
}

// unsubscribe serves the page's form, RFC 8058 one-click posts from mail clients, and
// Customer.io's POST /unsubscribe/{delivery_id} ({"unsubscribe": true}, answered {}).
func (h *Handler) unsubscribe(w http.ResponseWriter, r *http.Request) {
	jsonBody := strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
	err := h.svc.Unsubscribe(r.Context(), r.PathValue("delivery_id"))
	switch {
	case herald.ErrorCode(err) == herald.NotFound:
		if jsonBody {
			writeJSON(w, http.StatusNotFound, map[string]any{"meta": map[string]any{"error": "no such delivery"}})
			return
		}
		renderPage(w, http.StatusNotFound, pageData{Title: "Link not valid", Text: "This unsubscribe link is not valid."})
	case err != nil:
		h.log.Error("unsubscribe", "err", err)
		renderPage(w, http.StatusInternalServerError, pageData{Title: "Something went wrong", Text: "Please try again later."})
	case jsonBody:
		writeJSON(w, http.StatusOK, map[string]any{})
	default:
		renderPage(w, http.StatusOK, pageData{Title: "You are unsubscribed", Text: "You will not receive these emails any more."})
	}
}

// token reads the inbox token from "Authorization: Bearer …" or the token query parameter
// (EventSource cannot set headers).
func token(r *http.Request) string {
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return r.URL.Query().Get("token")
}

func (h *Handler) inbox(w http.ResponseWriter, r *http.Request) {
	msgs, err := h.svc.Inbox(r.Context(), token(r))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": msgs})
}

func (h *Handler) inboxEvent(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.InboxEvent(r.Context(), token(r), r.PathValue("delivery_id"), r.PathValue("metric")); err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

// stream sends the inbox as it stands ("inbox" event), then every newly delivered message
// ("message" event), until the reader goes away. Messages sent by this process arrive at once;
// on every heartbeat the inbox is read again, so that messages another herald process sent
// (several processes on one PostgreSQL) arrive too.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		h.fail(w, herald.Errorf(herald.Unsupported, "", "streaming is not supported here"))
		return
	}
	tok := token(r)
	live, cancel, err := h.svc.Subscribe(r.Context(), tok)
	if err != nil {
		h.fail(w, err)
		return
	}
	defer cancel()
	msgs, err := h.svc.Inbox(r.Context(), tok)
	if err != nil {
		h.fail(w, err)
		return
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		seen[m.DeliveryID] = true
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(event string, v any) {
		b, _ := json.Marshal(v)
		w.Write([]byte("event: " + event + "\ndata: "))
		w.Write(b)
		w.Write([]byte("\n\n"))
		flusher.Flush()
	}
	send("inbox", map[string]any{"messages": msgs})
	beat := time.NewTicker(h.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case m := <-live:
			if !seen[m.DeliveryID] {
				seen[m.DeliveryID] = true
				send("message", m)
			}
		case <-beat.C:
			msgs, err := h.svc.Inbox(r.Context(), tok)
			if err != nil {
				return // the reader reconnects (EventSource does so itself)
			}
			fresh := false
			for i := len(msgs) - 1; i >= 0; i-- { // oldest first
				if m := msgs[i]; !seen[m.DeliveryID] {
					seen[m.DeliveryID], fresh = true, true
					send("message", m)
				}
			}
			if !fresh {
				w.Write([]byte(": keep-alive\n\n"))
				flusher.Flush()
			}
		}
	}
}

//go:embed static/herald.js
var script []byte

func (h *Handler) script(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(script)
}

// cors lets any page call the inbox endpoints: they are authorised by the token, never by
// cookies.
func cors(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		next(w, r)
	}
}

var statusByCode = map[herald.Code]int{
	herald.NotFound:     http.StatusNotFound,
	herald.Unauthorized: http.StatusUnauthorized,
	herald.Internal:     http.StatusInternalServerError,
	herald.Unsupported:  http.StatusNotImplemented,
}

func (h *Handler) fail(w http.ResponseWriter, err error) {
	e := herald.AsError(err)
	status, ok := statusByCode[e.Code]
	if !ok {
		status = http.StatusBadRequest
	}
	msg := e.Error()
	if e.Code == herald.Internal {
		h.log.Error("inbox", "err", err)
		msg = "internal error"
	}
	writeJSON(w, status, map[string]any{"errors": []map[string]string{{"reason": string(e.Code), "field": e.Field, "message": msg}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
