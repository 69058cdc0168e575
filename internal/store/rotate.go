package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/custos-privacy/custos/internal/audit"
)

// ErrKeyRotated is returned by a write from a process whose identity key
// was rotated away: the trail and the ledger go on under the new key, and
// a write chained under the old one would break them. Restart the process
// with the identity key file the rotation wrote.
var ErrKeyRotated = errors.New("the identity key was rotated: restart with the rotated key file")

// ErrRotated is returned by RotateKey when the chains already go on under
// the new key: a rotation interrupted after its commit, run again.
var ErrRotated = errors.New("the chains already go on under the new key")

// checkKey refuses a write chained under another key than the chain's.
func (s *Store) checkKey(chain, id string) error {
	switch {
	case id == "" || id == s.keyID:
		return nil
	case s.keyID == "":
		// Not a rotation: this process was started without the identity
		// key, and would chain under none.
		return fmt.Errorf("%s is chained under identity key %s and this process has no identity key: set CUSTOS_IDENTITY_KEY_FILE or --secrets-dir", chain, id)
	}
	return fmt.Errorf("%s goes on under key %s, this process has key %s: %w", chain, id, s.keyID, ErrKeyRotated)
}

// KeyRotation moves what the identity key keys to a new key.
type KeyRotation struct {
	// AuditKey is the chain key derived from the new identity key.
	AuditKey []byte
	// Rehash gives a stored identity hash under the new key
	// (identity.Rehash with the new identity key).
	Rehash func(hash []byte) []byte
	// Retoken gives a vault token under the new key; nil leaves tokens.
	Retoken func(token string) (string, error)
	// Progress, if not nil, is told the rows of a table done so far.
	Progress func(table string, done, total int64)
	// Entry is the transition entry: who rotates, from where, when. Its
	// action, object and detail are filled in here.
	Entry audit.Entry
}

// Rotated is what a rotation changed.
type Rotated struct {
	Identities int64 // identity hashes rehashed
	Codes      int64 // hashes of identities pending a code, rehashed
	Tokens     int64 // vault tokens made again
	Entry      audit.Entry
}

// RotateKey rehashes every stored identity hash and vault token under the
// new key and moves the trail and the ledger to it with a transition entry
// (see audit.ActionKeyRotate), in one transaction under the audit head's
// lock: a crash leaves everything under the old key or everything under
// the new one. The store must run with the old key. It returns ErrRotated
// when the chains already go on under the new key.
func (s *Store) RotateKey(ctx context.Context, r KeyRotation) (Rotated, error) {
	var out Rotated
	newID := audit.KeyID(r.AuditKey)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		out = Rotated{}
		head := `SELECT seq, hash, key_id FROM audit_head WHERE org_id = ?`
		if s.dialect == Postgres {
			head += ` FOR UPDATE`
		}
		var prev audit.Chain
		var keyID string
		if err := tx.QueryRowContext(ctx, s.q(head), s.org).Scan(&prev.Seq, &prev.Hash, &keyID); err != nil {
			return fmt.Errorf("read audit head: %w", mapErr(err))
		}
		if keyID == newID {
			return ErrRotated
		}
		if err := s.checkKey("audit trail", keyID); err != nil {
			return err
		}
		ledger, err := s.readLedgerHead(ctx, tx)
		if err != nil {
			return err
		}
		if err := s.checkKey("consent ledger", ledger.keyID); err != nil {
			return err
		}
		if out.Identities, err = s.rehash(ctx, tx, `identities`, `hash`, `hash`, r.Rehash, r.Progress); err != nil {
			return err
		}
		if out.Codes, err = s.rehash(ctx, tx, `otps`, `identity_hash`, `request_id`, r.Rehash, r.Progress); err != nil {
			return err
		}
		if r.Retoken != nil {
			if out.Tokens, err = s.retoken(ctx, tx, r.Retoken); err != nil {
				return err
			}
		}
		e := r.Entry
		e.Action, e.Object, e.Outcome = audit.ActionKeyRotate, "identity-key", audit.OutcomeOK
		e.Detail = audit.NewRotation(s.auditKey, r.AuditKey, prev.Hash, ledger.seq).Detail()
		if err := s.appendAudit(ctx, tx, []trail{{st: s, entries: []*audit.Entry{&e}}}); err != nil {
			return err
		}
		out.Entry = e
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE audit_head SET key_id = ? WHERE org_id = ?`), newID, s.org); err != nil {
			return fmt.Errorf("rotate audit head: %w", mapErr(err))
		}
		// The ledger's start hash is pinned under the old key: until now
		// an empty hash stood for it, and it would be derived from the
		// new key from here on.
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE ledger_head SET key_id = ?, hash = ? WHERE org_id = ?`), newID, ledger.hash, s.org); err != nil {
			return fmt.Errorf("rotate ledger head: %w", mapErr(err))
		}
		return nil
	})
	return out, err
}

