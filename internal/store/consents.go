package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// Ledger actions. A ledger key is a purpose id (consent: grant, withdraw),
// "objection:<purpose>" (object, lift, override), an act needing its own
// separate consent, "recipient:<id>", "transfer:<id>" or "disclosure"
// (grant, withdraw), or "policy" (accept, with the version accepted).
const (
	ActionGrant    = "grant"
	ActionWithdraw = "withdraw"
	ActionObject   = "object"
	ActionLift     = "lift"
	ActionOverride = "override"
	ActionAccept   = "accept"
)

// ConsentEvent is one entry of the append-only consent ledger.
type ConsentEvent struct {
	Seq        int64
	ID         string
	SubjectID  string
	Purpose    string // the ledger key: a purpose id, or a key of the forms above
	Action     string // one of the ledger actions
	VersionSeq int64  // policy version in force when recorded; for accept, the version accepted
	Method     string // banner, app_dialog, api, paper, guardian, signal
	Language   string
	NoticeHash string // hex SHA-256 of the notice text shown
	Separate   bool   // recorded as a separate consent
	GuardianID string // the guardian who gave it, for a minor
	Signal     string // gpc or dnt when a browser signal caused the event
	Evidence   string // caller's evidence reference (JSON), never PI
	Actor      string
	At         time.Time
	// Prev and Hash chain the event into the ledger; the writer sets them.
	Prev, Hash []byte
}

// ConsentState is a subject's current state for one ledger key: its last event.
type ConsentState struct {
	Purpose    string // the ledger key
	Action     string
	Granted    bool // Action is grant
	ByGuardian bool
	VersionSeq int64
	EventID    string
}

// AppendConsents durably appends events to the ledger and entries to the
// audit trail in one transaction, group-committed with concurrent writers.
func (s *Store) AppendConsents(ctx context.Context, events []ConsentEvent, entries []audit.Entry) error {
	return s.Submit(ctx, &Write{Events: events, Audit: entries})
}

const consentCols = `seq, id, subject_id, purpose, action, version_seq, method, language, notice_hash, separate, guardian_id, signal, evidence, actor, at`

// scanConsent reads the consentCols of a row, then any further columns into more.
func scanConsent(sc interface{ Scan(...any) error }, more ...any) (ConsentEvent, error) {
	var e ConsentEvent
	var sep int
	var guardian sql.NullString
	var at int64
	err := sc.Scan(append([]any{&e.Seq, &e.ID, &e.SubjectID, &e.Purpose, &e.Action, &e.VersionSeq, &e.Method, &e.Language, &e.NoticeHash, &sep, &guardian, &e.Signal, &e.Evidence, &e.Actor, &at}, more...)...)
	e.Separate, e.GuardianID, e.At = sep != 0, guardian.String, fromMicros(at)
	return e, err
}

// ConsentEvents lists a subject's ledger after the given sequence number, oldest first.
func (s *Store) ConsentEvents(ctx context.Context, subjectID string, after int64, limit int) ([]ConsentEvent, error) {
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT `+consentCols+` FROM consent_events WHERE org_id = ? AND subject_id = ? AND seq > ? ORDER BY seq LIMIT ?`), s.org, subjectID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("consent events: %w", mapErr(err))
	}
	defer rows.Close()
	out := []ConsentEvent{}
	for rows.Next() {
		e, err := scanConsent(rows)
		if err != nil {
			return nil, fmt.Errorf("consent events: %w", mapErr(err))
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("consent events: %w", mapErr(err))
	}
	return out, nil
}

// ConsentEvent returns one event of a subject's ledger.
func (s *Store) ConsentEvent(ctx context.Context, subjectID, eventID string) (ConsentEvent, error) {
	e, err := scanConsent(s.rd().QueryRowContext(ctx, s.q(`SELECT `+consentCols+` FROM consent_events WHERE org_id = ? AND subject_id = ? AND id = ?`), s.org, subjectID, eventID))
	if err != nil {
		return ConsentEvent{}, fmt.Errorf("consent event: %w", mapErr(err))
	}
	return e, nil
}

// ConsentEventByID returns an event by id alone (to check it exists after a crash).
func (s *Store) ConsentEventByID(ctx context.Context, eventID string) (ConsentEvent, error) {
	e, err := scanConsent(s.rd().QueryRowContext(ctx, s.q(`SELECT `+consentCols+` FROM consent_events WHERE org_id = ? AND id = ?`), s.org, eventID))
	if err != nil {
		return ConsentEvent{}, fmt.Errorf("consent event: %w", mapErr(err))
	}
	return e, nil
}

// ConsentRate is how many subjects currently grant a purpose.
type ConsentRate struct {
	Purpose   string
	Granted   int64
	Withdrawn int64
}

// ConsentRates counts current consent state per purpose.
func (s *Store) ConsentRates(ctx context.Context) ([]ConsentRate, error) {
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT purpose, SUM(granted), COUNT(*) - SUM(granted) FROM consent_state WHERE org_id = ? AND action IN ('grant', 'withdraw') GROUP BY purpose ORDER BY purpose`), s.org)
	if err != nil {
		return nil, fmt.Errorf("consent rates: %w", mapErr(err))
	}
	defer rows.Close()
	var out []ConsentRate
	for rows.Next() {
		var r ConsentRate
		if err := rows.Scan(&r.Purpose, &r.Granted, &r.Withdrawn); err != nil {
			return nil, fmt.Errorf("consent rates: %w", mapErr(err))
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
