package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// Organisation states.
const (
	OrgActive   = "active"
	OrgDisabled = "disabled"
)

// Organisation is one organisation of the deployment: a controller with
// its own manifest, operators, keys, subjects, ledger, requests and trail.
// The registry is the deployment's, not any organisation's: it is read and
// changed through any handle.
type Organisation struct {
	ID     string
	Name   string
	Status string
	// Group names the group of companies it belongs to, "" for none:
	// affiliates of one group share the identity people sign in with.
	Group string
	// Hosts are the host names its pages and API answer on, sorted.
	Hosts []string
	// Retention are its own periods for the records Custos keeps for it;
	// empty ones are the deployment's.
	Retention OrgRetention
	CreatedAt time.Time
	UpdatedAt time.Time
}

// OrgRetention are an organisation's periods for the records Custos keeps
// for it; "" is the deployment's setting.
type OrgRetention struct {
	Requests string // keep.Parse: keep.Requests, --request-retention
	Audit    string // keep.Parse: keep.Trail, --audit-retention
	Messages string // a Go duration: settled messages in the outbox, --outbox-retention
}

const orgCols = `id, name, status, group_id, created_at, updated_at, request_retention, audit_retention, outbox_retention`

func scanOrg(sc interface{ Scan(...any) error }) (Organisation, error) {
	var o Organisation
	var created, updated int64
	if err := sc.Scan(&o.ID, &o.Name, &o.Status, &o.Group, &created, &updated, &o.Retention.Requests, &o.Retention.Audit, &o.Retention.Messages); err != nil {
		return Organisation{}, err
	}
	o.CreatedAt, o.UpdatedAt = fromMicros(created), fromMicros(updated)
	return o, nil
}

// CreateOrganisation registers an organisation and starts its audit trail
// and consent ledger, empty. entries go on this handle's trail (the
// deployment administrator's organisation). It fails with ErrConflict when
// the id is taken.
func (s *Store) CreateOrganisation(ctx context.Context, o Organisation, entries ...audit.Entry) (Organisation, error) {
	now := time.Now()
	if o.CreatedAt.IsZero() {
		o.CreatedAt = now
	}
	o.UpdatedAt, o.Status, o.Retention = o.CreatedAt, OrgActive, OrgRetention{}
	err := s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		// A new organisation keeps the deployment's retention
		// (SetOrganisationRetention changes it).
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO organisations (id, name, status, group_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`),
			o.ID, o.Name, o.Status, o.Group, micros(o.CreatedAt), micros(o.UpdatedAt)); err != nil {
			return fmt.Errorf("create organisation: %w", mapErr(err))
		}
		if err := s.putHosts(ctx, tx, o.ID, o.Hosts); err != nil {
			return err
		}
		// The heads are the new organisation's rows: on PostgreSQL,
		// row-level security takes them only while the transaction is
		// scoped to it. The scope is back to this handle's at the end, as
		// the writer left it.
		if err := s.scope(ctx, tx, o.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO audit_head (org_id, seq, hash, key_id) VALUES (?, 0, ?, '')`), o.ID, make([]byte, 32)); err != nil {
			return fmt.Errorf("create organisation: audit head: %w", mapErr(err))
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO ledger_head (org_id, start_seq, seq, hash, key_id) VALUES (?, 0, 0, ?, '')`), o.ID, []byte{}); err != nil {
			return fmt.Errorf("create organisation: ledger head: %w", mapErr(err))
		}
		return s.scope(ctx, tx, s.org)
	}, Audit: entries})
	if err != nil {
		return Organisation{}, err
	}
	return o, nil
}

// putHosts gives org the hosts, which no other organisation may hold
// (ErrConflict).
func (s *Store) putHosts(ctx context.Context, tx *sql.Tx, org string, hosts []string) error {
	for _, h := range hosts {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO org_hosts (host, org_id) VALUES (?, ?)`), h, org); err != nil {
			return fmt.Errorf("host %s: %w", h, mapErr(err))
		}
	}
	return nil
}

// SetOrganisationHosts replaces the host names an organisation answers on;
// entries go on this handle's trail. A host another organisation holds is
// ErrConflict.
func (s *Store) SetOrganisationHosts(ctx context.Context, id string, hosts []string, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM organisations WHERE id = ?`), id).Scan(&one); err != nil {
			return fmt.Errorf("organisation %s: %w", id, mapErr(err))
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM org_hosts WHERE org_id = ?`), id); err != nil {
			return fmt.Errorf("organisation %s: %w", id, mapErr(err))
		}
		return s.putHosts(ctx, tx, id, hosts)
	}, Audit: entries})
}