// rehash replaces every value of column col of table by fn of it, rows
// named by key.
func (s *Store) rehash(ctx context.Context, tx *sql.Tx, table, col, key string, fn func([]byte) []byte, progress func(string, int64, int64)) (int64, error) {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT `+key+`, `+col+` FROM `+table+` WHERE org_id = ? AND `+col+` IS NOT NULL`), s.org)
	if err != nil {
		return 0, fmt.Errorf("rehash %s: %w", table, mapErr(err))
	}
	type row struct{ key, hash []byte }
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.key, &r.hash); err != nil {
			rows.Close()
			return 0, fmt.Errorf("rehash %s: %w", table, mapErr(err))
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("rehash %s: %w", table, mapErr(err))
	}
	if s.dialect == Postgres {
		// A chunk per statement: a round trip per row made a rotation of
		// 100,000 identities take 15 s.
		keyType := "text"
		if key == col {
			keyType = "bytea"
		}
		q := `UPDATE ` + table + ` AS t SET ` + col + ` = v.n FROM (SELECT unnest($1::` + keyType + `[]) AS k, unnest($2::bytea[]) AS n) AS v WHERE t.org_id = $3 AND t.` + key + ` = v.k`
		for start := 0; start < len(all); start += rehashChunk {
			part := all[start:min(start+rehashChunk, len(all))]
			news := make([][]byte, len(part))
			var keys any
			if key == col {
				ks := make([][]byte, len(part))
				for i, r := range part {
					ks[i] = r.key
				}
				keys = ks
			} else {
				ks := make([]string, len(part))
				for i, r := range part {
					ks[i] = string(r.key)
				}
				keys = ks
			}
			for i, r := range part {
				news[i] = fn(r.hash)
			}
			if _, err := tx.ExecContext(ctx, q, keys, news, s.org); err != nil {
				return 0, fmt.Errorf("rehash %s: %w", table, mapErr(err))
			}
			if progress != nil {
				progress(table, int64(start+len(part)), int64(len(all)))
			}
		}
		return int64(len(all)), nil
	}
	stmt, err := tx.PrepareContext(ctx, `UPDATE `+table+` SET `+col+` = ? WHERE org_id = ? AND `+key+` = ?`)
	if err != nil {
		return 0, fmt.Errorf("rehash %s: %w", table, mapErr(err))
	}
	defer stmt.Close()
	for i, r := range all {
		if _, err := stmt.ExecContext(ctx, fn(r.hash), s.org, keyArg(r.key, key == col)); err != nil {
			return 0, fmt.Errorf("rehash %s: %w", table, mapErr(err))
		}
		if progress != nil && ((i+1)%rehashChunk == 0 || i+1 == len(all)) {
			progress(table, int64(i+1), int64(len(all)))
		}
	}
	return int64(len(all)), nil
}

// rehashChunk is how many rows one rehashing statement updates on
// PostgreSQL, and how often progress is told.
const rehashChunk = 500

// keyArg is a row's key as its column takes it: bytes for a hash, text
// otherwise.
func keyArg(k []byte, binary bool) any {
	if binary {
		return k
	}
	return string(k)
}

func (s *Store) retoken(ctx context.Context, tx *sql.Tx, fn func(string) (string, error)) (int64, error) {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT subject_id, field, token FROM vault_values WHERE org_id = ?`), s.org)
	if err != nil {
		return 0, fmt.Errorf("retoken vault: %w", mapErr(err))
	}
	type row struct{ subject, field, token string }
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.subject, &r.field, &r.token); err != nil {
			rows.Close()
			return 0, fmt.Errorf("retoken vault: %w", mapErr(err))
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("retoken vault: %w", mapErr(err))
	}
	for _, r := range all {
		t, err := fn(r.token)
		if err != nil {
			return 0, fmt.Errorf("retoken vault: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE vault_values SET token = ? WHERE org_id = ? AND subject_id = ? AND field = ?`), t, s.org, r.subject, r.field); err != nil {
			return 0, fmt.Errorf("retoken vault: %w", mapErr(err))
		}
	}
	return int64(len(all)), nil
}
