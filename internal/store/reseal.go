package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/custos-privacy/custos/internal/keystore"
)

// Sealed is one value the database keeps sealed, with what it is bound to:
// the key store's owner and the associated data it was sealed with.
type Sealed struct {
	Table  string // identities, requests, bundles, transmissions or outbox
	Owner  string // keystore owner
	AD     []byte
	Value  []byte
	Legacy bool // sealed with the data keyset alone, before owner keys

	// For an outbox row sealed before owner keys: the template values it
	// kept in the clear beside the sealed address.
	Data map[string]string

	pk any
}

// sealedColumns names, per table, the primary key and the sealed column.
var sealedColumns = []struct {
	table, pk, col, extra string
}{
	{"identities", "hash", "sealed", "subject_id, kind"},
	{"requests", "id", "details", "id"},
	{"bundles", "id", "sealed", "subject_id"},
	{"transmissions", "id", "sealed", "subject_id"},
	{"outbox", "id", "to_sealed", "data"},
}

// SealedValues calls fn for every sealed value of the database, table by
// table in primary-key order, a page at a time (fn may change the row it is
// given).
func (s *Store) SealedValues(ctx context.Context, fn func(Sealed) error) error {
	for _, c := range sealedColumns {
		var after any
		for {
			q := `SELECT ` + c.pk + `, ` + c.col + `, ` + c.extra + ` FROM ` + c.table + ` WHERE org_id = ? AND ` + c.col + ` IS NOT NULL`
			args := []any{s.org}
			if after != nil {
				q += ` AND ` + c.pk + ` > ?`
				args = append(args, after)
			}
			q += ` ORDER BY ` + c.pk + ` LIMIT 500`
			page, err := s.sealedPage(ctx, c.table, s.q(q), args)
			if err != nil {
				return err
			}
			for _, v := range page {
				if len(v.Value) == 0 {
					continue
				}
				if err := fn(v); err != nil {
					return err
				}
			}
			if len(page) < 500 {
				break
			}
			after = page[len(page)-1].pk
		}
	}
	return nil
}

func (s *Store) sealedPage(ctx context.Context, table, q string, args []any) ([]Sealed, error) {
	rows, err := s.rd().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sealed values: %w", mapErr(err))
	}
	defer rows.Close()
	var out []Sealed
	for rows.Next() {
		v := Sealed{Table: table}
		var err error
		switch table {
		case "identities":
			var pk []byte
			var subject, kind string
			err = rows.Scan(&pk, &v.Value, &subject, &kind)
			v.pk, v.Owner, v.AD = pk, keystore.Subject(subject), keystore.IdentityAD(subject, kind)
		case "requests":
			var id, id2 string
			err = rows.Scan(&id, &v.Value, &id2)
			v.pk, v.Owner, v.AD = id, keystore.Request(id), keystore.RequestAD(id)
		case "bundles":
			var id, subject string
			err = rows.Scan(&id, &v.Value, &subject)
			v.pk, v.Owner, v.AD = id, keystore.Subject(subject), keystore.BundleAD(id)
		case "transmissions":
			var id, subject string
			err = rows.Scan(&id, &v.Value, &subject)
			v.pk, v.Owner, v.AD = id, keystore.Subject(subject), keystore.TransmissionAD(id)
		case "outbox":
			var id, data string
			err = rows.Scan(&id, &v.Value, &data)
			v.pk, v.Owner, v.AD = id, keystore.Delivery(id), []byte("outbox:"+id)
			if data != "" && data != "{}" {
				json.Unmarshal([]byte(data), &v.Data)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("sealed values: %w", mapErr(err))
		}
		v.Legacy = !keystore.OwnerSealed(v.Value)
		out = append(out, v)
	}
	return out, rows.Err()
}

// ReplaceSealed writes value over the sealed value v was read with, if it
// is still the one there; for an outbox row it also empties the template
// values kept in the clear. It reports whether the row was changed.
func (s *Store) ReplaceSealed(ctx context.Context, v Sealed, value []byte) (bool, error) {
	var c = sealedColumns[0]
	for _, sc := range sealedColumns {
		if sc.table == v.Table {
			c = sc
		}
	}
	if c.table != v.Table {
		return false, fmt.Errorf("replace sealed: unknown table %q", v.Table)
	}
	set := c.col + ` = ?`
	if v.Table == "outbox" {
		set += `, data = '{}'`
	}
	changed := false
	err := s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		var cur []byte
		err := tx.QueryRowContext(ctx, s.q(`SELECT `+c.col+` FROM `+c.table+` WHERE org_id = ? AND `+c.pk+` = ?`), s.org, v.pk).Scan(&cur)
		if err == sql.ErrNoRows || !bytes.Equal(cur, v.Value) {
			return nil // gone or changed meanwhile: leave it
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE `+c.table+` SET `+set+` WHERE org_id = ? AND `+c.pk+` = ?`), value, s.org, v.pk); err != nil {
			return err
		}
		changed = true
		return nil
	}})
	if err != nil {
		return false, fmt.Errorf("replace sealed: %w", mapErr(err))
	}
	return changed, nil
}
