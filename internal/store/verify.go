package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/jackc/pgx/v5/pgtype"
)

// Verification reads chains of a hundred million links and more, so it
// streams them (constant memory), reads in one goroutine while it hashes in
// another (see pipe) and hashes with one audit.Hasher per chain (one HMAC's
// state per key, not one per link).

// verifyPage is how many links verification checks between progress reports.
const verifyPage = 5000

// VerifyAudit checks, in one snapshot of the database, the audit trail's
// chain, the consent ledger's chain, and the current consent state against
// the state the ledger gives. anchors, if not nil, are heads recorded
// earlier outside the database that the chains must still contain.
// progress, if not nil, is told the entries and events checked as it goes.
func (s *Store) VerifyAudit(ctx context.Context, anchors *audit.Anchors, progress func(checked int64)) (audit.Report, error) {
	return s.verify(ctx, anchors, false, progress)
}

// VerifyAuditFrom is VerifyAudit from the latest anchors on: the trail
// from the latest trail anchor, the ledger from the latest ledger anchor,
// and the current consent state only of the subjects and purposes that
// ledger events after it touched. What comes before the anchors is not
// read, so the cost follows what was written since (a signed checkpoint,
// say), not the length of the chains; a change before them is not found
// here, only by VerifyAudit. The chain key in force at the trail anchor is
// found from the trail's first entry and its key rotations up to the
// anchor, read through an index of their own. Without anchors it is
// VerifyAudit.
func (s *Store) VerifyAuditFrom(ctx context.Context, anchors *audit.Anchors, progress func(checked int64)) (audit.Report, error) {
	return s.verify(ctx, anchors, true, progress)
}

func (s *Store) verify(ctx context.Context, anchors *audit.Anchors, incremental bool, progress func(int64)) (audit.Report, error) {
	if anchors == nil {
		anchors = &audit.Anchors{}
	}
	tx, err := s.verifySnapshot(ctx)
	if err != nil {
		return audit.Report{}, err
	}
	defer tx.Rollback()
	var trailFrom, ledgerFrom *audit.Anchor
	if incremental {
		trailFrom, ledgerFrom = latest(anchors.Trail), latest(anchors.Ledger)
	}
	rep, epochs, err := s.verifyTrail(ctx, tx, anchors.Trail, trailFrom, progress)
	if err != nil {
		return audit.Report{}, err
	}
	ledger, problems, err := s.verifyLedger(ctx, tx, epochs, anchors.Ledger, ledgerFrom, progress)
	if err != nil {
		return audit.Report{}, err
	}
	rep.Ledger = ledger
	rep.Problems = append(rep.Problems, problems...)
	touchedAfter := int64(-1) // every state row
	if ledger.Since > 0 {
		touchedAfter = ledger.Since
	}
	rep.Ledger.States, problems, err = s.verifyState(ctx, tx.Tx, touchedAfter)
	if err != nil {
		return audit.Report{}, err
	}
	rep.Problems = append(rep.Problems, problems...)
	// From a checkpoint, the heads before the start are not checked.
	rep.Anchors = countFrom(anchors.Trail, rep.Since) + countFrom(anchors.Ledger, rep.Ledger.Since)
	rep.Finish()
	return rep, nil
}

func countFrom(as []audit.Anchor, start int64) int {
	n := 0
	for _, a := range as {
		if a.Seq >= start {
			n++
		}
	}
	return n
}

// latest is the anchor furthest along its chain, or nil.
func latest(as []audit.Anchor) *audit.Anchor {
	var l *audit.Anchor
	for i := range as {
		if l == nil || as[i].Seq > l.Seq {
			l = &as[i]
		}
	}
	return l
}

