package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// APIKey is a caller's key. Only a hash of the secret is stored.
type APIKey struct {
	ID        string
	Name      string
	Role      string
	Hash      []byte
	CreatedAt time.Time
	RevokedAt time.Time // zero while the key is valid
}

// Revoked reports whether the key was revoked.
func (k APIKey) Revoked() bool { return !k.RevokedAt.IsZero() }

// CreateKey stores a new key.
func (s *Store) CreateKey(ctx context.Context, k APIKey, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO api_keys (org_id, id, name, role, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
			s.org, k.ID, k.Name, k.Role, k.Hash, micros(k.CreatedAt))
		if err != nil {
			return fmt.Errorf("create key: %w", mapErr(err))
		}
		return nil
	}, Audit: entries})
}

// RevokeKey marks a key revoked. Revoking a revoked key is not an error.
func (s *Store) RevokeKey(ctx context.Context, id string, entries ...audit.Entry) error {
	now := micros(time.Now())
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE org_id = ? AND id = ?`), now, s.org, id)
		if err != nil {
			return fmt.Errorf("revoke key: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("key: %w", ErrNotFound)
		}
		return nil
	}, Audit: entries})
}

func scanKey(sc interface{ Scan(...any) error }) (APIKey, error) {
	var k APIKey
	var created int64
	var revoked sql.NullInt64
	if err := sc.Scan(&k.ID, &k.Name, &k.Role, &k.Hash, &created, &revoked); err != nil {
		return APIKey{}, err
	}
	k.CreatedAt = fromMicros(created)
	if revoked.Valid {
		k.RevokedAt = fromMicros(revoked.Int64)
	}
	return k, nil
}

// KeyByHash finds a key by the hash of its secret. The hash is unique in
// the deployment, but the lookup is scoped all the same: another
// organisation's key does not authenticate here.
func (s *Store) KeyByHash(ctx context.Context, hash []byte) (APIKey, error) {
	k, err := scanKey(s.rd().QueryRowContext(ctx, s.q(`SELECT id, name, role, hash, created_at, revoked_at FROM api_keys WHERE org_id = ? AND hash = ?`), s.org, hash))
	if err != nil {
		return APIKey{}, fmt.Errorf("key: %w", mapErr(err))
	}
	return k, nil
}

// Keys lists every key of the organisation, oldest first.
func (s *Store) Keys(ctx context.Context) ([]APIKey, error) {
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT id, name, role, hash, created_at, revoked_at FROM api_keys WHERE org_id = ? ORDER BY created_at, id`), s.org)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", mapErr(err))
	}
	defer rows.Close()
	out := []APIKey{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("keys: %w", mapErr(err))
		}
		out = append(out, k)
	}
	return out, rows.Err()
}
