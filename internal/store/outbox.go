package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/notify"
)

// OutboxFn queues a delivery inside another change's transaction, so the
// message is sent if and only if the change lands.
func (s *Store) OutboxFn(d notify.Delivery) TxFn {
	return func(ctx context.Context, tx *sql.Tx) error {
		// The template values travel sealed with the address; data is
		// left empty, as are rows from before (it held them in the clear).
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO outbox (org_id, id, channel, to_sealed, template, language, data, attempts, next_at, status, last_error, subject_id, request_id, created_at) VALUES (?, ?, ?, ?, ?, ?, '{}', ?, ?, ?, ?, ?, ?, ?)`),
			s.org, d.ID, d.Channel, d.Sealed, d.Template, d.Lang, d.Attempts, micros(d.NextAt), d.Status, d.LastError, d.Subject, d.Request, micros(time.Now()))
		if err != nil {
			return fmt.Errorf("queue delivery: %w", mapErr(err))
		}
		return nil
	}
}

// Outbox adapts the store to notify.Outbox, for the handle's organisation:
// its deliveries are queued, dispatched and forgotten there only, and a
// dispatcher runs one per organisation.
func (s *Store) Outbox() notify.Outbox { return outbox{s} }

type outbox struct{ s *Store }

func (o outbox) Enqueue(ctx context.Context, d notify.Delivery) error {
	return o.s.Submit(ctx, &Write{Fn: o.s.OutboxFn(d)})
}

func (o outbox) Due(ctx context.Context, now time.Time, limit int) ([]notify.Delivery, error) {
	s := o.s
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT id, channel, to_sealed, template, language, attempts, next_at, status, last_error, subject_id, request_id FROM outbox WHERE org_id = ? AND status = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?`),
		s.org, micros(now), limit)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", mapErr(err))
	}
	defer rows.Close()
	var out []notify.Delivery
	for rows.Next() {
		var d notify.Delivery
		var next int64
		if err := rows.Scan(&d.ID, &d.Channel, &d.Sealed, &d.Template, &d.Lang, &d.Attempts, &next, &d.Status, &d.LastError, &d.Subject, &d.Request); err != nil {
			return nil, fmt.Errorf("outbox: %w", mapErr(err))
		}
		d.NextAt = fromMicros(next)
		out = append(out, d)
	}
	return out, rows.Err()
}

