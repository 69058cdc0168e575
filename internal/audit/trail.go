package audit

import (
	"context"
	"fmt"
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
	VerifyAudit(ctx context.Context, anchors *Anchors, progress func(checked int64)) (Report, error)
}

// AnchorSource reads heads recorded outside the database, such as signed
// checkpoints. The problems are those found in the records themselves (a
// bad signature); they join the report.
type AnchorSource func(ctx context.Context) (Anchors, []Problem, error)

// Trail is the audit trail as the API, the pages and the commands read
// it: its entries, where the chain ends, and whether it is intact. The
// store's errors already name the operation, so they are passed on as
// they are.
type Trail struct {
	st      TrailStore
	anchors AnchorSource
}

// NewTrail returns the trail kept in st.
func NewTrail(st TrailStore) *Trail { return &Trail{st: st} }

// WithAnchors returns the trail, verified from now on against the heads
// src reads as well as those a caller passes.
func (t *Trail) WithAnchors(src AnchorSource) *Trail { return &Trail{st: t.st, anchors: src} }

// Entries lists the entries f selects, in sequence order.
func (t *Trail) Entries(ctx context.Context, f Filter) ([]Entry, error) {
	return t.st.AuditEntries(ctx, f)
}

// Head returns the chain's last link (sequence number and hash).
func (t *Trail) Head(ctx context.Context) (Chain, error) { return t.st.AuditHead(ctx) }

// Verify checks the whole chain, and the consent ledger where the store
// keeps one; anchors, when given, are heads recorded earlier (kept
// elsewhere) that the chains must still contain, so that a chain cut at
// the end or rewritten from scratch is caught even though it links up.
// progress, when not nil, is told the links checked after each batch.
func (t *Trail) Verify(ctx context.Context, anchors *Anchors, progress func(checked int64)) (Report, error) {
	return t.verify(ctx, anchors, progress, t.st.VerifyAudit)
}

// fromStore is a TrailStore that verifies from the latest anchors.
type fromStore interface {
	VerifyAuditFrom(ctx context.Context, anchors *Anchors, progress func(checked int64)) (Report, error)
}

// VerifyFrom is Verify from the latest anchors on (the last signed
// checkpoint): only the entries and ledger events after them are read,
// and the consent state of what those events touched, so the cost follows
// what was written since. A change before the anchors is not found this
// way, only by Verify. Without anchors it is Verify.
func (t *Trail) VerifyFrom(ctx context.Context, anchors *Anchors, progress func(checked int64)) (Report, error) {
	st, ok := t.st.(fromStore)
	if !ok {
		return Report{}, fmt.Errorf("verify from a checkpoint: this store cannot")
	}
	return t.verify(ctx, anchors, progress, st.VerifyAuditFrom)
}

func (t *Trail) verify(ctx context.Context, anchors *Anchors, progress func(int64), run func(context.Context, *Anchors, func(int64)) (Report, error)) (Report, error) {
	var all Anchors
	if anchors != nil {
		all.Trail = append(all.Trail, anchors.Trail...)
		all.Ledger = append(all.Ledger, anchors.Ledger...)
	}
	var found []Problem
	if t.anchors != nil {
		more, problems, err := t.anchors(ctx)
		if err != nil {
			return Report{}, err
		}
		all.Trail = append(all.Trail, more.Trail...)
		all.Ledger = append(all.Ledger, more.Ledger...)
		found = problems
	}
	r, err := run(ctx, &all, progress)
	if err != nil {
		return Report{}, err
	}
	r.Problems = append(r.Problems, found...)
	r.Finish()
	return r, nil
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
