package herald

import (
	"regexp"
	"strings"
)

// ObjectType is a kind of custom object (Companies, Accounts, Appointments …). Its ID is an
// integer from 1 per workspace and never changes; slugs are derived from the names and are
// what templates use (plural under objects., singular under trigger.).
type ObjectType struct {
	ID           int    `json:"id"`
	Name         string `json:"name"`
	SingularName string `json:"singular_name"`
	Slug         string `json:"slug"`
	SingularSlug string `json:"singular_slug"`
	Enabled      bool   `json:"enabled"`
	Icon         string `json:"icon"`
	CreatedAt    int64  `json:"created_at"`
}

// Object is one custom object: ObjectID is the customer's, unique within its type; CioObjectID
// is Herald's, assigned at creation and immutable.
type Object struct {
	PK          int64            `json:"-"`
	TypeID      int              `json:"object_type_id"`
	ObjectID    string           `json:"object_id"`
	CioObjectID string           `json:"cio_object_id"`
	Attributes  Attributes       `json:"attributes"`
	Timestamps  map[string]int64 `json:"timestamps"`
	CreatedAt   int64            `json:"created_at"`
	UpdatedAt   int64            `json:"updated_at"`
}

// ObjectRef addresses one object: by type and object_id, or by cio_object_id alone.
type ObjectRef struct {
	TypeID      int
	ObjectID    string
	CioObjectID string
}

func (r ObjectRef) String() string {
	if r.CioObjectID != "" {
		return "cio_object_id=" + r.CioObjectID
	}
	return "object_type_id=" + itoa(r.TypeID) + " object_id=" + r.ObjectID
}

// Validate checks that r carries exactly one way to find an object.
func (r ObjectRef) Validate(field string) error {
	switch {
	case r.CioObjectID != "" && r.ObjectID != "":
		return Errorf(Invalid, field, "give either object_type_id and object_id, or cio_object_id, not both")
	case r.CioObjectID != "":
		return CheckIdentifier(joinField(field, "cio_object_id"), r.CioObjectID)
	case r.TypeID <= 0:
		return Errorf(Required, joinField(field, "object_type_id"), "is required (a positive integer, as 1 or \"1\")")
	default:
		return CheckIdentifier(joinField(field, "object_id"), r.ObjectID)
	}
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// Slugify derives a template-friendly slug from a type name: "Online Classes" → "online_classes".
func Slugify(name string) string {
	return strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(name), "_"), "_")
}

// ValidateObjectType checks a type's names and fills in derived fields.
func ValidateObjectType(t *ObjectType) error {
	t.Name = strings.TrimSpace(t.Name)
	t.SingularName = strings.TrimSpace(t.SingularName)
	if t.Name == "" {
		return Errorf(Required, "name", "is required")
	}
	if t.SingularName == "" {
		t.SingularName = strings.TrimSuffix(t.Name, "s")
	}
	if len(t.Name) > MaxAttrNameBytes || len(t.SingularName) > MaxAttrNameBytes {
		return Errorf(TooLong, "name", "is over %d bytes", MaxAttrNameBytes)
	}
	t.Slug, t.SingularSlug = Slugify(t.Name), Slugify(t.SingularName)
	if t.Slug == "" {
		return Errorf(Invalid, "name", "must contain a letter or digit")
	}
	if t.SingularSlug == "" {
		return Errorf(Invalid, "singular_name", "must contain a letter or digit")
	}
	if t.SingularSlug == "customer" || t.SingularSlug == "relationship" {
		return Errorf(Reserved, "singular_name", "%q is reserved in templates (trigger.%s)", t.SingularName, t.SingularSlug)
	}
	return nil
}

// Relationship links one person to one object and carries its own attributes.
type Relationship struct {
	Person     Identifiers      `json:"person"`
	Object     ObjectIdentity   `json:"object"`
	Attributes Attributes       `json:"attributes"`
	Timestamps map[string]int64 `json:"timestamps"`
	CreatedAt  int64            `json:"created_at"`
	UpdatedAt  int64            `json:"updated_at"`
}

// ObjectIdentity is how an object is named in relationships and change records.
type ObjectIdentity struct {
	TypeID      int    `json:"object_type_id"`
	ObjectID    string `json:"object_id"`
	CioObjectID string `json:"cio_object_id"`
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
