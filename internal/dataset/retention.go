package dataset

// Retention actions: what a sweep does to a row whose retention ended.
const (
	// ActionDelete deletes the row.
	ActionDelete = "delete"
	// ActionErase rewrites the row's personal fields by their erase
	// strategies and keeps the row.
	ActionErase = "erase"
	// ActionAnonymise drops or generalises fields so that the row no
	// longer relates to a person, and keeps it for statistics.
	ActionAnonymise = "anonymise"
)

// Retention events: what ends, or starts, a rule's period for one person
// rather than for a row. They are the manifest's own words (retention
// until/from).
const (
	EventAccountDeletion  = "account_deletion"
	EventConsentWithdrawn = "consent_withdrawn"
	EventPurposeFulfilled = "purpose_fulfilled"
	EventServiceEnd       = "service_end"
)

// What anonymisation does to a field: drop it (write NULL), keep it, or
// generalise a date or time to the start of its year, month or day.
const (
	AnonymiseDrop  = "drop"
	AnonymiseKeep  = "keep"
	AnonymiseYear  = "year"
	AnonymiseMonth = "month"
	AnonymiseDay   = "day"
)

var (
	actions          = []string{ActionDelete, ActionErase, ActionAnonymise}
	events           = []string{EventAccountDeletion, EventConsentWithdrawn, EventPurposeFulfilled, EventServiceEnd}
	anonymisations   = []string{AnonymiseDrop, AnonymiseKeep, AnonymiseYear, AnonymiseMonth, AnonymiseDay}
	retentionKeys    = []string{"rule", "clock", "event", "action"}
	retentionNeeded  = []string{"rule"}
	generalisingDate = map[string]bool{AnonymiseYear: true, AnonymiseMonth: true, AnonymiseDay: true}
)

// RetentionTarget binds one retention rule of the manifest to a
// collection. Exactly one of Clock and Event is set:
//   - Clock names the field whose value starts the rule's period
//     (created_at, last_login_at): a row is due once the period has passed
//     since that value, and a sweep finds it by that field alone;
//   - Event names what ends retention for one person (their account's
//     deletion, their consent's withdrawal): the person's rows in the
//     collection are due when the event happens to them, or a period after.
type RetentionTarget struct {
	Rule  string `json:"rule"`
	Clock string `json:"clock,omitempty"`
	Event string `json:"event,omitempty"`
	// Action is ActionDelete, ActionErase or ActionAnonymise; empty takes
	// the rule's own (see Collection.RetentionAction).
	Action string `json:"action,omitempty"`
}

// RetentionAction is what a sweep under target t does to the collection's
// rows when the manifest rule says after: delete, anonymise or restrict:
// the action written, or else the rule's own. A rule that deletes deletes
// rows of a collection annotated delete_row and erases the personal
// fields of the others; a rule that restricts keeps the row with its
// personal fields erased, as the erase strategies leave what restriction
// needs (a hash on a suppression list).
func (c Collection) RetentionAction(t RetentionTarget, after string) string {
	if t.Action != "" {
		return t.Action
	}
	switch after {
	case ActionAnonymise:
		return ActionAnonymise
	case ActionDelete:
		if c.DeleteRow {
			return ActionDelete
		}
	}
	return ActionErase
}

// Anonymisation is what anonymising the row does to f: the value
// written, or else drop for fields that identify a person, lead to one
// (references) or hold personal data, and keep for the rest. A primary
// key is kept: it locates the row.
func (f Field) Anonymisation() string {
	switch {
	case f.Anonymise != "":
		return f.Anonymise
	case f.PrimaryKey:
		return AnonymiseKeep
	case f.Identity != "" || len(f.References) > 0 || len(f.Categories) > 0:
		return AnonymiseDrop
	default:
		return AnonymiseKeep
	}
}

// Field returns the collection's field called name.
func (c Collection) Field(name string) (Field, bool) {
	for _, f := range c.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// BindsRetention reports whether any collection is bound to a retention rule.
func (d *Dataset) BindsRetention() bool {
	for _, s := range d.Datastores {
		for _, c := range s.Collections {
			if len(c.Retention) > 0 {
				return true
			}
		}
	}
	return false
}
