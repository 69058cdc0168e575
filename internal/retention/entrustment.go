package retention

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/execute"
)

// ActionEntrustmentEnd is the audit action of deleting, collection by
// collection, what the organisation held as a processor for a customer
// whose entrustment ended.
const ActionEntrustmentEnd = "retention.entrustment_end"

// CustomerRows is one collection a processor keeps for its customers
// (dataset held_for) and the rows in it held for one customer.
type CustomerRows struct {
	Datastore  string `json:"datastore"`
	Collection string `json:"collection"`
	Field      string `json:"field"` // the held_for field
	Rows       int64  `json:"rows"`  // rows held for the customer now
	Held       int64  `json:"held"`  // of those, rows a legal hold keeps

	store, coll int
}

func (c CustomerRows) target(entrustment string) Target {
	return Target{Rule: "entrustment:" + entrustment, Datastore: c.Datastore, Collection: c.Collection, Action: dataset.ActionDelete, store: c.store, coll: c.coll}
}

func (c CustomerRows) sweep(stores []execute.Store, key string, batch int) execute.Sweep {
	st := stores[c.store]
	return execute.Sweep{Kind: st.Kind, Collection: st.DS.Collections[c.coll], Action: dataset.ActionDelete, Batch: batch,
		Match: execute.Match{Field: c.Field, Value: key}}
}

// HeldForCustomer lists every collection the organisation keeps for its
// customers and counts the rows in each held for the customer whose key
// is key. Nothing is changed. A hold on a collection, or on a person (the
// rows are not read person by person here), keeps the whole collection.
func (s *Service) HeldForCustomer(ctx context.Context, key string) ([]CustomerRows, error) {
	if key == "" {
		return nil, errors.New("retention: rows held for a customer: the entrustment has no customer key")
	}
	hs, err := s.activeHolds(ctx, s.opt.Now())
	if err != nil {
		return nil, err
	}
	out := []CustomerRows{}
	for si, st := range s.opt.Datastores {
		for ci, c := range st.DS.Collections {
			if c.HeldFor == "" {
				continue
			}
			cr := CustomerRows{Datastore: st.DS.ID, Collection: c.Name, Field: c.HeldFor, store: si, coll: ci}
			n, err := cr.sweep(s.opt.Datastores, key, s.opt.Batch).Count(ctx, st.DB)
			if err != nil {
				return nil, fmt.Errorf("retention: rows held for the customer in %s.%s: %w", st.DS.ID, c.Name, err)
			}
			cr.Rows = n.Due
			if h := holdsFor(cr.target(""), s.opt.Datastores, hs); len(h.ids) > 0 {
				cr.Held = n.Due
			}
			out = append(out, cr)
		}
	}
	return out, nil
}

// Returns opens where the rows of one collection are handed back to the
// customer; the writer is closed before a single row of it is deleted.
type Returns func(datastore, collection string) (io.WriteCloser, error)

// EndEntrustment carries out, in the organisation's own databases, the
// controller's instruction at the end of an entrustment in which the
// organisation was the processor: every row held for the customer whose
// key is key (the collections its dataset marks held_for) is deleted,
// collection by collection in bounded batches. With ret (the instruction
// was to return the data) each collection's rows are first written to
// ret's writer as JSON Lines, every annotated field, and deleted only
// once that writer has closed without error. A collection a hold covers
// is left whole and reported held. Like a sweep it holds the
// organisation's sweep, audits each collection, records the run and
// certifies what it deleted; stopped anywhere and run again, it carries
// on (deleted rows are gone, a return writes what is left).
func (s *Service) EndEntrustment(ctx context.Context, a audit.Actor, entrustment, key string, ret Returns) (Report, error) {
	plan, err := s.HeldForCustomer(ctx, key)
	if err != nil {
		return Report{}, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "custos entrustment end v1\n%s\n", entrustment)
	for _, c := range plan {
		fmt.Fprintf(h, "%s\x00%s\x00%s\n", c.Datastore, c.Collection, c.Field)
	}
	rep := Report{Run: newRunID(), Instance: s.opt.Instance, Started: s.opt.Now().UTC(), PlanHash: hex.EncodeToString(h.Sum(nil)), Results: []Result{}}
	if err := s.start(ctx, rep); err != nil {
		return rep, err
	}
	for _, c := range plan {
		res := Result{Target: c.target(entrustment), Started: s.opt.Now().UTC(), Held: c.Held, Whole: c.Held > 0}
		if c.Held == 0 && c.Rows > 0 {
			sw := c.sweep(s.opt.Datastores, key, s.opt.Batch)
			db := s.opt.Datastores[c.store].DB
			if ret != nil {
				err = returnRows(ctx, sw, db, ret, c)
			}
			if err == nil {
				var r execute.SweepResult
				r, err = sw.Run(ctx, db, nil)
				res.Rows = r.Rows
			}
		}
		res.Finished = s.opt.Now().UTC()
		rep.Results = append(rep.Results, res)
		e := audit.NewEntry(s.opt.Now(), a, ActionEntrustmentEnd, "entrustment:"+entrustment, "retention", outcomeOf(err),
			map[string]any{"run": rep.Run, "datastore": c.Datastore, "collection": c.Collection, "returned": ret != nil, "rows": res.Rows, "held": res.Held})
		if rerr := s.st.RenewRetentionRun(context.WithoutCancel(ctx), rep.Run, s.opt.Now().Add(LeaseTTL), e); rerr != nil && err == nil {
			err = rerr
		}
		if err != nil {
			break
		}
	}
	return rep, s.finish(ctx, a, &rep, err)
}

// returnRows writes the rows sw would delete to ret's writer for c, one
// JSON object a line, and closes it.
func returnRows(ctx context.Context, sw execute.Sweep, db *sql.DB, ret Returns, c CustomerRows) error {
	w, err := ret(c.Datastore, c.Collection)
	if err != nil {
		return fmt.Errorf("retention: return %s.%s: %w", c.Datastore, c.Collection, err)
	}
	enc := json.NewEncoder(w)
	err = sw.Each(ctx, db, func(row map[string]any) error { return enc.Encode(row) })
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("retention: return %s.%s: %w", c.Datastore, c.Collection, err)
	}
	return nil
}
