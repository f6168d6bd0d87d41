package herald

// Outcome is what an applied op did to its main entity.
type Outcome uint8

// Outcomes. The zero value means the op does not report one.
const (
	OutcomeNone      Outcome = iota
	OutcomeCreated           // the entity was created
	OutcomeUpdated           // the entity existed and changed
	OutcomeUnchanged         // the entity existed and the op changed nothing
	OutcomeSkipped           // the op's options excluded it (create-only on an existing entity …)
	OutcomeRefused           // identifiers conflicted; logged as failed_attribute_change
)

// Result is filled in by the write path on ops that carry one, so that importers can count
// what happened; Reason explains a refusal.
type Result struct {
	Outcome Outcome
	Reason  string
}

// Set records an outcome; the write path calls it.
func (r *Result) Set(o Outcome, reason string) { r.Outcome, r.Reason = o, reason }