func (o outbox) MarkSent(ctx context.Context, id string, at time.Time) error {
	s := o.s
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1 WHERE org_id = ? AND id = ?`), micros(at), s.org, id)
		return mapErr(err)
	}})
}

func (o outbox) MarkFailed(ctx context.Context, id string, attempts int, next time.Time, dead bool, reason string) error {
	s := o.s
	status := "pending"
	if dead {
		status = "dead"
	}
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`UPDATE outbox SET status = ?, attempts = ?, next_at = ?, last_error = ? WHERE org_id = ? AND id = ?`), status, attempts, micros(next), reason, s.org, id)
		return mapErr(err)
	}})
}

func (o outbox) Settled(ctx context.Context, before time.Time, limit int) ([]string, error) {
	s := o.s
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT id FROM outbox
		WHERE org_id = ? AND status IN ('sent', 'dead') AND length(to_sealed) > 0 AND COALESCE(sent_at, next_at) < ?
		ORDER BY id LIMIT ?`), s.org, micros(before), limit)
	if err != nil {
		return nil, fmt.Errorf("outbox: settled: %w", mapErr(err))
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("outbox: settled: %w", mapErr(err))
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func (o outbox) Forget(ctx context.Context, ids []string) error {
	s := o.s
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE outbox SET to_sealed = ?, data = '{}' WHERE org_id = ? AND id = ?`), []byte{}, s.org, id); err != nil {
				return fmt.Errorf("outbox: forget: %w", mapErr(err))
			}
		}
		return nil
	}})
}

// queryer is a database or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// SubjectOwners lists the owners of the keys holding what is sealed about a
// subject: the subject's own, its requests' and its messages'. Erasure
// destroys them all.
func (s *Store) SubjectOwners(ctx context.Context, subjectID string) ([]string, error) {
	if s.dialect != Postgres {
		return s.subjectOwners(ctx, s.r, subjectID)
	}
	// In a read-only transaction, which carries the organisation for
	// row-level security.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("subject keys: %w", mapErr(err))
	}
	defer tx.Rollback()
	if err := s.scope(ctx, tx, s.org); err != nil {
		return nil, err
	}
	return s.subjectOwners(ctx, tx, subjectID)
}

func (s *Store) subjectOwners(ctx context.Context, db queryer, subjectID string) ([]string, error) {
	owners := []string{keystore.Subject(subjectID)}
	for _, q := range []struct {
		query string
		args  []any
		owner func(string) string
	}{
		{`SELECT id FROM requests WHERE org_id = ? AND subject_id = ? ORDER BY id`, []any{s.org, subjectID}, keystore.Request},
		{`SELECT id FROM outbox WHERE org_id = ? AND (subject_id = ? OR request_id IN (SELECT id FROM requests WHERE org_id = ? AND subject_id = ?)) ORDER BY id`,
			[]any{s.org, subjectID, s.org, subjectID}, keystore.Delivery},
	} {
		rows, err := db.QueryContext(ctx, s.q(q.query), q.args...)
		if err != nil {
			return nil, fmt.Errorf("subject keys: %w", mapErr(err))
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("subject keys: %w", mapErr(err))
			}
			owners = append(owners, q.owner(id))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("subject keys: %w", mapErr(err))
		}
	}
	return owners, nil
}

// Shredder destroys the keys of owners; internal/keystore.Store.Destroy is
// one.
type Shredder func(ctx context.Context, owners ...string) (int, error)

// Deliveries lists a request's messages (without addresses), for its record.
func (s *Store) Deliveries(ctx context.Context, requestID string) ([]notify.Delivery, error) {
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT id, channel, template, language, attempts, status, last_error FROM outbox WHERE org_id = ? AND request_id = ? ORDER BY created_at, id`), s.org, requestID)
	if err != nil {
		return nil, fmt.Errorf("deliveries: %w", mapErr(err))
	}
	defer rows.Close()
	var out []notify.Delivery
	for rows.Next() {
		var d notify.Delivery
		if err := rows.Scan(&d.ID, &d.Channel, &d.Template, &d.Lang, &d.Attempts, &d.Status, &d.LastError); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// EraseSubjectFn removes a subject's identities and personal attributes and
// the particulars of its requests, keeping the opaque id the ledger refers
// to. First it destroys, through shred, the keys of everything sealed about
// the subject (SubjectOwners), so that what is deleted here cannot be read
// back from a backup either, and so that the erasure holds even if the
// deletion does not commit. A message queued later in the same transaction
// (the notice that the erasure is done) has a key of its own and is spared.
func (s *Store) EraseSubjectFn(subjectID string, shred Shredder) TxFn {
	return func(ctx context.Context, tx *sql.Tx) error {
		if shred == nil {
			return fmt.Errorf("erase subject: no key store to destroy the subject's keys")
		}
		owners, err := s.subjectOwners(ctx, tx, subjectID)
		if err != nil {
			return fmt.Errorf("erase subject: %w", err)
		}
		if _, err := shred(ctx, owners...); err != nil {
			return fmt.Errorf("erase subject: %w", err)
		}
		now := micros(time.Now())
		// Each statement takes the organisation, then the subject; the one
		// with a subquery scopes both tables.
		for _, q := range []string{
			`DELETE FROM identities WHERE org_id = ? AND subject_id = ?`,
			`UPDATE subjects SET guardian_id = NULL WHERE org_id = ? AND guardian_id = ?`,
			`UPDATE requests SET details = NULL WHERE org_id = ? AND subject_id = ?`,
			`DELETE FROM otps WHERE org_id = ? AND request_id IN (SELECT id FROM requests WHERE org_id = ? AND subject_id = ?)`,
			`DELETE FROM bundles WHERE org_id = ? AND subject_id = ?`,
			// A transmission not yet made is given up: its export went
			// with the key.
			`UPDATE transmissions SET sealed = NULL, state = CASE WHEN state = 'pending' THEN 'failed' ELSE state END WHERE org_id = ? AND subject_id = ?`,
			`DELETE FROM center_signins WHERE org_id = ? AND subject_id = ?`,
			`DELETE FROM vault_values WHERE org_id = ? AND subject_id = ?`,
		} {
			args := []any{s.org, subjectID}
			if strings.Count(q, "?") == 3 {
				args = []any{s.org, s.org, subjectID}
			}
			if _, err := tx.ExecContext(ctx, s.q(q), args...); err != nil {
				return fmt.Errorf("erase subject: %w", mapErr(err))
			}
		}
		// Messages to the person lose their contents; those not yet sent
		// are given up.
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE outbox SET to_sealed = ?, data = '{}',
			last_error = CASE WHEN status = 'pending' THEN 'erased' ELSE last_error END,
			status = CASE WHEN status = 'pending' THEN 'dead' ELSE status END
			WHERE org_id = ? AND (subject_id = ? OR request_id IN (SELECT id FROM requests WHERE org_id = ? AND subject_id = ?))`), []byte{}, s.org, subjectID, s.org, subjectID); err != nil {
			return fmt.Errorf("erase subject: %w", mapErr(err))
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE subjects SET birth_date = NULL, age_band = NULL, guardian_id = NULL, erased_at = ?, updated_at = ? WHERE org_id = ? AND id = ?`), now, now, s.org, subjectID); err != nil {
			return fmt.Errorf("erase subject: %w", mapErr(err))
		}
		return nil
	}
}

