package liquid

import (
	"strings"

	"github.com/osteele/liquid"
	"github.com/osteele/liquid/render"
)

// Internal tags: the engine inserts them into parsed trees (see Engine.instrument). A template
// may name them too; they do nothing it could not do otherwise.
const (
	tickTag    = "herald_tick"
	captureTag = "herald_capture"
)

// registerTags adds Customer.io's tags and the internal ones.
func registerTags(e *liquid.Engine) {
	url := func(pick func(URLs) string) liquid.Renderer {
		return func(ctx render.Context) (string, error) {
			return pick(stateOf(ctx).c.URLs), nil
		}
	}
	// The URLs are the delivery's; an empty one renders empty (a preview has none).
	e.RegisterTag("unsubscribe_url", url(func(u URLs) string { return u.Unsubscribe }))
	e.RegisterTag("manage_subscription_preferences_url", url(func(u URLs) string { return u.ManagePreferences }))
	e.RegisterTag("view_in_browser_url", url(func(u URLs) string { return u.ViewInBrowser }))
	e.RegisterTag("generate_uuid", func(ctx render.Context) (string, error) {
		return stateOf(ctx).engine.opts.NewUUID(), nil
	})

	e.RegisterTag(tickTag, func(ctx render.Context) (string, error) {
		if err := stateOf(ctx).check(); err != nil {
			return "", err
		}
		return "", nil
	})
	// A capture renders its body into a buffer bounded like the output: osteele's captures
	// into an unbounded one, which a loop could grow without writing a byte of output.
	e.RegisterBlock(captureTag, func(ctx render.Context) (string, error) {
		st := stateOf(ctx)
		w := &limitWriter{st: st, max: st.maxBytes}
		if err := ctx.RenderChildren(w); err != nil {
			return "", err
		}
		ctx.Set(strings.TrimSpace(ctx.TagArgs()), string(w.buf))
		return "", nil
	})
}

// stateOf returns the render's state from the bindings.
func stateOf(ctx render.Context) *state {
	return ctx.Get(stateKey).(*state)
}
