package email_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/email"
)

func TestTracker(t *testing.T) {
	t.Parallel()
	tr := &email.Tracker{BaseURL: "https://t.herald.test/", Secret: []byte("k1")}
	click := tr.ClickURL("01HDELIVERY", 3, "https://shop.test/a?b=c#d")
	token, ok := strings.CutPrefix(click, "https://t.herald.test/t/c/")
	if !ok {
		t.Fatalf("click URL %q is not under {base}/t/c/", click)
	}
	open, ok := strings.CutPrefix(tr.OpenURL("01HDELIVERY"), "https://t.herald.test/t/o/")
	if !ok {
		t.Fatalf("open URL is not under {base}/t/o/")
	}

	t.Run("a click token gives back the delivery, index and URL", func(t *testing.T) {
		t.Parallel()
		got, err := tr.VerifyClick(token)
		if want := (email.Click{DeliveryID: "01HDELIVERY", Index: 3, URL: "https://shop.test/a?b=c#d"}); err != nil || got != want {
			t.Errorf("VerifyClick = %+v, %v; want %+v", got, err, want)
		}
	})
	t.Run("an open token gives back the delivery", func(t *testing.T) {
		t.Parallel()
		if got, err := tr.VerifyOpen(open); err != nil || got != "01HDELIVERY" {
			t.Errorf("VerifyOpen = %q, %v", got, err)
		}
	})

	refused := []struct {
		name   string
		verify func() error
	}{
		{"a token with a changed character", func() error { _, err := tr.VerifyClick(flip(token, 5)); return err }},
		{"a token with a changed tag", func() error { _, err := tr.VerifyClick(flip(token, len(token)-2)); return err }},
		{"a truncated token", func() error { _, err := tr.VerifyClick(token[:10]); return err }},
		{"an open token used as a click", func() error { _, err := tr.VerifyClick(open); return err }},
		{"a click token used as an open", func() error { _, err := tr.VerifyOpen(token); return err }},
		{"a token signed with another secret", func() error {
			_, err := (&email.Tracker{BaseURL: tr.BaseURL, Secret: []byte("k2")}).VerifyClick(token)
			return err
		}},
		{"a token that is not base64", func() error { _, err := tr.VerifyClick("!!!"); return err }},
	}
	for _, tt := range refused {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.verify(); err == nil {
				t.Error("accepted")
			}
		})
	}
}

// flip changes the base64 character at i to a different one.
func flip(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

func TestTrackHTML(t *testing.T) {
	t.Parallel()
	tr := &email.Tracker{BaseURL: "https://t.test", Secret: []byte("k")}
	tests := []struct {
		name      string
		in        string
		skip      []string
		wantLinks []string // original URLs of the tracked links, in order
		wantKept  []string // substrings that must survive unchanged
		pixelLast bool     // the pixel is appended at the very end (no </body>)
	}{
		{
			name:      "rewrites http and https links and keeps their other attributes",
			in:        `<body><a class="b" href="http://a.test/1" title='x > y'>A</a><a href="HTTPS://b.test/2?x=1&amp;y=2">B</a></body>`,
			wantLinks: []string{"http://a.test/1", "HTTPS://b.test/2?x=1&y=2"},
			wantKept:  []string{`class="b"`, `title="x &gt; y"`},
		},
		{
			name:     "leaves mailto, tel, anchors, relative, notrack and skipped links alone",
			in:       `<body><a href="mailto:a@b.c">m</a><a href="tel:+1">t</a><a href="#top">a</a><a href="/rel">r</a><a data-herald-notrack href="https://n.test">n</a><a href="https://u.test/unsub">u</a></body>`,
			skip:     []string{"https://u.test/unsub"},
			wantKept: []string{`href="mailto:a@b.c"`, `href="tel:+1"`, `href="#top"`, `href="/rel"`, `data-herald-notrack href="https://n.test"`, `href="https://u.test/unsub"`},
		},
		{
			name:      "copies comments, conditional comments and styles verbatim",
			in:        "<!--[if mso]><table><![endif]--><style>a[href^=\"http\"]{color:red}</style><p>x</p>",
			wantKept:  []string{"<!--[if mso]><table><![endif]-->", "<style>a[href^=\"http\"]{color:red}</style>"},
			pixelLast: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := tr.TrackHTML(tt.in, "d9", tt.skip...)
			clicks := hrefs(t, out, "https://t.test/t/c/")
			if len(clicks) != len(tt.wantLinks) {
				t.Fatalf("tracked %d links, want %d: %s", len(clicks), len(tt.wantLinks), out)
			}
			for i, tok := range clicks {
				c, err := tr.VerifyClick(tok)
				if err != nil || c.URL != tt.wantLinks[i] || c.Index != i || c.DeliveryID != "d9" {
					t.Errorf("link %d = %+v, %v; want %q", i, c, err, tt.wantLinks[i])
				}
			}
			for _, k := range tt.wantKept {
				if !strings.Contains(out, k) {
					t.Errorf("output lacks %q: %s", k, out)
				}
			}
			pixel := `<img src="` + tr.OpenURL("d9") + `"`
			if strings.Count(out, pixel) != 1 {
				t.Errorf("want exactly one pixel: %s", out)
			}
			const pixelEnd = `style="display:block;width:1px;height:1px;border:0">`
			if tt.pixelLast && !strings.HasSuffix(out, pixelEnd) || !tt.pixelLast && !strings.Contains(out, pixelEnd+"</body>") {
				t.Errorf("pixel misplaced (at end: %v): %s", tt.pixelLast, out)
			}
		})
	}
}

func FuzzVerifyClick(f *testing.F) {
	tr := &email.Tracker{BaseURL: "https://t.test", Secret: []byte("k")}
	f.Add(strings.TrimPrefix(tr.ClickURL("d", 1, "https://x.test"), "https://t.test/t/c/"))
	f.Add("")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := tr.VerifyClick(token)
		if err != nil {
			return
		}
		// Anything accepted must be what this tracker signed.
		again := strings.TrimPrefix(tr.ClickURL(c.DeliveryID, c.Index, c.URL), "https://t.test/t/c/")
		if again != token {
			t.Errorf("accepted %q, which re-signs as %q", token, again)
		}
	})
}
