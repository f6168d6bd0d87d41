package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/smtptest"
	"github.com/heraldhq/herald/internal/testdb"
)

// The seed's five use cases, each from its folder under examples/: the real binary serves, the
// real `herald apply` loads the example's definitions into the same store, the example's data
// goes in through the Track API, and the test asserts exactly who received which message.

// exampleServer starts herald serve with an in-process SMTP server and applies
// examples/<name> to its store.
func exampleServer(t *testing.T, dsn, name string) (*server, *smtptest.Server) {
	t.Helper()
	smtp := smtptest.Start(t)
	s := startServer(t, dsn, "HERALD_SMTP_URL="+smtp.URL(), "HERALD_EMAIL_FROM=Herald <noreply@herald.test>")
	out := s.apply(t, "../examples/"+name)
	if !strings.Contains(out, "created") {
		t.Fatalf("herald apply created nothing:\n%s", out)
	}
	// Applying again changes nothing.
	for _, line := range strings.Split(strings.TrimSpace(s.apply(t, "../examples/"+name)), "\n") {
		if !strings.Contains(line, " unchanged") {
			t.Errorf("second herald apply: %s", line)
		}
	}
	return s, smtp
}

// apply runs herald apply -f path on the server's store and returns its output.
func (s *server) apply(t *testing.T, path string) string {
	t.Helper()
	out, err := s.runApply(path)
	if err != nil {
		t.Fatalf("herald apply -f %s: %v\n%s", path, err, out)
	}
	return out
}

