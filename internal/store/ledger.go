package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
	"hash"
	"slices"

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
	x := audit.GetSummer()
	defer audit.PutSummer(x)
	x.Buf = appendLedger(x.Buf[:0], prev, e)
	return slices.Clone(x.Sum(key, x.Buf))
}

// appendLedger appends to buf the message ledgerSum hashes.
func appendLedger(buf, prev []byte, e *ConsentEvent) []byte {
	buf = append(buf, "custos-ledger-v1\x00"...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(e.Seq))
	buf = binary.BigEndian.AppendUint64(buf, uint64(micros(e.At)))
	buf = binary.BigEndian.AppendUint64(buf, uint64(e.VersionSeq))
	buf = binary.BigEndian.AppendUint64(buf, uint64(boolInt(e.Separate)))
	for _, s := range [...]string{e.ID, e.SubjectID, e.Purpose, e.Action, e.Method, e.Language, e.NoticeHash, e.GuardianID, e.Signal, e.Evidence, e.Actor} {
		buf = binary.BigEndian.AppendUint64(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	return append(buf, prev...)
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