// verifySnapshot begins the read-only transaction verification reads in:
// one snapshot, so that writes committed meanwhile are not seen and the
// trail, the ledger, the state and the heads all describe the same moment.
func (s *Store) verifySnapshot(ctx context.Context) (*snapshot, error) {
	sn, err := s.beginSnapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", mapErr(err))
	}
	if err := s.scope(ctx, sn.Tx, s.org); err != nil {
		sn.Rollback()
		return nil, err
	}
	if s.dialect == Postgres {
		// The statements are prepared once and run with bounds from 0 (all
		// of a chain) to near its end (from a checkpoint): after a few runs
		// PostgreSQL would settle on one generic plan, a scan and a sort of
		// the whole trail, for both.
		if _, err := sn.ExecContext(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`); err != nil {
			sn.Rollback()
			return nil, fmt.Errorf("verify: %w", mapErr(err))
		}
	}
	return sn, nil
}

// beginSnapshot begins the read-only transaction: on PostgreSQL on a
// connection of its own, held for the raw reads (snapshot); on SQLite on
// the read pool, read-only already, which takes its snapshot at the first
// read.
func (s *Store) beginSnapshot(ctx context.Context) (*snapshot, error) {
	if s.dialect != Postgres {
		tx, err := s.r.BeginTx(ctx, nil)
		if err != nil {
			return nil, err
		}
		return &snapshot{Tx: tx}, nil
	}
	conn, err := s.r.Conn(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &snapshot{Tx: tx, conn: conn}, nil
}

// The types of the columns the chains are read by on PostgreSQL
// (auditCols, and consentCols with the hashes), which the raw scanners
// decode.
var (
	auditColTypes = []uint32{pgtype.Int8OID, pgtype.Int8OID,
		pgtype.TextOID, pgtype.TextOID, pgtype.TextOID, pgtype.TextOID, pgtype.TextOID, pgtype.TextOID, pgtype.TextOID, pgtype.TextOID,
		pgtype.ByteaOID, pgtype.ByteaOID}
	ledgerColTypes = []uint32{pgtype.Int8OID, pgtype.TextOID, pgtype.TextOID, pgtype.TextOID, pgtype.TextOID, pgtype.Int8OID,
		pgtype.TextOID, pgtype.TextOID, pgtype.TextOID, pgtype.Int4OID, pgtype.TextOID, pgtype.TextOID, pgtype.TextOID, pgtype.TextOID, pgtype.Int8OID,
		pgtype.ByteaOID, pgtype.ByteaOID}
)

// progressCounter tells progress of every verifyPage links, and of the rest
// at the end.
type progressCounter struct {
	fn func(int64)
	n  int64
}

func (p *progressCounter) add() {
	if p.n++; p.fn != nil && p.n%verifyPage == 0 {
		p.fn(verifyPage)
	}
}

func (p *progressCounter) done() {
	if p.fn != nil && p.n%verifyPage != 0 {
		p.fn(p.n % verifyPage)
	}
}

// verifyTrail checks the trail from the start, or, given from, after it.
func (s *Store) verifyTrail(ctx context.Context, tx *snapshot, anchors []audit.Anchor, from *audit.Anchor, progress func(int64)) (audit.Report, []audit.Epoch, error) {
	var head audit.Chain
	if err := tx.QueryRowContext(ctx, s.q(`SELECT seq, hash FROM audit_head WHERE org_id = ?`), s.org).Scan(&head.Seq, &head.Hash); err != nil {
		return audit.Report{}, nil, fmt.Errorf("verify audit: head: %w", mapErr(err))
	}
	v := audit.Verifier{Key: s.auditKey, Prior: s.prior, Anchors: anchors}
	// A trail cut for retention (CutAudit) begins after its recorded
	// start: the whole of what is kept is verified from there. The start
	// must be one of the signed checkpoints when any are given, or it
	// vouches for nothing.
	var startProblem *audit.Problem
	var start audit.Chain
	err := tx.QueryRowContext(ctx, s.q(`SELECT seq, hash FROM audit_starts WHERE org_id = ?`), s.org).Scan(&start.Seq, &start.Hash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return audit.Report{}, nil, fmt.Errorf("verify audit: start: %w", mapErr(err))
	default:
		if len(anchors) > 0 && !slices.ContainsFunc(anchors, func(a audit.Anchor) bool { return a.Seq == start.Seq && bytes.Equal(a.Hash, start.Hash) }) {
			startProblem = &audit.Problem{Seq: start.Seq, Kind: "start_unanchored", Text: fmt.Sprintf("the trail was cut after entry %d, which no signed checkpoint records: what was cut, and where, cannot be vouched for", start.Seq)}
		}
		if from == nil || from.Seq < start.Seq {
			from = &audit.Anchor{Seq: start.Seq, Hash: start.Hash}
		}
	}
	after := int64(0)
	if from != nil && from.Seq > 0 {
		first, rotations, err := s.trailKeysAt(ctx, tx.Tx, from.Seq)
		if err != nil {
			return audit.Report{}, nil, err
		}
		v.Resume(audit.Chain{Seq: from.Seq, Hash: from.Hash}, first, rotations)
		after = from.Seq
	}
	count := progressCounter{fn: progress}
	err = stream(ctx, s, tx, `SELECT `+auditCols+` FROM audit_log WHERE org_id = ? AND seq > ? ORDER BY seq`, []any{s.org, after}, auditColTypes,
		func(rows *sql.Rows, e *audit.Entry, arena *[]byte) error {
			var at int64
			var prev, hash sql.RawBytes // the driver's: valid until the next row
			if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Role, &e.Place, &e.Action, &e.Object, &e.Purpose, &e.Outcome, &e.Detail, &prev, &hash); err != nil {
				return err
			}
			e.At, e.Prev, e.Hash = fromMicros(at), keep(arena, prev), keep(arena, hash)
			return nil
		},
		func(v [][]byte, e *audit.Entry, arena *[]byte) error {
			seq, err := rawInt(v[0])
			if err != nil {
				return err
			}
			at, err := rawInt(v[1])
			if err != nil {
				return err
			}
			e.Seq, e.At = seq, fromMicros(at)
			rawStrings(v[2:10], &e.Actor, &e.Role, &e.Place, &e.Action, &e.Object, &e.Purpose, &e.Outcome, &e.Detail)
			e.Prev, e.Hash = keep(arena, v[10]), keep(arena, v[11])
			return nil
		},
		func(e *audit.Entry) {
			v.Add(e)
			count.add()
		})
	if err != nil {
		return audit.Report{}, nil, fmt.Errorf("verify audit: %w", mapErr(err))
	}
	count.done()
	rep := v.Finish(head)
	rep.Since = after
	if startProblem != nil {
		rep.Problems = append(rep.Problems, *startProblem)
	}
	return rep, v.LedgerEpochs(), nil
}

// trailKeysAt reads what tells the chain key in force after entry seq: the
// trail's first entry and the key rotations up to seq (see
// audit.Verifier.Resume). Rotations are few and found through the partial
// index audit_log_rotations (migration 0023), so this costs no more on a
// long trail than on a short one. The action is written out in the query,
// not passed, for both databases to match the index's condition.
func (s *Store) trailKeysAt(ctx context.Context, tx *sql.Tx, seq int64) (*audit.Entry, []audit.Entry, error) {
	first, err := scanEntry(tx.QueryRowContext(ctx, s.q(`SELECT `+auditCols+` FROM audit_log WHERE org_id = ? ORDER BY seq LIMIT 1`), s.org))
	if err == sql.ErrNoRows {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("verify audit: first entry: %w", mapErr(err))
	}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT `+auditCols+` FROM audit_log WHERE org_id = ? AND action = '`+audit.ActionKeyRotate+`' AND seq <= ? ORDER BY seq`), s.org, seq)
	if err != nil {
		return nil, nil, fmt.Errorf("verify audit: key rotations: %w", mapErr(err))
	}
	defer rows.Close()
	var rotations []audit.Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, nil, fmt.Errorf("verify audit: key rotations: %w", mapErr(err))
		}
		rotations = append(rotations, e)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("verify audit: key rotations: %w", mapErr(err))
	}
	return &first, rotations, nil
}