// runApply runs herald apply -f path on the server's store (its data dir or database).
func (s *server) runApply(path string) (string, error) {
	cmd := exec.Command(binary, "apply", "-f", path)
	cmd.Env = append(os.Environ(), "HERALD_DATA_DIR="+s.DataDir, "HERALD_DATABASE_URL="+s.Database, "HERALD_LOG_LEVEL=warn")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// batch sends Track API v2 batch operations (a file's content, or a value) and wants them all
// accepted.
func (s *server) batch(t *testing.T, body any) {
	t.Helper()
	if st, b := s.track("POST", "/api/v2/batch", body); st != 200 {
		t.Fatalf("batch: %d %s", st, b)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// email is a received message, decoded.
type email struct {
	To, Subject, Body string
}

func (m email) String() string { return m.To + " | " + m.Subject }

// decode reads an SMTP message's recipient, subject and HTML (or text) body.
func decode(t *testing.T, m smtptest.Message) email {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	return email{To: strings.Join(m.To, ","), Subject: subject, Body: bodyText(t, msg.Header, msg.Body)}
}

func bodyText(t *testing.T, h mail.Header, r io.Reader) string {
	mt, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(r, params["boundary"])
		var text string
		for {
			p, err := mr.NextPart()
			if err != nil {
				return text
			}
			part := bodyText(t, mail.Header(p.Header), p)
			if ct := p.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/html") || strings.HasPrefix(ct, "multipart/") {
				return part
			}
			text = part
		}
	}
	if strings.EqualFold(h.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, _ := io.ReadAll(r)
	return string(b)
}

// emails waits until n messages have arrived, then a little longer for any that should not,
// and returns them sorted by recipient and subject.
func emails(t *testing.T, s *server, smtp *smtptest.Server, n int) []email {
	t.Helper()
	return emailsWithin(t, s, smtp, n, 30*time.Second)
}

// emailsWithin is emails waiting at most d for the n messages.
func emailsWithin(t *testing.T, s *server, smtp *smtptest.Server, n int, d time.Duration) []email {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if got := smtp.Wait(ctx, n); got < n {
		var sent []string
		for _, m := range smtp.Messages() {
			sent = append(sent, decode(t, m).String())
		}
		t.Fatalf("%d emails arrived, want %d: %q; logs:\n%s", got, n, sent, s.logs)
	}
	time.Sleep(1500 * time.Millisecond) // anything extra the engines were about to send
	var out []email
	for _, m := range smtp.Messages() {
		out = append(out, decode(t, m))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// expect compares the received emails with want (recipient | subject → body fragments), exactly.
func expect(t *testing.T, got []email, want map[string][]string) {
	t.Helper()
	var have, wanted []string
	for _, m := range got {
		have = append(have, m.String())
	}
	for k := range want {
		wanted = append(wanted, k)
	}
	sort.Strings(wanted)
	if !reflect.DeepEqual(have, wanted) {
		t.Fatalf("received:\n  %s\nwant:\n  %s", strings.Join(have, "\n  "), strings.Join(wanted, "\n  "))
	}
	for _, m := range got {
		for _, frag := range want[m.String()] {
			if !strings.Contains(m.Body, frag) {
				t.Errorf("%s: body lacks %q:\n%s", m, frag, m.Body)
			}
		}
	}
}

// TestExampleCollaboo: onboarding by role. Admins get the admin onboarding, contributors the
// contributor one, and Cat, admin of Acme Y and contributor in Acme Z, both, each naming the
// right company.
func TestExampleCollaboo(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		s, smtp := exampleServer(t, dsn, "collaboo")
		s.batch(t, readFile(t, "../examples/collaboo/data/batch.json"))
		expect(t, emails(t, s, smtp, 5), map[string][]string{
			"ann@acme-x.example | Ann, set up your team on Collaboo":           {"Hi Ann,", "You are an admin of Acme X."},
			"bob@acme-x.example | Bob, get started with your team on Collaboo": {"Your team at Acme X is waiting"},
			"cat@acme-y.example | Cat, set up your team on Collaboo":           {"You are an admin of Acme Y."},
			"cat@acme-y.example | Cat, get started with your team on Collaboo": {"Your team at Acme Z is waiting"},
			"dan@acme-z.example | Dan, get started with your team on Collaboo": {"Your team at Acme Z is waiting"},
		})
	})
}

// campaignID finds a campaign's id by its name through the App API.
func (s *server) campaignID(t *testing.T, name string) int64 {
	t.Helper()
	st, b := s.app("GET", "/v1/campaigns", nil)
	var out struct {
		Campaigns []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"campaigns"`
	}
	if st != 200 || json.Unmarshal(b, &out) != nil {
		t.Fatalf("list campaigns: %d %s", st, b)
	}
	for _, c := range out.Campaigns {
		if c.Name == name {
			return c.ID
		}
	}
	t.Fatalf("no campaign named %q in %s", name, b)
	return 0
}

// TestExampleTradeUp: only the account that crosses $10k gets a portfolio manager (an
// attribute of the account), and only its owner is introduced and enrolled; a second deposit
// introduces nobody again; the monthly advice reaches only the enrolled VIP.
func TestExampleTradeUp(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		s, smtp := exampleServer(t, dsn, "tradeup")
		s.batch(t, readFile(t, "../examples/tradeup/data/batch.json"))
		time.Sleep(time.Second) // the accounts exist before the deposits change them
		s.batch(t, readFile(t, "../examples/tradeup/data/deposits.json"))
		expect(t, emails(t, s, smtp, 1), map[string][]string{
			"bob@example.com | Bob, meet Dana Whitfield, your portfolio manager": {"Hi Bob,",
				"Your business account Account B now holds $12,500.", "Dana Whitfield (dana@tradeup.example) looks after it personally"},
		})
		st, b := s.app("GET", "/v1/objects/1/account-b/attributes", nil)
		if st != 200 || !strings.Contains(string(b), `"portfolio_manager":"Dana Whitfield"`) || !strings.Contains(string(b), `"tier":"vip"`) {
			t.Errorf("account B: %d %s, want a portfolio manager and tier vip", st, b)
		}
		if _, b := s.app("GET", "/v1/objects/1/account-c/attributes", nil); strings.Contains(string(b), "portfolio_manager") {
			t.Errorf("account C (under $10k) got a portfolio manager: %s", b)
		}
		// Another deposit on a VIP account: once per account, no second introduction.
		s.batch(t, `{"batch":[{"type":"object","action":"identify","identifiers":{"object_type_id":"1","object_id":"account-b"},"attributes":{"portfolio_amount":14000}}]}`)
		// The monthly scheduler's call.
		id := s.campaignID(t, "Monthly VIP advice")
		if st, b := s.app("POST", fmt.Sprintf("/v1/campaigns/%d/triggers", id), map[string]any{
			"data": map[string]string{"month": "December", "headline": "Rates are falling: time to review your bonds."}}); st != 200 {
			t.Fatalf("trigger the monthly advice: %d %s", st, b)
		}
		expect(t, emails(t, s, smtp, 2), map[string][]string{
			"bob@example.com | Bob, meet Dana Whitfield, your portfolio manager": nil,
			"bob@example.com | Your VIP investment advice for December": {"Rates are falling: time to review your bonds.",
				"Account B: $14,000, managed by Dana Whitfield."},
		})
	})
}

// TestExampleTeleWell: booking confirms to the patient (doctor, date, time, survey link) and
// tells the doctor; cancelling tells the doctor; the completed pre-check-in tells the doctor;
// 24 hours before the start (an appointment booked to start a day and a few seconds from now)
// the patient of the appointment still booked is reminded, the one of the cancelled one not.
func TestExampleTeleWell(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		s, smtp := exampleServer(t, dsn, "telewell")
		s.batch(t, readFile(t, "../examples/telewell/data/people.json"))
		start := time.Now().Add(24*time.Hour + 5*time.Second).Truncate(time.Second).UTC()
		book := func(id, kind, doctor, doctorName, patient, patientName string) map[string]any {
			return map[string]any{"type": "object", "action": "identify", "identifiers": map[string]string{"object_type_id": "1", "object_id": id},
				"attributes": map[string]any{"appointment_type": kind, "appointment_status": "booked", "starts_at": start.Unix(),
					"doctor_name": doctorName, "patient_name": patientName},
				"cio_relationships": []map[string]any{
					{"identifiers": map[string]string{"id": doctor}, "relationship_attributes": map[string]string{"user_role": "doctor"}},
					{"identifiers": map[string]string{"id": patient}, "relationship_attributes": map[string]string{"user_role": "patient"}}}}
		}
		s.batch(t, map[string]any{"batch": []any{
			book("apt-1", "therapy", "dr-okafor", "Dr. Okafor", "paula", "Paula"),
			book("apt-2", "medication_management", "dr-lind", "Dr. Lind", "sam", "Sam")}})
		day := start.Format("Monday, January 2")
		when := day + " at " + start.Format("15:04") + " UTC"
		survey := func(apt string) string {
			return `<a href="https://telewell.example/pre-check-in/` + apt + `">https://telewell.example/pre-check-in/` + apt + `</a>`
		}
		want := map[string][]string{
			"paula@example.com | Booked: therapy with Dr. Okafor on " + day: {"Hi Paula,",
				"Your therapy session with Dr. Okafor is booked for " + when + ".", survey("apt-1")},
			"sam@example.com | Booked: medication management with Dr. Lind on " + day: {"Hi Sam,",
				"Your medication management session with Dr. Lind is booked for " + when + ".", survey("apt-2")},
			"okafor@telewell.example | New booking: Paula, " + when: {"Paula booked therapy with you on " + when + "."},
			"lind@telewell.example | New booking: Sam, " + when:     {"Sam booked medication management with you on " + when + "."},
		}
		expect(t, emails(t, s, smtp, 4), want)

		s.batch(t, `{"batch":[{"type":"object","action":"identify","identifiers":{"object_type_id":"1","object_id":"apt-2"},"attributes":{"appointment_status":"cancelled"}}]}`)
		s.batch(t, strings.ReplaceAll(readFile(t, "../examples/telewell/data/pre-check-in.json"), "apt-1001", "apt-1"))
		want["lind@telewell.example | Cancelled: Sam, "+when] = []string{"Sam cancelled medication management on " + when + ". The slot is free again."}
		want["okafor@telewell.example | Pre-check-in done: Paula, "+when] = []string{"Paula completed the pre-check-in survey.",
			`>https://telewell.example/appointments/apt-1/pre-check-in</a>`}
		expect(t, emails(t, s, smtp, 6), want)

		// The reminders come due 24 hours before the start, seconds from now; the engine looks
		// at date triggers once a minute.
		want["paula@example.com | Reminder: therapy with Dr. Okafor tomorrow, "+day] = []string{"Hi Paula,",
			"Your therapy session with Dr. Okafor is tomorrow, " + when + ".", survey("apt-1")}
		expect(t, emailsWithin(t, s, smtp, 7, 100*time.Second), want)
	})
}

