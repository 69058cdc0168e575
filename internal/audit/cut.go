package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"time"
)

// ActionCut is the entry each batch of a cut leaves on the trail.
const ActionCut = "audit.cut"

// cutBatch is how many entries one transaction of a cut deletes.
const cutBatch = 1000

// ErrNoCheckpoints is returned by Cut for a trail whose signed checkpoints
// cannot be read back: nothing could vouch for what would be cut.
var ErrNoCheckpoints = errors.New("the trail is cut only at a signed checkpoint, and none can be read (checkpoints to a file)")

// ErrCheckpointMismatch is returned by Cut when the trail no longer holds
// the entry a signed checkpoint recorded: the trail was changed, and
// cutting would hide it.
var ErrCheckpointMismatch = errors.New("the trail does not match a signed checkpoint: run custos audit verify")

// cutter is a TrailStore that can cut the trail's beginning (the store).
type cutter interface {
	AuditStart(ctx context.Context) (start Chain, ok bool, err error)
	CutAudit(ctx context.Context, at Chain, limit int, now time.Time, entry func(n int64) Entry) (int64, error)
}

// Cut is what a cut of the trail did.
type Cut struct {
	// Start is the entry the kept trail begins after: the last one cut
	// (0 when nothing was ever cut).
	Start int64 `json:"start"`
	// Deleted counts the entries deleted by this call.
	Deleted int64 `json:"deleted"`
}

// Cut deletes the beginning of the trail, up to the last signed checkpoint
// whose entry was written before `before`, keeping the first entry and the
// key rotations (see store.Store.CutAudit), in batches, each with an
// ActionCut entry by a. The checkpoint must still match the trail
// (ErrCheckpointMismatch). A cut that a crash interrupted goes on from the
// recorded start. Retention decides before; legal holds are the caller's
// to respect.
func (t *Trail) Cut(ctx context.Context, a Actor, before, now time.Time) (Cut, error) {
	st, ok := t.st.(cutter)
	if !ok {
		return Cut{}, errors.New("cut the trail: this store cannot")
	}
	if t.anchors == nil {
		return Cut{}, ErrNoCheckpoints
	}
	anchors, _, err := t.anchors(ctx) // checkpoints with bad signatures are not among them
	if err != nil {
		return Cut{}, fmt.Errorf("cut the trail: %w", err)
	}
	start, _, err := st.AuditStart(ctx)
	if err != nil {
		return Cut{}, err
	}
	at, err := t.lastBefore(ctx, anchors.Trail, start, before)
	if err != nil {
		return Cut{}, err
	}
	if at.Seq <= start.Seq {
		at = start // nothing new to cut; finish what a crash left
	}
	out := Cut{Start: at.Seq}
	if at.Seq == 0 {
		return out, nil
	}
	entry := func(n int64) Entry {
		return NewEntry(now, a, ActionCut, "audit", "retention", OutcomeOK,
			map[string]any{"count": n, "start": at.Seq, "before": before.UTC()})
	}
	for {
		n, err := st.CutAudit(ctx, at, cutBatch, now, entry)
		out.Deleted += n
		if err != nil {
			return out, fmt.Errorf("cut the trail: %w", err)
		}
		if n < cutBatch {
			return out, nil
		}
	}
}

// lastBefore is, among the signed checkpoints of the trail, the last whose
// entry was written before `before`; the zero Chain when there is none
// after start. Entries are written in time order, so a binary search over
// the checkpoints reads a handful of entries however many there are.
func (t *Trail) lastBefore(ctx context.Context, anchors []Anchor, start Chain, before time.Time) (Chain, error) {
	anchors = append([]Anchor(nil), anchors...)
	sort.Slice(anchors, func(i, j int) bool { return anchors[i].Seq < anchors[j].Seq })
	var ferr error
	entryAt := func(seq int64) (*Entry, error) {
		es, err := t.st.AuditEntries(ctx, Filter{After: seq - 1, Limit: 1})
		if err != nil || len(es) == 0 || es[0].Seq != seq {
			return nil, err
		}
		return &es[0], nil
	}
	// old(i): checkpoint i's entry is older than before (or already cut).
	old := func(i int) bool {
		if ferr != nil || anchors[i].Seq <= start.Seq {
			return true
		}
		e, err := entryAt(anchors[i].Seq)
		if err != nil {
			ferr = err
			return true
		}
		return e != nil && e.At.Before(before)
	}
	i := sort.Search(len(anchors), func(i int) bool { return !old(i) }) - 1
	if ferr != nil {
		return Chain{}, ferr
	}
	if i < 0 || anchors[i].Seq <= start.Seq {
		return Chain{}, nil
	}
	a := anchors[i]
	e, err := entryAt(a.Seq)
	if err != nil {
		return Chain{}, err
	}
	if e == nil || !bytes.Equal(e.Hash, a.Hash) {
		return Chain{}, fmt.Errorf("cut the trail at entry %d (%s): %w", a.Seq, a.From, ErrCheckpointMismatch)
	}
	return Chain{Seq: a.Seq, Hash: a.Hash}, nil
}
