package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// Write is one unit of change: an optional function run inside the
// transaction, ledger events to append and audit entries to chain. A Write
// is durable when Submit returns nil.
type Write struct {
	// Fn runs first, inside the transaction. It must be safe to run again:
	// when a batch fails, each of its writes is retried alone.
	Fn     func(ctx context.Context, tx *sql.Tx) error
	Events []ConsentEvent
	Audit  []audit.Entry

	ctx  context.Context
	done chan error
	// st is the handle the write was submitted through: its events and
	// entries go on that organisation's chains.
	st *Store
}

// maxBatch bounds a group commit by default; it keeps statements under
// every driver's parameter limit and a lock's hold time short.
const maxBatch = 256

// lingerBatch bounds a batch of queued-only writes (decision records).
// It is larger than maxBatch: with many organisations, each commit dirties
// an index page of every organisation's trail it touches, and more
// records per commit spread that cost (measured: 100 organisations, +16%
// decisions/s; one organisation, unchanged).
const lingerBatch = 1024

type writer struct {
	s      *Store
	batch  int
	ch     chan *Write
	quit   chan struct{}
	wg     sync.WaitGroup
	closed sync.Once

	mu      sync.Mutex
	onApply []hook
	hooks   uint64 // hooks registered, for their ids

	// sendMu lets close wait for sends in progress; after it, nothing is
	// sent, so the writer's final drain answers every accepted write.
	sendMu  sync.RWMutex
	stopped bool

	dropped atomic.Int64 // queued writes that failed (see drop)
}

func newWriter(s *Store, batch int) *writer {
	if batch <= 0 || batch > maxBatch {
		batch = maxBatch
	}
	w := &writer{s: s, batch: batch, ch: make(chan *Write, 4*maxBatch), quit: make(chan struct{})}
	w.wg.Add(1)
	go w.run()
	return w
}

func (w *writer) close() {
	w.closed.Do(func() {
		w.sendMu.Lock()
		w.stopped = true
		w.sendMu.Unlock()
		close(w.quit)
		w.wg.Wait()
	})
}

// ErrClosed is returned for writes submitted after Close.
var ErrClosed = errors.New("store closed")

// Org is the organisation the write was submitted for: hooks given
// committed writes (OnApply) use it to keep to their own organisation.
func (w *Write) Org() string {
	if w.st == nil {
		return ""
	}
	return w.st.org
}

// Submit queues wr, waits until it is committed and returns its outcome.
// Concurrent writes are committed together: one transaction, one sync.
func (s *Store) Submit(ctx context.Context, wr *Write) error {
	wr.ctx = context.WithoutCancel(ctx)
	wr.st = s
	wr.done = make(chan error, 1)
	if err := s.writer.send(ctx, wr); err != nil {
		return err
	}
	select {
	case err := <-wr.done:
		return err
	case <-ctx.Done():
		// The write may still commit; the caller cannot know, as with any
		// timed-out request.
		return ctx.Err()
	}
}

// Enqueue queues wr without waiting (sampled decision records). It blocks
// only when the queue is full, which pushes back on callers instead of
// dropping entries.
func (s *Store) Enqueue(ctx context.Context, wr *Write) error {
	wr.ctx = context.WithoutCancel(ctx)
	wr.st = s
	return s.writer.send(ctx, wr)
}

