package notify

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"
)

// MemOutbox is an Outbox in memory, for tests. The zero value is ready to
// use, and it is safe for concurrent use. It hands out and keeps copies, so
// a caller changing a Delivery it holds does not change the outbox.
type MemOutbox struct {
	mu   sync.Mutex
	byID map[string]Delivery
}

// Enqueue implements Outbox.
func (o *MemOutbox) Enqueue(ctx context.Context, d Delivery) error {
	if d.ID == "" {
		return errors.New("notify: enqueue: delivery has no id")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.byID == nil {
		o.byID = map[string]Delivery{}
	}
	if _, ok := o.byID[d.ID]; ok {
		return ErrDuplicate
	}
	if d.Status == "" {
		d.Status = StatusPending
	}
	o.byID[d.ID] = clone(d)
	return nil
}

// Due implements Outbox. A limit <= 0 means no limit.
func (o *MemOutbox) Due(ctx context.Context, now time.Time, limit int) ([]Delivery, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var due []Delivery
	for _, d := range o.byID {
		if d.Status == StatusPending && !d.NextAt.After(now) {
			due = append(due, clone(d))
		}
	}
	slices.SortFunc(due, func(a, b Delivery) int {
		return cmp.Or(a.NextAt.Compare(b.NextAt), cmp.Compare(a.ID, b.ID))
	})
	if limit > 0 && len(due) > limit {
		due = due[:limit]
	}
	return due, nil
}

// MarkSent implements Outbox.
func (o *MemOutbox) MarkSent(ctx context.Context, id string, at time.Time) error {
	return o.update(id, func(d *Delivery) {
		d.Attempts++
		d.Status = StatusSent
		d.SentAt = at
		d.LastError = ""
	})
}

// MarkFailed implements Outbox.
func (o *MemOutbox) MarkFailed(ctx context.Context, id string, attempts int, next time.Time, dead bool, reason string) error {
	return o.update(id, func(d *Delivery) {
		d.Attempts = attempts
		d.NextAt = next
		d.Status = StatusPending
		if dead {
			d.Status = StatusDead
		}
		d.LastError = reason
	})
}

// Settled implements Outbox.
func (o *MemOutbox) Settled(ctx context.Context, before time.Time, limit int) ([]string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var ids []string
	for _, id := range slices.Sorted(maps.Keys(o.byID)) {
		d := o.byID[id]
		at := d.SentAt
		if d.Status == StatusDead {
			at = d.NextAt
		}
		if d.Status != StatusPending && len(d.Sealed) > 0 && at.Before(before) {
			ids = append(ids, id)
		}
	}
	if limit > 0 && len(ids) > limit {
		ids = ids[:limit]
	}
	return ids, nil
}

// Forget implements Outbox.
func (o *MemOutbox) Forget(ctx context.Context, ids []string) error {
	for _, id := range ids {
		if err := o.update(id, func(d *Delivery) { d.Sealed = nil }); err != nil {
			return err
		}
	}
	return nil
}

// Get returns one delivery.
func (o *MemOutbox) Get(id string) (Delivery, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	d, ok := o.byID[id]
	if !ok {
		return Delivery{}, ErrNotFound
	}
	return clone(d), nil
}

// All returns every delivery, in id order (which is creation order for ids
// from NewDelivery).
func (o *MemOutbox) All() []Delivery {
	o.mu.Lock()
	defer o.mu.Unlock()
	all := make([]Delivery, 0, len(o.byID))
	for _, id := range slices.Sorted(maps.Keys(o.byID)) {
		all = append(all, clone(o.byID[id]))
	}
	return all
}

func (o *MemOutbox) update(id string, f func(*Delivery)) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	d, ok := o.byID[id]
	if !ok {
		return ErrNotFound
	}
	f(&d)
	o.byID[id] = d
	return nil
}

func clone(d Delivery) Delivery {
	d.Sealed = bytes.Clone(d.Sealed)
	return d
}