// SetOrganisationRetention sets an organisation's own retention periods;
// entries go on this handle's trail. An unknown id is ErrNotFound.
func (s *Store) SetOrganisationRetention(ctx context.Context, id string, r OrgRetention, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE organisations SET request_retention = ?, audit_retention = ?, outbox_retention = ?, updated_at = ? WHERE id = ?`),
			r.Requests, r.Audit, r.Messages, micros(time.Now()), id)
		if err != nil {
			return fmt.Errorf("organisation %s: %w", id, mapErr(err))
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return fmt.Errorf("organisation %s: %w", id, ErrNotFound)
		}
		return nil
	}, Audit: entries})
}

// Organisations lists the deployment's organisations by id.
func (s *Store) Organisations(ctx context.Context) ([]Organisation, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+orgCols+` FROM organisations ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("organisations: %w", mapErr(err))
	}
	defer rows.Close()
	out := []Organisation{}
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, fmt.Errorf("organisations: %w", mapErr(err))
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("organisations: %w", mapErr(err))
	}
	hosts, err := s.hosts(ctx, "")
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Hosts = hosts[out[i].ID]
	}
	return out, nil
}

// hosts maps organisations to their hosts: every organisation's, or one's.
func (s *Store) hosts(ctx context.Context, org string) (map[string][]string, error) {
	q, args := `SELECT org_id, host FROM org_hosts ORDER BY org_id, host`, []any{}
	if org != "" {
		q, args = `SELECT org_id, host FROM org_hosts WHERE org_id = ? ORDER BY host`, []any{org}
	}
	rows, err := s.r.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("organisation hosts: %w", mapErr(err))
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var o, h string
		if err := rows.Scan(&o, &h); err != nil {
			return nil, fmt.Errorf("organisation hosts: %w", mapErr(err))
		}
		out[o] = append(out[o], h)
	}
	return out, rows.Err()
}

// Organisation returns one organisation, or ErrNotFound.
func (s *Store) Organisation(ctx context.Context, id string) (Organisation, error) {
	o, err := scanOrg(s.r.QueryRowContext(ctx, s.q(`SELECT `+orgCols+` FROM organisations WHERE id = ?`), id))
	if err != nil {
		return Organisation{}, fmt.Errorf("organisation %s: %w", id, mapErr(err))
	}
	hosts, err := s.hosts(ctx, id)
	if err != nil {
		return Organisation{}, err
	}
	o.Hosts = hosts[id]
	return o, nil
}

// ErrDefaultOrg is returned for a change the deployment's own organisation
// cannot take: it cannot be disabled.
var ErrDefaultOrg = errors.New("the deployment's own organisation cannot be disabled")

// SetOrganisationStatus enables or disables an organisation; entries go on
// this handle's trail. It returns the organisation as it now is, and
// whether it changed.
func (s *Store) SetOrganisationStatus(ctx context.Context, id, status string, entries ...audit.Entry) (Organisation, bool, error) {
	if status != OrgActive && status != OrgDisabled {
		return Organisation{}, false, fmt.Errorf("organisation status %q: want %s or %s", status, OrgActive, OrgDisabled)
	}
	if id == DefaultOrg && status == OrgDisabled {
		return Organisation{}, false, ErrDefaultOrg
	}
	var out Organisation
	changed := false
	err := s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		o, err := scanOrg(tx.QueryRowContext(ctx, s.q(`SELECT `+orgCols+` FROM organisations WHERE id = ?`), id))
		if err != nil {
			return fmt.Errorf("organisation %s: %w", id, mapErr(err))
		}
		out, changed = o, false
		if o.Status == status {
			return errUnchanged
		}
		now := time.Now()
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE organisations SET status = ?, updated_at = ? WHERE id = ?`), status, micros(now), id); err != nil {
			return fmt.Errorf("organisation %s: %w", id, mapErr(err))
		}
		out.Status, out.UpdatedAt, changed = status, now.UTC(), true
		return nil
	}, Audit: entries})
	if errors.Is(err, errUnchanged) {
		return out, false, nil
	}
	if err != nil {
		return Organisation{}, false, err
	}
	return out, changed, nil
}

// errUnchanged rolls a write back that found nothing to change, so that
// nothing is audited.
var errUnchanged = errors.New("unchanged")

// ChangeHeads maps each organisation that has had a change since the
// change_heads table came (migration 0026) to the sequence number of its
// last change: an instance whose change feed of an organisation is behind
// it has changes to read (ChangesSince). One query for the deployment,
// whatever the number of organisations.
func (s *Store) ChangeHeads(ctx context.Context) (map[string]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT org_id, seq FROM change_heads`)
	if err != nil {
		return nil, fmt.Errorf("change heads: %w", mapErr(err))
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var org string
		var seq int64
		if err := rows.Scan(&org, &seq); err != nil {
			return nil, fmt.Errorf("change heads: %w", mapErr(err))
		}
		out[org] = seq
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("change heads: %w", mapErr(err))
	}
	return out, nil
}
