package audit

import (
	"context"
	"time"
)

// Filter selects entries of the trail.
type Filter struct {
	After int64     // entries with a greater sequence number
	Since time.Time // entries at or after this time (zero: all)
	Limit int       // at most this many (the store's default when not positive)
}

// TrailStore is what reading the trail needs from where it is kept. It
// speaks only this package's types, so that the store can implement it
// without this package importing the store (which imports this one).
type TrailStore interface {
	AuditEntries(ctx context.Context, f Filter) ([]Entry, error)
	AuditHead(ctx context.Context) (Chain, error)
	VerifyAudit(ctx context.Context, anchor *Chain, progress func(checked int64)) (Report, error)
}

// Trail is the audit trail as the API, the pages and the commands read
// it: its entries, where the chain ends, and whether it is intact. The
// store's errors already name the operation, so they are passed on as
// they are.
type Trail struct {
	st TrailStore
}

// NewTrail returns the trail kept in st.
func NewTrail(st TrailStore) *Trail { return &Trail{st: st} }

// Entries lists the entries f selects, in sequence order.
func (t *Trail) Entries(ctx context.Context, f Filter) ([]Entry, error) {
	return t.st.AuditEntries(ctx, f)
}

// Head returns the chain's last link (sequence number and hash).
func (t *Trail) Head(ctx context.Context) (Chain, error) { return t.st.AuditHead(ctx) }

// Verify checks the whole chain; anchor, when given, is a head recorded
// earlier (kept elsewhere) that the chain must still contain, so that a
// chain rewritten from scratch is caught even though it links up.
// progress, when not nil, is told the entries checked after each batch.
func (t *Trail) Verify(ctx context.Context, anchor *Chain, progress func(checked int64)) (Report, error) {
	return t.st.VerifyAudit(ctx, anchor, progress)
}

// Check verifies the whole chain and returns the report with the head as
// it stands after the walk: entries appended meanwhile are not in the
// report, but the head shown is the one now.
func (t *Trail) Check(ctx context.Context) (Report, Chain, error) {
	r, err := t.Verify(ctx, nil, nil)
	if err != nil {
		return Report{}, Chain{}, err
	}
	head, err := t.Head(ctx)
	if err != nil {
		return Report{}, Chain{}, err
	}
	return r, head, nil
}