// verifyLedger walks the ledger in sequence order inside tx, from its
// start or, given from (past the chain's start), after it, and checks its
// chain against the recorded head and the anchors. epochs are the keys the
// trail's rotations say the ledger is chained under.
func (s *Store) verifyLedger(ctx context.Context, tx *snapshot, epochs []audit.Epoch, anchors []audit.Anchor, from *audit.Anchor, progress func(int64)) (audit.LedgerReport, []audit.Problem, error) {
	head, err := s.readLedgerHead(ctx, tx.Tx)
	if err != nil {
		return audit.LedgerReport{}, nil, err
	}
	links := audit.Links{Noun: "ledger event", Nouns: "ledger events", Chain: "ledger", Prefix: "ledger_",
		Start: audit.Chain{Seq: head.start, Hash: ledgerStart(audit.KeyFor(epochs, head.start), head.start)}, Anchors: anchors}
	rep := audit.LedgerReport{HeadSeq: head.seq, HeadHash: hex.EncodeToString(head.hash)}
	after := int64(0)
	if from != nil && from.Seq > head.start {
		// Events before the anchor are not read: anchors before it are
		// not checked either (they would read as a moved start).
		after, rep.Since = from.Seq, from.Seq
		links.Start = audit.Chain{Seq: from.Seq, Hash: from.Hash}
		links.Anchors = nil
		for _, a := range anchors {
			if a.Seq >= from.Seq {
				links.Anchors = append(links.Anchors, a)
			}
		}
	}
	type event struct {
		ConsentEvent
		prev, hash []byte
	}
	var (
		hasher audit.Hasher
		buf    []byte
	)
	count := progressCounter{fn: progress}
	err = stream(ctx, s, tx, `SELECT `+consentCols+`, prev_hash, hash FROM consent_events WHERE org_id = ? AND seq > ? ORDER BY seq`, []any{s.org, after}, ledgerColTypes,
		func(rows *sql.Rows, e *event, arena *[]byte) error {
			var (
				sep        int
				guardian   sql.NullString
				at         int64
				prev, hash sql.RawBytes
			)
			if err := rows.Scan(&e.Seq, &e.ID, &e.SubjectID, &e.Purpose, &e.Action, &e.VersionSeq, &e.Method, &e.Language, &e.NoticeHash, &sep, &guardian, &e.Signal, &e.Evidence, &e.Actor, &at, &prev, &hash); err != nil {
				return err
			}
			e.Separate, e.GuardianID, e.At = sep != 0, guardian.String, fromMicros(at)
			e.prev, e.hash = keep(arena, prev), keep(arena, hash)
			return nil
		},
		func(v [][]byte, e *event, arena *[]byte) error {
			var ints [4]int64 // seq, version_seq, separate, at
			for i, c := range [...]int{0, 5, 9, 14} {
				n, err := rawInt(v[c])
				if err != nil {
					return err
				}
				ints[i] = n
			}
			e.Seq, e.VersionSeq, e.Separate, e.At = ints[0], ints[1], ints[2] != 0, fromMicros(ints[3])
			rawStrings([][]byte{v[1], v[2], v[3], v[4], v[6], v[7], v[8], v[10], v[11], v[12], v[13]},
				&e.ID, &e.SubjectID, &e.Purpose, &e.Action, &e.Method, &e.Language, &e.NoticeHash, &e.GuardianID, &e.Signal, &e.Evidence, &e.Actor)
			e.prev, e.hash = keep(arena, v[15]), keep(arena, v[16])
			return nil
		},
		func(e *event) {
			if e.Seq <= head.start {
				rep.Unchained++
			} else {
				buf = appendLedger(buf[:0], e.prev, &e.ConsentEvent)
				links.Add(e.Seq, e.ID, e.prev, e.hash, hasher.Sum(audit.KeyFor(epochs, e.Seq), buf))
			}
			count.add()
		})
	if err != nil {
		return rep, nil, fmt.Errorf("verify ledger: %w", mapErr(err))
	}
	count.done()
	rep.Events = links.Count()
	return rep, links.Finish(audit.Chain{Seq: head.seq, Hash: head.hash}), nil
}