// Bundle is a sealed export for one request.
type Bundle struct {
	ID        string
	RequestID string
	SubjectID string
	Sealed    []byte
	TokenHash []byte
	ExpiresAt time.Time
	CreatedAt time.Time
	Downloads int
}

// PutBundleFn stores a bundle inside a request change.
func (s *Store) PutBundleFn(b Bundle) TxFn {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO bundles (org_id, id, request_id, subject_id, sealed, token_hash, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			s.org, b.ID, b.RequestID, b.SubjectID, b.Sealed, b.TokenHash, micros(b.ExpiresAt), micros(b.CreatedAt))
		if err != nil {
			return fmt.Errorf("store bundle: %w", mapErr(err))
		}
		return nil
	}
}

// BundleByToken finds a bundle by the hash of its download token. Another
// organisation's bundle is not found: its token downloads nothing here.
func (s *Store) BundleByToken(ctx context.Context, tokenHash []byte) (Bundle, error) {
	var b Bundle
	var exp, created int64
	err := s.rd().QueryRowContext(ctx, s.q(`SELECT id, request_id, subject_id, sealed, token_hash, expires_at, created_at, downloads FROM bundles WHERE org_id = ? AND token_hash = ?`), s.org, tokenHash).
		Scan(&b.ID, &b.RequestID, &b.SubjectID, &b.Sealed, &b.TokenHash, &exp, &created, &b.Downloads)
	if err != nil {
		return Bundle{}, fmt.Errorf("bundle: %w", mapErr(err))
	}
	b.ExpiresAt, b.CreatedAt = fromMicros(exp), fromMicros(created)
	return b, nil
}

// LatestBundle is the newest bundle of a request.
func (s *Store) LatestBundle(ctx context.Context, requestID string) (Bundle, error) {
	var b Bundle
	var exp, created int64
	err := s.rd().QueryRowContext(ctx, s.q(`SELECT id, request_id, subject_id, sealed, token_hash, expires_at, created_at, downloads FROM bundles WHERE org_id = ? AND request_id = ? ORDER BY created_at DESC, id DESC LIMIT 1`), s.org, requestID).
		Scan(&b.ID, &b.RequestID, &b.SubjectID, &b.Sealed, &b.TokenHash, &exp, &created, &b.Downloads)
	if err != nil {
		return Bundle{}, fmt.Errorf("bundle: %w", mapErr(err))
	}
	b.ExpiresAt, b.CreatedAt = fromMicros(exp), fromMicros(created)
	return b, nil
}

// CountDownload records a download, with its audit entry.
func (s *Store) CountDownload(ctx context.Context, id string, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`UPDATE bundles SET downloads = downloads + 1 WHERE org_id = ? AND id = ?`), s.org, id)
		return mapErr(err)
	}, Audit: entries})
}

// RecipientTask tells one recipient about a deletion, correction or
// restriction, tracked until acknowledged.
type RecipientTask struct {
	ID         string
	RequestID  string
	Recipient  string
	Action     string // deletion, correction, restriction
	Method     string // webhook, email, manual
	Categories []string
	State      string // pending, sent, acknowledged, dead
	Attempts   int
	NextAt     time.Time
	LastError  string
	UpdatedAt  time.Time
	// AckedAt and AckedBy say when the notice was acknowledged and by
	// whom: "recipient:<id>" through its acknowledgement link, else the
	// member of staff who recorded it. Zero and "" until then.
	AckedAt time.Time
	AckedBy string
}

// recipientTaskColumns are the columns scanRecipientTask reads, in order.
const recipientTaskColumns = `id, request_id, recipient, action, method, categories, state, attempts, next_at, last_error, updated_at, acked_at, acked_by`

func scanRecipientTask(sc interface{ Scan(...any) error }) (RecipientTask, error) {
	var t RecipientTask
	var cats string
	var next, updated, acked int64
	if err := sc.Scan(&t.ID, &t.RequestID, &t.Recipient, &t.Action, &t.Method, &cats, &t.State, &t.Attempts, &next, &t.LastError, &updated, &acked, &t.AckedBy); err != nil {
		return RecipientTask{}, err
	}
	json.Unmarshal([]byte(cats), &t.Categories)
	t.NextAt, t.UpdatedAt = fromMicros(next), fromMicros(updated)
	if acked != 0 {
		t.AckedAt = fromMicros(acked)
	}
	return t, nil
}

