package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/certificate"
)

// CertificateFilter narrows Certificates. Zero values match everything.
type CertificateFilter struct {
	Request string // certificates of this rights request
	Rule    string // certificates of this retention rule
	Kind    string // certificate.KindSweep or certificate.KindRequest
	// Before lists only certificates with an id below it: the last id of
	// a page gives the next (ids sort by creation time).
	Before string
	Limit  int // default 100
}

// PutCertificateFn keeps a signed certificate, in the transaction it runs
// in. Certificates are never changed: keeping one whose id is taken fails
// with ErrConflict.
func (s *Store) PutCertificateFn(c certificate.Certificate) TxFn {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO erasure_certificates (org_id, id, kind, request_id, rule, issued_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			s.org, c.ID, c.Kind, c.Request, c.Rule, micros(c.Finished), string(c.Marshal()))
		if err != nil {
			return fmt.Errorf("put certificate: %w", mapErr(err))
		}
		return nil
	}
}

// PutCertificate keeps a signed certificate with the audit entries that
// record its issue. The store checks its form, not its signature: it
// keeps what the signer produced.
func (s *Store) PutCertificate(ctx context.Context, c certificate.Certificate, entries ...audit.Entry) error {
	if _, err := certificate.Parse(c.Marshal()); err != nil {
		return fmt.Errorf("put certificate: %w", err)
	}
	return s.Submit(ctx, &Write{Fn: s.PutCertificateFn(c), Audit: entries})
}

// Certificate returns the organisation's certificate with id id, or
// ErrNotFound.
func (s *Store) Certificate(ctx context.Context, id string) (certificate.Certificate, error) {
	var body string
	err := s.rd().QueryRowContext(ctx, s.q(`SELECT body FROM erasure_certificates WHERE org_id = ? AND id = ?`), s.org, id).Scan(&body)
	if err != nil {
		return certificate.Certificate{}, fmt.Errorf("certificate %s: %w", id, mapErr(err))
	}
	c, err := certificate.Parse([]byte(body))
	if err != nil {
		return certificate.Certificate{}, fmt.Errorf("certificate %s: %w", id, err)
	}
	return c, nil
}

// Certificates returns the organisation's certificates that f matches,
// newest first.
func (s *Store) Certificates(ctx context.Context, f CertificateFilter) ([]certificate.Certificate, error) {
	q := `SELECT body FROM erasure_certificates WHERE org_id = ?`
	args := []any{s.org}
	for _, c := range []struct{ col, v string }{{"request_id", f.Request}, {"rule", f.Rule}, {"kind", f.Kind}} {
		if c.v != "" {
			q += ` AND ` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	if f.Before != "" {
		q += ` AND id < ?`
		args = append(args, f.Before)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q += ` ORDER BY id DESC LIMIT ?`
	rows, err := s.rd().QueryContext(ctx, s.q(q), append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("certificates: %w", mapErr(err))
	}
	defer rows.Close()
	var out []certificate.Certificate
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("certificates: %w", mapErr(err))
		}
		c, err := certificate.Parse([]byte(body))
		if err != nil {
			return nil, fmt.Errorf("certificates: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("certificates: %w", mapErr(err))
	}
	return out, nil
}
