package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/execute"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/store"
)

// selectBatch is how many subjects are recorded at once: the selection
// holds no more than this many in memory, however many rows it reads.
const selectBatch = 500

// Target is one collection a selection reads: where the affected
// categories lie, which fields tell whose row it is, and the time field
// the window narrows by ("" when none: every row counts).
type Target struct {
	Datastore  string   `json:"datastore"`
	Collection string   `json:"collection"`
	Identities []string `json:"identities"`
	Clock      string   `json:"clock,omitempty"`
}

// Targets lists the collections of the datastores that hold a category
// the incident reached, in the annotation's order.
func Targets(i Incident, stores []execute.Store) []Target {
	var out []Target
	for _, st := range stores {
		if !i.CoversDatastore(st.DS.ID) {
			continue
		}
		for _, c := range st.DS.Collections {
			if !slices.ContainsFunc(c.Fields, func(f dataset.Field) bool { return slices.ContainsFunc(f.Categories, i.CoversCategory) }) {
				continue
			}
			t := Target{Datastore: st.DS.ID, Collection: c.Name, Clock: clockOf(c)}
			for _, f := range c.Fields {
				if f.Identity != "" {
					t.Identities = append(t.Identities, f.Name)
				}
			}
			out = append(out, t)
		}
	}
	return out
}

// clockOf is the collection's time field: the clock its retention runs
// from, which says when each row's data came to be.
func clockOf(c dataset.Collection) string {
	for _, r := range c.Retention {
		if r.Clock != "" {
			if _, ok := c.Field(r.Clock); ok {
				return r.Clock
			}
		}
	}
	return ""
}

// Select finds the people the incident affects and records them for its
// notices: the rows of every collection holding an affected category in
// an affected datastore, within the window where the collection has a
// time field, mapped to subjects through their identity fields as Custos
// hashes them; and the subjects whose vault values of an affected
// category were written in the window. Rows are read one at a time and
// subjects recorded in batches, so memory stays flat.
func (s *Service) Select(ctx context.Context, i Incident) (Affected, error) {
	aff := Affected{SelectedAt: s.opt.Now().UTC().Truncate(time.Microsecond)}
	batch := make([]string, 0, selectBatch)
	seen := map[string]bool{} // this batch's, so a person's many rows are recorded once per batch
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.st.AddIncidentSubjects(ctx, i.ID, batch)
		batch, seen = batch[:0], map[string]bool{}
		return err
	}
	add := func(subject string) error {
		if seen[subject] {
			return nil
		}
		seen[subject] = true
		batch = append(batch, subject)
		if len(batch) >= selectBatch {
			return flush()
		}
		return nil
	}
	for _, st := range s.opt.Datastores {
		for _, t := range Targets(i, []execute.Store{st}) {
			if t.Clock == "" && (i.Window.From != nil || i.Window.To != nil) {
				aff.Unwindowed = append(aff.Unwindowed, t.Datastore+"."+t.Collection)
			}
			c, _ := collection(st.DS, t.Collection)
			if err := s.readTarget(ctx, st, c, t, i.Window, &aff, add); err != nil {
				return Affected{}, err
			}
		}
	}
	if err := s.selectVault(ctx, i, &aff, add); err != nil {
		return Affected{}, err
	}
	if err := flush(); err != nil {
		return Affected{}, err
	}
	n, err := s.st.CountIncidentSubjects(ctx, i.ID)
	if err != nil {
		return Affected{}, err
	}
	aff.Subjects = n
	return aff, nil
}

func collection(ds *dataset.Datastore, name string) (dataset.Collection, bool) {
	for _, c := range ds.Collections {
		if c.Name == name {
			return c, true
		}
	}
	return dataset.Collection{}, false
}