// RecipientTaskFn records a task inside a request change.
func (s *Store) RecipientTaskFn(t RecipientTask) TxFn {
	return func(ctx context.Context, tx *sql.Tx) error {
		cats, _ := json.Marshal(t.Categories)
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO recipient_tasks (org_id, id, request_id, recipient, action, method, categories, state, attempts, next_at, last_error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			s.org, t.ID, t.RequestID, t.Recipient, t.Action, t.Method, string(cats), t.State, t.Attempts, micros(t.NextAt), t.LastError, micros(t.UpdatedAt))
		if err != nil {
			return fmt.Errorf("recipient task: %w", mapErr(err))
		}
		return nil
	}
}

// RecipientTasks lists a request's recipient tasks.
func (s *Store) RecipientTasks(ctx context.Context, requestID string) ([]RecipientTask, error) {
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT `+recipientTaskColumns+` FROM recipient_tasks WHERE org_id = ? AND request_id = ? ORDER BY recipient, id`), s.org, requestID)
	if err != nil {
		return nil, fmt.Errorf("recipient tasks: %w", mapErr(err))
	}
	defer rows.Close()
	var out []RecipientTask
	for rows.Next() {
		t, err := scanRecipientTask(rows)
		if err != nil {
			return nil, fmt.Errorf("recipient tasks: %w", mapErr(err))
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RecipientTask returns one recipient task by id.
func (s *Store) RecipientTask(ctx context.Context, id string) (RecipientTask, error) {
	t, err := scanRecipientTask(s.rd().QueryRowContext(ctx, s.q(`SELECT `+recipientTaskColumns+` FROM recipient_tasks WHERE org_id = ? AND id = ?`), s.org, id))
	if err != nil {
		return RecipientTask{}, fmt.Errorf("recipient task: %w", mapErr(err))
	}
	return t, nil
}

// AckRecipientTask marks a request's task for a recipient acknowledged by
// by at at. An acknowledgement is recorded once: acknowledging again
// changes nothing and drops entries, so the trail shows the first one.
func (s *Store) AckRecipientTask(ctx context.Context, requestID, recipient, by string, at time.Time, entries ...audit.Entry) error {
	return s.ack(ctx, `request_id = ? AND recipient = ?`, []any{requestID, recipient}, by, at, entries)
}

// AckRecipientTaskByID is AckRecipientTask for the task with this id.
func (s *Store) AckRecipientTaskByID(ctx context.Context, id, by string, at time.Time, entries ...audit.Entry) error {
	return s.ack(ctx, `id = ?`, []any{id}, by, at, entries)
}

func (s *Store) ack(ctx context.Context, where string, args []any, by string, at time.Time, entries []audit.Entry) error {
	w := &Write{Audit: entries}
	w.Fn = func(ctx context.Context, tx *sql.Tx) error {
		set := append([]any{micros(at), by, micros(at), s.org}, args...)
		res, err := tx.ExecContext(ctx, s.q(`UPDATE recipient_tasks SET state = 'acknowledged', acked_at = ?, acked_by = ?, updated_at = ? WHERE org_id = ? AND `+where+` AND state <> 'acknowledged'`), set...)
		if err != nil {
			return fmt.Errorf("acknowledge: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		var one int
		err = tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM recipient_tasks WHERE org_id = ? AND `+where+` LIMIT 1`), append([]any{s.org}, args...)...).Scan(&one)
		if err != nil {
			return fmt.Errorf("recipient task: %w", mapErr(err))
		}
		w.Audit = nil // acknowledged before: nothing new to record
		return nil
	}
	return s.Submit(ctx, w)
}

// DeleteExpiredBundles deletes the export bundles whose download window
// ended before now, and returns how many; entry, if not nil, makes the
// audit entry for that count and goes on the trail with the deletion.
func (s *Store) DeleteExpiredBundles(ctx context.Context, now time.Time, entry func(n int64) audit.Entry) (int64, error) {
	// The count crosses from the writer's goroutine, which may still be
	// running Fn when a cancelled ctx has made Submit return.
	var n atomic.Int64
	w := &Write{}
	w.Fn = func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM bundles WHERE org_id = ? AND expires_at < ?`), s.org, micros(now))
		if err != nil {
			return fmt.Errorf("expired bundles: %w", mapErr(err))
		}
		affected, _ := res.RowsAffected()
		n.Store(affected)
		w.Audit = nil
		if affected > 0 && entry != nil {
			w.Audit = []audit.Entry{entry(affected)}
		}
		return nil
	}
	err := s.Submit(ctx, w)
	return n.Load(), err
}
