package herald

import "strings"

// Person is one profile in a workspace. ID and Email are the customer's identifiers (either
// may be empty, not both); CioID is Herald's own, immutable identifier. Attributes include
// "id" and "email" when set, so that segments and templates see them as Customer.io does.
type Person struct {
	PK          int64            `json:"-"`
	CioID       string           `json:"cio_id"`
	ID          string           `json:"id,omitempty"`
	Email       string           `json:"email,omitempty"`
	AnonymousID string           `json:"anonymous_id,omitempty"`
	Attributes  Attributes       `json:"attributes"`
	Timestamps  map[string]int64 `json:"timestamps"`
	CreatedAt   int64            `json:"created_at"`
	UpdatedAt   int64            `json:"updated_at"`
}

// IdentifierKind names which identifier a PersonRef carries.
type IdentifierKind string

// Person identifier kinds, as Customer.io names them on the wire (id_type).
const (
	ByID          IdentifierKind = "id"
	ByEmail       IdentifierKind = "email"
	ByCioID       IdentifierKind = "cio_id"
	ByAnonymousID IdentifierKind = "anonymous_id"
)

// PersonRef addresses one person by exactly one identifier.
type PersonRef struct {
	Kind  IdentifierKind
	Value string
}

func (r PersonRef) String() string { return string(r.Kind) + "=" + r.Value }

// IsZero reports whether r addresses nobody.
func (r PersonRef) IsZero() bool { return r.Value == "" }

// NormalizeEmail is the form in which emails are compared: Customer.io treats them
// case-insensitively.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// PathRef interprets a Track API v1 path identifier: "cio_<id>" addresses the cio_id, a
// value that looks like an email addresses the email, anything else the id.
func PathRef(s string) PersonRef {
	switch {
	case strings.HasPrefix(s, "cio_") && len(s) > 4:
		return PersonRef{Kind: ByCioID, Value: s[4:]}
	case LooksLikeEmail(s):
		return PersonRef{Kind: ByEmail, Value: s}
	default:
		return PersonRef{Kind: ByID, Value: s}
	}
}

// LooksLikeEmail is the test Customer.io's integrations use to route an identifier to email.
func LooksLikeEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\n") && strings.Contains(s[at:], ".")
}

// Validate checks r's kind and value.
func (r PersonRef) Validate(field string) error {
	switch r.Kind {
	case ByID, ByEmail, ByCioID, ByAnonymousID:
	default:
		return Errorf(Invalid, field, "unknown identifier type %q; use id, email or cio_id", r.Kind)
	}
	return CheckIdentifier(joinField(field, string(r.Kind)), r.Value)
}

// Identifiers is the identifier block Customer.io returns for a person.
type Identifiers struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	CioID string `json:"cio_id"`
	// AnonymousID is set only on records of anonymous activity.
	AnonymousID string `json:"anonymous_id,omitempty"`
}

// Identifiers returns p's identifier block.
func (p *Person) Identifiers() Identifiers {
	return Identifiers{ID: p.ID, Email: p.Email, CioID: p.CioID}
}

// Device is a push token registered for a person.
type Device struct {
	Token      string     `json:"id"`
	Platform   string     `json:"platform"`
	LastUsed   int64      `json:"last_used,omitempty"`
	Attributes Attributes `json:"attributes,omitempty"`
}