// inbox reads a person's in-app inbox the way their browser does: with the token the App API
// mints for them.
func (s *server) inbox(t *testing.T, id string) []map[string]any {
	t.Helper()
	st, b := s.app("POST", "/v1/customers/"+id+"/inbox_token", nil)
	var tok struct {
		Token string `json:"token"`
	}
	if st != 200 || json.Unmarshal(b, &tok) != nil || tok.Token == "" {
		t.Fatalf("inbox token for %s: %d %s", id, st, b)
	}
	st, b = s.do("GET", "/inbox/v1/messages", nil, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok.Token) })
	var out struct {
		Messages []map[string]any `json:"messages"`
	}
	if st != 200 || json.Unmarshal(b, &out) != nil {
		t.Fatalf("inbox of %s: %d %s", id, st, b)
	}
	return out.Messages
}

// TestExampleDweller: announcing the Madison tour puts an in-app announcement in the inbox of
// exactly the people who favourited it or subscribed to it, each showing a Madison home they
// viewed; nobody gets an email.
func TestExampleDweller(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		s, smtp := exampleServer(t, dsn, "dweller")
		s.batch(t, readFile(t, "../examples/dweller/data/batch.json"))
		time.Sleep(time.Second) // the tour exists before it is announced
		var seg struct {
			Segments []struct {
				ID   int64  `json:"id"`
				Name string `json:"name"`
			} `json:"segments"`
		}
		_, b := s.app("GET", "/v1/segments", nil)
		json.Unmarshal(b, &seg)
		if len(seg.Segments) != 1 || seg.Segments[0].Name != "Madison WI tour prospects" {
			t.Fatalf("segments: %s", b)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, b := s.app("GET", fmt.Sprintf("/v1/segments/%d/customer_count", seg.Segments[0].ID), nil)
			if strings.Contains(string(b), `"count":3`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("Madison WI tour prospects: %s, want 3 (Ann, Ben, Cal)", b)
			}
			time.Sleep(100 * time.Millisecond)
		}
		s.batch(t, readFile(t, "../examples/dweller/data/announce.json"))

		want := map[string][]string{
			"ann": {"Hi Ann, you favourited our Madison city tour.", `<img src="https://img.dweller.example/lst-1402.jpg" alt="1402 Jenifer St">`,
				"You viewed 1402 Jenifer St ($389,000)."},
			"ben": {"Hi Ben, you asked to hear about our Madison city tour.", `<img src="https://img.dweller.example/lst-88.jpg"`,
				"You viewed 88 Lakeview Ave ($455,000)."},
			"cal": {"Hi Cal, you asked to hear about our Madison city tour.", "Browse homes in Madison before the tour."},
			"dot": nil,
			"eve": nil,
		}
		deadline = time.Now().Add(30 * time.Second)
		for _, id := range []string{"ann", "ben", "cal"} {
			for len(s.inbox(t, id)) == 0 && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
		}
		time.Sleep(1500 * time.Millisecond) // anything extra the engines were about to send
		for _, id := range []string{"ann", "ben", "cal", "dot", "eve"} {
			msgs := s.inbox(t, id)
			if want[id] == nil {
				if len(msgs) != 0 {
					t.Errorf("%s's inbox = %v, want it empty", id, msgs)
				}
				continue
			}
			if len(msgs) != 1 {
				t.Errorf("%s's inbox = %v, want one announcement; logs:\n%s", id, msgs, s.logs)
				continue
			}
			m := msgs[0]
			if m["title"] != "Madison WI is on: April 17" || m["display_type"] != "modal" || m["link"] == nil {
				t.Errorf("%s's announcement: title %q, display %q, link %q", id, m["title"], m["display_type"], m["link"])
			}
			body, _ := m["body"].(string)
			for _, frag := range want[id] {
				if !strings.Contains(body, frag) {
					t.Errorf("%s's announcement lacks %q:\n%s", id, frag, body)
				}
			}
		}
		if n := smtp.Count(); n != 0 {
			t.Errorf("%d emails sent, want none", n)
		}
	})
}