// verifyState recomputes the current state of ledger keys (subject and
// purpose) from the ledger (the last event of each wins, as stateOf says)
// and compares it with consent_state, row by row in both directions: of
// every key when touchedAfter is negative, else of the keys that events
// after touchedAfter touched. The database only pairs the rows; what a row
// should hold is decided here.
//
// The pairing is two queries rather than one full outer join, and each
// key's last event is looked up by primary key from the list of last
// sequence numbers (CROSS JOIN keeps SQLite to that order): SQLite ran the
// join the other way round, a scan of that list for every event, which
// took 16 s for 200,000 events over 10,000 keys. Each key's last event is
// paired with the state row of its key; then, if the state holds more rows
// than that (never among untouched keys), the rows no event gave.
func (s *Store) verifyState(ctx context.Context, tx *sql.Tx, touchedAfter int64) (int64, []audit.Problem, error) {
	var states int64
	var problems audit.Problems
	const q = `SELECT l.subject_id, l.purpose, l.seq, l.id, l.action, l.guardian_id, l.version_seq,
		c.subject_id, c.action, c.granted, c.by_guardian, c.version_seq, c.event_id
	FROM (SELECT e.subject_id, e.purpose, e.seq, e.id, e.action, e.guardian_id, e.version_seq
		FROM (SELECT MAX(seq) AS seq FROM consent_events WHERE org_id = ? AND seq > ? GROUP BY subject_id, purpose) m
			CROSS JOIN consent_events e WHERE e.org_id = ? AND e.seq = m.seq) l
	LEFT JOIN consent_state c ON c.org_id = ? AND c.subject_id = l.subject_id AND c.purpose = l.purpose
	ORDER BY l.seq`
	rows, err := tx.QueryContext(ctx, s.q(q), s.org, max(touchedAfter, 0), s.org, s.org)
	if err != nil {
		return 0, nil, fmt.Errorf("verify consent state: %w", mapErr(err))
	}
	defer rows.Close()
	var (
		lSubject, lPurpose, lID, lAction string
		lGuardian                        sql.NullString
		lSeq, lVersion                   int64
		cSubject, cAction, cEvent        sql.NullString
		cGranted, cGuardian, cVersion    sql.NullInt64
	)
	dest := []any{&lSubject, &lPurpose, &lSeq, &lID, &lAction, &lGuardian, &lVersion, &cSubject, &cAction, &cGranted, &cGuardian, &cVersion, &cEvent}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return 0, nil, fmt.Errorf("verify consent state: %w", mapErr(err))
		}
		if !cSubject.Valid {
			problems.Add(audit.Problem{Seq: lSeq, Kind: "state_missing", Event: lID,
				Text: fmt.Sprintf("subject %s has no current state for %s, though the ledger's last event for it is %s (seq %d, %s)",
					lSubject, lPurpose, lID, lSeq, lAction)})
			continue
		}
		states++
		want := stateOf(&ConsentEvent{ID: lID, Purpose: lPurpose, Action: lAction, GuardianID: lGuardian.String, VersionSeq: lVersion})
		got := ConsentState{Purpose: lPurpose, Action: cAction.String, Granted: cGranted.Int64 != 0, ByGuardian: cGuardian.Int64 != 0, VersionSeq: cVersion.Int64, EventID: cEvent.String}
		if want != got {
			problems.Add(audit.Problem{Seq: lSeq, Kind: "state_differs", Event: lID,
				Text: fmt.Sprintf("subject %s's current state for %s differs from the ledger's last event %s (seq %d): %s",
					lSubject, lPurpose, lID, lSeq, stateDiff(want, got))})
		}
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("verify consent state: %w", mapErr(err))
	}
	rows.Close()
	if touchedAfter >= 0 {
		return states, problems, nil
	}
	// State rows no event gave: looked for only when there are more rows
	// than the ledger's keys paired, for the search costs a lookup in
	// the ledger per row.
	var all int64
	if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM consent_state WHERE org_id = ?`), s.org).Scan(&all); err != nil {
		return 0, nil, fmt.Errorf("verify consent state: %w", mapErr(err))
	}
	if all == states {
		return states, problems, nil
	}
	extras, n, err := s.extraStates(ctx, tx)
	if err != nil {
		return 0, nil, err
	}
	states += n
	for _, p := range problems {
		extras.Add(p)
	}
	return states, extras, nil
}

// extraStates finds the state rows no ledger event gave, and counts them.
func (s *Store) extraStates(ctx context.Context, tx *sql.Tx) (audit.Problems, int64, error) {
	const q = `SELECT c.subject_id, c.purpose, c.action, c.event_id FROM consent_state c
	WHERE c.org_id = ? AND NOT EXISTS (SELECT 1 FROM consent_events e WHERE e.org_id = ? AND e.subject_id = c.subject_id AND e.purpose = c.purpose)
	ORDER BY c.subject_id, c.purpose`
	rows, err := tx.QueryContext(ctx, s.q(q), s.org, s.org)
	if err != nil {
		return nil, 0, fmt.Errorf("verify consent state: %w", mapErr(err))
	}
	defer rows.Close()
	var problems audit.Problems
	var n int64
	for rows.Next() {
		n++
		var subject, purpose, action, event string
		if err := rows.Scan(&subject, &purpose, &action, &event); err != nil {
			return nil, 0, fmt.Errorf("verify consent state: %w", mapErr(err))
		}
		problems.Add(audit.Problem{Kind: "state_extra", Event: event,
			Text: fmt.Sprintf("subject %s has a current state for %s (%s, event %s) that no ledger event gave it", subject, purpose, action, event)})
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("verify consent state: %w", mapErr(err))
	}
	return problems, n, nil
}

// stateDiff names the fields where the stored state (got) departs from the
// one the ledger gives (want), or returns "".
func stateDiff(want, got ConsentState) string {
	var d []string
	field := func(name string, w, g any) {
		if w != g {
			d = append(d, fmt.Sprintf("%s is %v, the ledger says %v", name, g, w))
		}
	}
	field("action", want.Action, got.Action)
	field("granted", want.Granted, got.Granted)
	field("by_guardian", want.ByGuardian, got.ByGuardian)
	field("version", want.VersionSeq, got.VersionSeq)
	field("event", want.EventID, got.EventID)
	return strings.Join(d, "; ")
}
