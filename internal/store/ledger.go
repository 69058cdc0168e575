package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"

	"github.com/custos-privacy/custos/internal/audit"
)

// The consent ledger is a hash chain like the audit trail, kept beside it
// rather than folded into it: the writer already holds the ledger's head
// (it numbers events), so chaining costs a hash per event and one row
// update per commit, while binding every event into the trail would
// oblige an audit entry per event and a join of both at verification.
// See migrations 0006_ledger_chain.sql for events recorded before.

func ledgerHash(key []byte) hash.Hash {
	if len(key) > 0 {
		return hmac.New(sha256.New, key)
	}
	return sha256.New()
}

// ledgerSum is the hash of ledger event e chained to prev: HMAC-SHA-256
// under the audit chain key, or SHA-256 without one (see audit.Sum). It
// covers every column, each length-prefixed; the label keeps it apart
// from the trail's hashes under the same key.
func ledgerSum(key, prev []byte, e *ConsentEvent) []byte {
	h := ledgerHash(key)
	var buf [8]byte
	put := func(v int64) {
		binary.BigEndian.PutUint64(buf[:], uint64(v))
		h.Write(buf[:])
	}
	h.Write([]byte("custos-ledger-v1\x00"))
	put(e.Seq)
	put(micros(e.At))
	put(e.VersionSeq)
	put(int64(boolInt(e.Separate)))
	for _, s := range [...]string{e.ID, e.SubjectID, e.Purpose, e.Action, e.Method, e.Language, e.NoticeHash, e.GuardianID, e.Signal, e.Evidence, e.Actor} {
		put(int64(len(s)))
		h.Write([]byte(s))
	}
	h.Write(prev)
	return h.Sum(nil)
}

// ledgerStart is the hash the first chained event links to. It is derived
// from where the chain starts, so that moving the start (to pass chained
// events off as older, unhashed ones) breaks the first link.
func ledgerStart(key []byte, startSeq int64) []byte {
	h := ledgerHash(key)
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], uint64(startSeq))
	h.Write([]byte("custos-ledger-start-v1\x00"))
	h.Write(buf[:])
	return h.Sum(nil)
}

// ledgerHead is the row that records the ledger chain's last event.
type ledgerHead struct {
	start int64  // the last event recorded before the chain began
	seq   int64  // the last event chained (start before the first)
	hash  []byte // its hash; empty before the first, standing for the start hash
	keyID string // the chain key's id (audit.KeyID), "" until the first write
}

