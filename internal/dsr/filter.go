package dsr

import (
	"time"

	"github.com/custos-privacy/custos/internal/store"
)

// Filter selects the requests List returns.
type Filter struct {
	States    []string  // in one of these states (the open ones when empty)
	SubjectID string    // about this subject
	Kind      string    // of this type ("access", "deletion", …)
	DueBy     string    // due on or before this date (YYYY-MM-DD)
	Since     time.Time // received at or after this time (zero: any)
	Limit     int       // at most this many (500 when not positive)
}

// storeFilter is f as the store takes it.
func (f Filter) storeFilter() store.RequestFilter {
	return store.RequestFilter{States: f.States, SubjectID: f.SubjectID, Kind: f.Kind, DueBy: f.DueBy, Since: f.Since, Limit: f.Limit}
}