// segmentCount waits until the named segment has n members.
func (s *server) segmentCount(t *testing.T, name string, n int) {
	t.Helper()
	var list struct {
		Segments []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"segments"`
	}
	_, b := s.app("GET", "/v1/segments", nil)
	json.Unmarshal(b, &list)
	for _, g := range list.Segments {
		if g.Name != name {
			continue
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			_, b := s.app("GET", fmt.Sprintf("/v1/segments/%d/customer_count", g.ID), nil)
			if strings.Contains(string(b), fmt.Sprintf(`"count":%d`, n)) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("segment %q: %s, want %d members", name, b, n)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	t.Fatalf("no segment %q in %s", name, b)
}

// TestExampleCodeCamp: the weekly promotion reaches everyone not enrolled; enrolling starts the
// course materials and the calendar mail; the next week's promotion no longer reaches the new
// student.
func TestExampleCodeCamp(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		s, smtp := exampleServer(t, dsn, "codecamp")
		s.batch(t, readFile(t, "../examples/codecamp/data/batch.json"))
		materials := []string{"Your first live session is on Monday, January 11 at 17:00 UTC.",
			"Join it at https://live.codecamp.example/python-101.", "Course materials: https://codecamp.example/courses/python-101/materials"}
		want := map[string][]string{
			"dee@example.com | You're in: Python 101 course materials":       append([]string{"Hi Dee, welcome to Python 101!"}, materials...),
			"dee@example.com | Add the Python 101 sessions to your calendar": {"sessions.ics"},
		}
		expect(t, emails(t, s, smtp, 2), want)

		promote := func(headline, pitch string) {
			t.Helper()
			id := s.campaignID(t, "Python 101 promotions")
			if st, b := s.app("POST", fmt.Sprintf("/v1/campaigns/%d/triggers", id),
				map[string]any{"data": map[string]string{"headline": headline, "pitch": pitch}}); st != 200 {
				t.Fatalf("trigger the promotion: %d %s", st, b)
			}
		}
		s.segmentCount(t, "Python 101 prospects", 3)
		promote("Python 101 starts in January", "Eight live sessions, one project.")
		for _, p := range []string{"Ann", "Bob"} {
			want[strings.ToLower(p)+"@example.com | Python 101 starts in January"] = []string{"Hi " + p + ",",
				"Python 101 is a live online course for developers, starting January 11. Eight live sessions, one project."}
		}
		// Cal is not related to the course yet: no start date from objects.courses.
		want["cal@example.com | Python 101 starts in January"] = []string{"Hi Cal,",
			"Python 101 is a live online course for developers. Eight live sessions, one project."}
		expect(t, emails(t, s, smtp, 5), want)

		s.batch(t, readFile(t, "../examples/codecamp/data/enrol.json"))
		want["bob@example.com | You're in: Python 101 course materials"] = append([]string{"Hi Bob, welcome to Python 101!"}, materials...)
		want["bob@example.com | Add the Python 101 sessions to your calendar"] = []string{"sessions.ics"}
		expect(t, emails(t, s, smtp, 7), want)

		s.segmentCount(t, "Python 101 prospects", 2)
		promote("Last seats for Python 101", "Two weeks to go.")
		for _, p := range []string{"ann", "cal"} {
			want[p+"@example.com | Last seats for Python 101"] = []string{"Two weeks to go."}
		}
		expect(t, emails(t, s, smtp, 9), want)
	})
}