func (s *Store) readLedgerHead(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (ledgerHead, error) {
	var h ledgerHead
	if err := q.QueryRowContext(ctx, s.q(`SELECT start_seq, seq, hash, key_id FROM ledger_head WHERE org_id = ?`), s.org).Scan(&h.start, &h.seq, &h.hash, &h.keyID); err != nil {
		return ledgerHead{}, fmt.Errorf("read ledger head: %w", mapErr(err))
	}
	if len(h.hash) == 0 {
		h.hash = ledgerStart(s.auditKey, h.start)
	}
	return h, nil
}

// stateOf is the current state an event leaves its ledger key in: the
// last event wins. The writer stores it and verification recomputes it.
func stateOf(e *ConsentEvent) ConsentState {
	return ConsentState{Purpose: e.Purpose, Action: e.Action, Granted: e.Action == ActionGrant, ByGuardian: e.GuardianID != "", VersionSeq: e.VersionSeq, EventID: e.ID}
}

// Heads returns the heads of the audit trail and of the consent ledger as
// one moment saw them: what a checkpoint records.
func (s *Store) Heads(ctx context.Context) (trail, ledger audit.Chain, err error) {
	var start int64
	err = s.rd().QueryRowContext(ctx, s.q(`SELECT a.seq, a.hash, l.start_seq, l.seq, l.hash FROM audit_head a, ledger_head l WHERE a.org_id = ? AND l.org_id = ?`), s.org, s.org).
		Scan(&trail.Seq, &trail.Hash, &start, &ledger.Seq, &ledger.Hash)
	if err != nil {
		return audit.Chain{}, audit.Chain{}, fmt.Errorf("heads: %w", mapErr(err))
	}
	if len(ledger.Hash) == 0 {
		ledger.Hash = ledgerStart(s.auditKey, start)
	}
	return trail, ledger, nil
}

// Flush returns once every write queued before it is committed, so that
// the heads read next include them.
func (s *Store) Flush(ctx context.Context) error { return s.Submit(ctx, &Write{}) }

// verifyLedger walks the ledger in sequence order inside tx and checks its
// chain against the recorded head and the anchors.
// epochs are the keys the trail's rotations say the ledger is chained under.
func (s *Store) verifyLedger(ctx context.Context, tx *sql.Tx, epochs []audit.Epoch, anchors []audit.Anchor, progress func(int64)) (audit.LedgerReport, []audit.Problem, error) {
	head, err := s.readLedgerHead(ctx, tx)
	if err != nil {
		return audit.LedgerReport{}, nil, err
	}
	links := audit.Links{Noun: "ledger event", Nouns: "ledger events", Chain: "ledger", Prefix: "ledger_",
		Start: audit.Chain{Seq: head.start, Hash: ledgerStart(audit.KeyFor(epochs, head.start), head.start)}, Anchors: anchors}
	rep := audit.LedgerReport{HeadSeq: head.seq, HeadHash: hex.EncodeToString(head.hash)}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT `+consentCols+`, prev_hash, hash FROM consent_events WHERE org_id = ? ORDER BY seq`), s.org)
	if err != nil {
		return rep, nil, fmt.Errorf("verify ledger: %w", mapErr(err))
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		var prev, sum []byte
		e, err := scanConsent(rows, &prev, &sum)
		if err != nil {
			return rep, nil, fmt.Errorf("verify ledger: %w", mapErr(err))
		}
		if e.Seq <= head.start {
			rep.Unchained++
		} else {
			links.Add(e.Seq, e.ID, prev, sum, ledgerSum(audit.KeyFor(epochs, e.Seq), prev, &e))
		}
		if n++; progress != nil && n%verifyPage == 0 {
			progress(verifyPage)
		}
	}
	if err := rows.Err(); err != nil {
		return rep, nil, fmt.Errorf("verify ledger: %w", mapErr(err))
	}
	if progress != nil && n%verifyPage != 0 {
		progress(n % verifyPage)
	}
	rep.Events = links.Count()
	return rep, links.Finish(audit.Chain{Seq: head.seq, Hash: head.hash}), nil
}

// verifyState recomputes the current state of every subject and ledger key
// from the ledger (the last event of each wins, as stateOf says) and
// compares it with consent_state, row by row in both directions. The
// database only pairs the rows; what a row should hold is decided here.
func (s *Store) verifyState(ctx context.Context, tx *sql.Tx) (int64, []audit.Problem, error) {
	const q = `SELECT l.subject_id, l.purpose, l.seq, l.id, l.action, l.guardian_id, l.version_seq,
		c.subject_id, c.purpose, c.action, c.granted, c.by_guardian, c.version_seq, c.event_id
	FROM (SELECT e.subject_id, e.purpose, e.seq, e.id, e.action, e.guardian_id, e.version_seq
		FROM consent_events e JOIN (SELECT MAX(seq) AS seq FROM consent_events WHERE org_id = ? GROUP BY subject_id, purpose) m
			ON e.org_id = ? AND m.seq = e.seq) l
	FULL OUTER JOIN (SELECT * FROM consent_state WHERE org_id = ?) c ON c.subject_id = l.subject_id AND c.purpose = l.purpose
	ORDER BY COALESCE(l.seq, 0), c.subject_id, c.purpose`
	rows, err := tx.QueryContext(ctx, s.q(q), s.org, s.org, s.org)
	if err != nil {
		return 0, nil, fmt.Errorf("verify consent state: %w", mapErr(err))
	}
	defer rows.Close()
	var states int64
	var problems audit.Problems
	for rows.Next() {
		var (
			lSubject, lPurpose, lID, lAction, lGuardian sql.NullString
			lSeq, lVersion                              sql.NullInt64
			cSubject, cPurpose, cAction, cEvent         sql.NullString
			cGranted, cGuardian, cVersion               sql.NullInt64
		)
		if err := rows.Scan(&lSubject, &lPurpose, &lSeq, &lID, &lAction, &lGuardian, &lVersion,
			&cSubject, &cPurpose, &cAction, &cGranted, &cGuardian, &cVersion, &cEvent); err != nil {
			return 0, nil, fmt.Errorf("verify consent state: %w", mapErr(err))
		}
		if cSubject.Valid {
			states++
		}
		switch {
		case !cSubject.Valid:
			problems.Add(audit.Problem{Seq: lSeq.Int64, Kind: "state_missing", Event: lID.String,
				Text: fmt.Sprintf("subject %s has no current state for %s, though the ledger's last event for it is %s (seq %d, %s)",
					lSubject.String, lPurpose.String, lID.String, lSeq.Int64, lAction.String)})
		case !lSubject.Valid:
			problems.Add(audit.Problem{Kind: "state_extra", Event: cEvent.String,
				Text: fmt.Sprintf("subject %s has a current state for %s (%s, event %s) that no ledger event gave it",
					cSubject.String, cPurpose.String, cAction.String, cEvent.String)})
		default:
			want := stateOf(&ConsentEvent{ID: lID.String, Purpose: lPurpose.String, Action: lAction.String, GuardianID: lGuardian.String, VersionSeq: lVersion.Int64})
			got := ConsentState{Purpose: cPurpose.String, Action: cAction.String, Granted: cGranted.Int64 != 0, ByGuardian: cGuardian.Int64 != 0, VersionSeq: cVersion.Int64, EventID: cEvent.String}
			if diff := stateDiff(want, got); diff != "" {
				problems.Add(audit.Problem{Seq: lSeq.Int64, Kind: "state_differs", Event: lID.String,
					Text: fmt.Sprintf("subject %s's current state for %s differs from the ledger's last event %s (seq %d): %s",
						lSubject.String, lPurpose.String, lID.String, lSeq.Int64, diff)})
			}
		}
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("verify consent state: %w", mapErr(err))
	}
	return states, problems, nil
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