func (w *writer) send(ctx context.Context, wr *Write) error {
	w.sendMu.RLock()
	defer w.sendMu.RUnlock()
	if w.stopped {
		return ErrClosed
	}
	select {
	case w.ch <- wr:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// hook is a function told of the committed writes of one organisation.
type hook struct {
	org string
	fn  func([]*Write)
	id  uint64
}

// OnApply registers fn to be called with the writes of every committed
// batch that are this handle's organisation's, in commit order, before the
// writers are told. Caches hook here: a cache of one organisation's
// subjects is never told of another's, whose ids may be the same. remove
// takes fn off again (a service that is given up).
func (s *Store) OnApply(fn func([]*Write)) (remove func()) {
	w := s.writer
	w.mu.Lock()
	defer w.mu.Unlock()
	w.hooks++
	id := w.hooks
	// A new slice: apply reads the old one without the lock.
	w.onApply = append(slices.Clip(w.onApply), hook{org: s.org, fn: fn, id: id})
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.onApply = slices.DeleteFunc(slices.Clone(w.onApply), func(h hook) bool { return h.id == id })
	}
}

func (w *writer) run() {
	defer w.wg.Done()
	batch := make([]*Write, 0, w.batch)
	for {
		var first *Write
		select {
		case first = <-w.ch:
		case <-w.quit:
			// Drain what was queued before closing: it was accepted.
			for {
				select {
				case wr := <-w.ch:
					w.apply([]*Write{wr})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
		waited := first.done != nil
	fill:
		for len(batch) < w.batch {
			select {
			case wr := <-w.ch:
				batch = append(batch, wr)
				waited = waited || wr.done != nil
			default:
				break fill
			}
		}
		if !waited {
			batch = w.linger(batch)
		}
		w.apply(batch)
	}
}

// lingerFor is how long a batch of queued-only writes (decision records)
// waits for company. Nobody waits on them, so fewer, larger commits cost
// the decision path nothing and spare the disk a sync per handful. With
// many organisations each commit also writes an index page of every
// organisation's trail it touches, so the records an organisation gets
// per commit matter: 200 ms rather than 50 cut the server's CPU per
// decision by 8% with 100 organisations (custos bench check --orgs 100
// --vs-one-org) and left one organisation's as it was. A crash loses at
// most this long's records; a shutdown writes them.
const lingerFor = 200 * time.Millisecond

// linger adds writes to a batch of unawaited ones until it is full, an
// awaited write arrives (which must not be delayed), lingerFor passes or
// the store closes.
func (w *writer) linger(batch []*Write) []*Write {
	t := time.NewTimer(lingerFor)
	defer t.Stop()
	for len(batch) < lingerBatch {
		select {
		case wr := <-w.ch:
			batch = append(batch, wr)
			if wr.done != nil {
				return batch
			}
		case <-t.C:
			return batch
		case <-w.quit:
			return batch
		}
	}
	return batch
}

func (w *writer) apply(batch []*Write) {
	err := w.commitRetry(batch)
	if err != nil && len(batch) > 1 {
		// One bad write must not fail its neighbours: retry each alone.
		for _, wr := range batch {
			w.apply([]*Write{wr})
		}
		return
	}
	if err == nil {
		w.mu.Lock()
		hooks := w.onApply
		w.mu.Unlock()
		if len(hooks) > 0 {
			own := byOrganisation(batch)
			for _, h := range hooks {
				if ws := own[h.org]; len(ws) > 0 {
					h.fn(ws)
				}
			}
		}
	}
	for _, wr := range batch {
		if wr.done != nil {
			wr.done <- err
		} else if err != nil {
			w.drop(wr, err)
		}
	}
}

// byOrganisation is the writes of batch by organisation, each in batch
// order: the whole batch, without copying, when it is one organisation's,
// as it mostly is. The batch is grouped once, not once per hook: a
// deployment of many organisations has hooks of each, and a batch of
// decision records spans them all.
func byOrganisation(batch []*Write) map[string][]*Write {
	org := batch[0].st.org
	for i, wr := range batch {
		if wr.st.org != org {
			own := map[string][]*Write{org: slices.Clone(batch[:i])}
			for _, wr := range batch[i:] {
				own[wr.st.org] = append(own[wr.st.org], wr)
			}
			return own
		}
	}
	return map[string][]*Write{org: batch}
}

func (w *writer) commitRetry(batch []*Write) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = w.commit(batch)
		if !errors.Is(err, ErrBusy) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return err
}

func (w *writer) commit(batch []*Write) error {
	// Each organisation's writes go on its own chains, in batch order.
	var orgs []string
	byOrg := map[string][]*Write{}
	for _, wr := range batch {
		if _, ok := byOrg[wr.st.org]; !ok {
			orgs = append(orgs, wr.st.org)
		}
		byOrg[wr.st.org] = append(byOrg[wr.st.org], wr)
	}
	s := w.s
	ctx := batch[0].ctx
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// The transaction is scoped to one organisation at a time, for
		// row-level security on PostgreSQL.
		scoped := s.org
		scope := func(org string) error {
			if org == scoped {
				return nil
			}
			scoped = org
			return s.scope(ctx, tx, org)
		}
		if s.dialect == Postgres {
			// Lock the heads of the organisations written to, in one
			// order, so that instances sharing the database chain each
			// organisation's writes in commit order without deadlocking.
			for _, org := range slices.Sorted(slices.Values(orgs)) {
				if err := scope(org); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `SELECT seq FROM audit_head WHERE org_id = $1 FOR UPDATE`, org); err != nil {
					return fmt.Errorf("lock audit head: %w", mapErr(err))
				}
			}
		}
		for _, wr := range batch {
			if wr.Fn != nil {
				if err := scope(wr.st.org); err != nil {
					return err
				}
				if err := wr.Fn(wr.ctx, tx); err != nil {
					return err
				}
			}
		}
		var trails []trail
		for _, org := range orgs {
			writes := byOrg[org]
			var events []*ConsentEvent
			t := trail{st: writes[0].st}
			for _, wr := range writes {
				for i := range wr.Events {
					events = append(events, &wr.Events[i])
				}
				for i := range wr.Audit {
					t.entries = append(t.entries, &wr.Audit[i])
				}
			}
			if len(events) > 0 {
				if err := scope(org); err != nil {
					return err
				}
				if err := t.st.insertEvents(ctx, tx, events); err != nil {
					return err
				}
			}
			if len(t.entries) > 0 {
				trails = append(trails, t)
			}
		}
		if s.dialect != Postgres {
			// Without row-level security one statement may write several
			// organisations' rows, each naming its own: a batch of many
			// organisations' decision records costs what one's does.
			return s.appendAudit(ctx, tx, trails)
		}
		// Row-level security confines a statement to the organisation the
		// transaction is scoped to: one organisation at a time.
		for _, t := range trails {
			if err := scope(t.st.org); err != nil {
				return err
			}
			if err := s.appendAudit(ctx, tx, []trail{t}); err != nil {
				return err
			}
			// Other instances poll on a ticker; this wakes them at commit (Listen).
			if notifies(t.entries) {
				if err := s.notifyChanges(ctx, tx, t.st.org); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// values builds "(?, ?, …), (?, ?, …)" for rows × cols placeholders.
func values(rows, cols int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

// chunkRows is how many rows go in one multi-row statement.
const chunkRows = 256

func (s *Store) insertEvents(ctx context.Context, tx *sql.Tx, events []*ConsentEvent) error {
	if len(events) == 0 {
		return nil
	}
	// Writers are serialised (one SQLite writer; the audit head lock on
	// PostgreSQL), so numbering and chaining here from the ledger head gives
	// sequence numbers in commit order and lets the caller learn them
	// without a round trip per row.
	head, err := s.readLedgerHead(ctx, tx)
	if err != nil {
		return err
	}
	if err := s.checkKey("consent ledger", head.keyID); err != nil {
		return err
	}
	prev := head.hash
	for i, e := range events {
		e.Seq = head.seq + int64(i) + 1
		e.Prev = prev
		e.Hash = ledgerSum(s.auditKey, prev, e)
		prev = e.Hash
	}
	for start := 0; start < len(events); start += chunkRows {
		part := events[start:min(start+chunkRows, len(events))]
		args := make([]any, 0, len(part)*18)
		for _, e := range part {
			args = append(args, s.org, e.Seq, e.ID, e.SubjectID, e.Purpose, e.Action, e.VersionSeq, e.Method, e.Language,
				e.NoticeHash, boolInt(e.Separate), nullString(e.GuardianID), e.Signal, e.Evidence, e.Actor, micros(e.At), e.Prev, e.Hash)
		}
		q := `INSERT INTO consent_events (org_id, ` + consentCols + `, prev_hash, hash) VALUES ` + values(len(part), 18)
		if _, err := tx.ExecContext(ctx, s.q(q), args...); err != nil {
			return fmt.Errorf("insert consent events: %w", mapErr(err))
		}
	}
	last := events[len(events)-1]
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE ledger_head SET seq = ?, hash = ?, key_id = ? WHERE org_id = ?`), last.Seq, last.Hash, s.keyID, s.org); err != nil {
		return fmt.Errorf("advance ledger head: %w", mapErr(err))
	}
	// The current state per subject and ledger key: the last event wins. One
	// statement cannot update the same row twice, so keep only the last.
	latest := map[[2]string]*ConsentEvent{}
	var order [][2]string
	for _, e := range events {
		k := [2]string{e.SubjectID, e.Purpose}
		if _, ok := latest[k]; !ok {
			order = append(order, k)
		}
		latest[k] = e
	}
	for start := 0; start < len(order); start += chunkRows {
		part := order[start:min(start+chunkRows, len(order))]
		args := make([]any, 0, len(part)*8)
		for _, k := range part {
			e := latest[k]
			st := stateOf(e)
			args = append(args, s.org, e.SubjectID, st.Purpose, st.Action, boolInt(st.Granted), boolInt(st.ByGuardian), st.VersionSeq, st.EventID)
		}
		q := `INSERT INTO consent_state (org_id, subject_id, purpose, action, granted, by_guardian, version_seq, event_id) VALUES ` + values(len(part), 8) +
			` ON CONFLICT (org_id, subject_id, purpose) DO UPDATE SET action = excluded.action, granted = excluded.granted, by_guardian = excluded.by_guardian, version_seq = excluded.version_seq, event_id = excluded.event_id`
		if _, err := tx.ExecContext(ctx, s.q(q), args...); err != nil {
			return fmt.Errorf("update consent state: %w", mapErr(err))
		}
	}
	return nil
}

// trail is one organisation's audit entries of a batch: st is the handle
// they were submitted through, whose chain key links them.
type trail struct {
	st      *Store
	entries []*audit.Entry
}

// appendAudit chains each trail's entries onto its organisation's audit
// trail, reading and advancing all their heads in one statement each.
// Reading the heads with FOR UPDATE serialises appends across every
// instance sharing a PostgreSQL database, so sequence order is commit
// order.
func (s *Store) appendAudit(ctx context.Context, tx *sql.Tx, trails []trail) error {
	if len(trails) == 0 {
		return nil
	}
	orgs := make([]any, len(trails))
	for i, t := range trails {
		orgs[i] = t.st.org
	}
	head := `SELECT org_id, seq, hash, key_id FROM audit_head WHERE org_id IN ` + values(1, len(trails))
	if s.dialect == Postgres {
		head += ` FOR UPDATE`
	}
	rows, err := tx.QueryContext(ctx, s.q(head), orgs...)
	if err != nil {
		return fmt.Errorf("read audit heads: %w", mapErr(err))
	}
	type chainHead struct {
		chain audit.Chain
		keyID string
	}
	heads := make(map[string]chainHead, len(trails))
	for rows.Next() {
		var org string
		var h chainHead
		if err := rows.Scan(&org, &h.chain.Seq, &h.chain.Hash, &h.keyID); err != nil {
			rows.Close()
			return fmt.Errorf("read audit heads: %w", mapErr(err))
		}
		heads[org] = h
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("read audit heads: %w", mapErr(err))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read audit heads: %w", mapErr(err))
	}
	var all []*audit.Entry
	var org []any // each entry's organisation, in the order of all
	headArgs := make([]any, 0, 4*len(trails))
	for _, t := range trails {
		h, ok := heads[t.st.org]
		if !ok {
			return fmt.Errorf("read audit head of organisation %q: %w", t.st.org, ErrNotFound)
		}
		if err := t.st.checkKey("audit trail", h.keyID); err != nil {
			return err
		}
		c := h.chain
		c.Key = t.st.auditKey
		for _, e := range t.entries {
			c.Link(e)
			all = append(all, e)
			org = append(org, t.st.org)
		}
		headArgs = append(headArgs, t.st.org, c.Seq, c.Hash, t.st.keyID)
	}
	for start := 0; start < len(all); start += chunkRows {
		part := all[start:min(start+chunkRows, len(all))]
		args := make([]any, 0, len(part)*13)
		for i, e := range part {
			args = append(args, org[start+i], e.Seq, micros(e.At), e.Actor, e.Role, e.Place, e.Action, e.Object, e.Purpose, e.Outcome, e.Detail, e.Prev, e.Hash)
		}
		q := `INSERT INTO audit_log (org_id, seq, at, actor, role, place, action, object, purpose, outcome, detail, prev_hash, hash) VALUES ` + values(len(part), 13)
		if _, err := tx.ExecContext(ctx, s.q(q), args...); err != nil {
			return fmt.Errorf("append audit: %w", mapErr(err))
		}
	}
	// Every head exists (read above), so this only ever updates.
	q := `INSERT INTO audit_head (org_id, seq, hash, key_id) VALUES ` + values(len(trails), 4) +
		` ON CONFLICT (org_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, key_id = excluded.key_id`
	if _, err := tx.ExecContext(ctx, s.q(q), headArgs...); err != nil {
		return fmt.Errorf("advance audit heads: %w", mapErr(err))
	}
	return nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