// readTarget streams the target's rows in the window and maps each to a
// subject.
func (s *Service) readTarget(ctx context.Context, st execute.Store, c dataset.Collection, t Target, w Window, aff *Affected, add func(string) error) error {
	if len(t.Identities) == 0 {
		// Rows that name no one: counted, tied to no subject.
		n, err := countRows(ctx, st, t, w)
		aff.Rows += n
		aff.Unknown += n
		return err
	}
	cols := make([]string, len(t.Identities))
	kinds := make([]string, len(t.Identities))
	for k, name := range t.Identities {
		cols[k] = connector.Quote(st.Kind, name)
		f, _ := c.Field(name)
		kinds[k] = f.Identity
	}
	where, args := windowClause(st.Kind, t.Clock, w)
	rows, err := st.DB.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+connector.Quote(st.Kind, t.Collection)+where, args...)
	if err != nil {
		return fmt.Errorf("incident: read %s.%s: %w", t.Datastore, t.Collection, err)
	}
	defer rows.Close()
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for k := range vals {
		ptrs[k] = &vals[k]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("incident: read %s.%s: %w", t.Datastore, t.Collection, err)
		}
		aff.Rows++
		subject, err := s.subjectOf(ctx, kinds, vals)
		if err != nil {
			return err
		}
		if subject == "" {
			aff.Unknown++
			continue
		}
		if err := add(subject); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("incident: read %s.%s: %w", t.Datastore, t.Collection, err)
	}
	return nil
}

func countRows(ctx context.Context, st execute.Store, t Target, w Window) (int64, error) {
	where, args := windowClause(st.Kind, t.Clock, w)
	var n int64
	err := st.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+connector.Quote(st.Kind, t.Collection)+where, args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("incident: count %s.%s: %w", t.Datastore, t.Collection, err)
	}
	return n, nil
}

// windowClause is the WHERE clause that keeps the rows whose time field
// lies in the window: the way retention sweeps compare it (SQLite keeps
// times as text in several spellings; julianday reads them all).
func windowClause(kind connector.Kind, clock string, w Window) (string, []any) {
	if clock == "" {
		return "", nil
	}
	col := connector.Quote(kind, clock)
	var conds []string
	var args []any
	bound := func(op string, t time.Time) {
		args = append(args, timeArg(kind, t))
		ph := "?"
		if kind == connector.Postgres {
			ph = fmt.Sprintf("$%d", len(args))
		}
		if kind == connector.SQLite {
			conds = append(conds, "julianday("+col+") "+op+" julianday("+ph+")")
		} else {
			conds = append(conds, col+" "+op+" "+ph)
		}
	}
	if w.From != nil {
		bound(">=", *w.From)
	}
	if w.To != nil {
		bound("<", *w.To)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func timeArg(kind connector.Kind, t time.Time) any {
	if kind == connector.SQLite {
		return t.UTC().Format("2006-01-02 15:04:05.000")
	}
	return t.UTC()
}

// subjectOf maps a row's identity values to the subject Custos knows
// them by: a user_id is the subject's own id; any identity is looked up
// by its keyed hash, as rights requests find people. "" when none is known.
func (s *Service) subjectOf(ctx context.Context, kinds []string, vals []sql.NullString) (string, error) {
	for k, v := range vals {
		if !v.Valid || v.String == "" {
			continue
		}
		kind := kinds[k]
		if kind == dataset.IdentityUserID {
			_, err := s.st.Subject(ctx, v.String)
			if err == nil {
				return v.String, nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return "", err
			}
		}
		if s.opt.Hasher == nil {
			continue
		}
		norm, err := identity.Normalize(kind, v.String)
		if err != nil {
			continue // a malformed value names no one Custos knows
		}
		id, err := s.st.SubjectByIdentity(ctx, s.opt.Hasher.Hash(kind, norm))
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
	}
	return "", nil
}

// selectVault adds the subjects whose vault values of an affected
// category were written in the window: Custos's own records.
func (s *Service) selectVault(ctx context.Context, i Incident, aff *Affected, add func(string) error) error {
	m, err := s.policy(ctx)
	if err != nil || m == nil {
		return err
	}
	var from, to time.Time
	if i.Window.From != nil {
		from = *i.Window.From
	}
	if i.Window.To != nil {
		to = *i.Window.To
	}
	for _, f := range m.Vault {
		if !i.CoversCategory(f.Category) {
			continue
		}
		if err := s.st.VaultSubjects(ctx, f.Field, from, to, func(id string) error {
			aff.Vault++
			return add(id)
		}); err != nil {
			return err
		}
	}
	return nil
}
