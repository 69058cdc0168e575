package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// Subject is a natural person known to Custos by the application's own id.
type Subject struct {
	ID         string
	BirthDate  string // YYYY-MM-DD, or empty
	AgeBand    string // e.g. under_14, 14_17, adult; or empty
	GuardianID string
	// Jurisdiction is the manifest jurisdiction whose rules apply to the
	// subject (legal bases, minors' age); empty for the manifest's default.
	Jurisdiction string
	// Language is the subject's language for notices (zh-CN or en); empty
	// when not known.
	Language   string
	Restricted bool
	// Arrangement is what the person arranged for their information after
	// their death: "" (none stated) or "refuse_relatives".
	Arrangement string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Identities  []Identity
}

// Identity is one way of recognising a subject. Only its keyed hash is
// searchable; the raw value, when it must be kept, is sealed.
type Identity struct {
	Kind   string
	Hash   []byte
	Sealed []byte
}

// CreateSubject stores a new subject with its identities. It returns
// ErrConflict when the id or one of the identities is already registered.
func (s *Store) CreateSubject(ctx context.Context, sub Subject, entries ...audit.Entry) error {
	now := micros(time.Now())
	if !sub.CreatedAt.IsZero() {
		now = micros(sub.CreatedAt) // the caller's clock: decisions compare it with policy instants
	}
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO subjects (org_id, id, birth_date, age_band, guardian_id, jurisdiction, language, restricted, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			s.org, sub.ID, nullString(sub.BirthDate), nullString(sub.AgeBand), nullString(sub.GuardianID), nullString(sub.Jurisdiction), nullString(sub.Language), boolInt(sub.Restricted), now, now); err != nil {
			return fmt.Errorf("create subject: %w", mapErr(err))
		}
		return s.insertIdentities(ctx, tx, sub.ID, sub.Identities, now)
	}, Audit: entries})
}

func (s *Store) insertIdentities(ctx context.Context, tx *sql.Tx, subjectID string, ids []Identity, now int64) error {
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO identities (org_id, hash, kind, subject_id, sealed, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
			s.org, id.Hash, id.Kind, subjectID, id.Sealed, now); err != nil {
			return fmt.Errorf("add identity: %w", mapErr(err))
		}
	}
	return nil
}

// AddIdentities registers more identities for an existing subject.
func (s *Store) AddIdentities(ctx context.Context, subjectID string, ids []Identity, entries ...audit.Entry) error {
	now := micros(time.Now())
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		if err := s.touchSubject(ctx, tx, subjectID, now); err != nil {
			return err
		}
		return s.insertIdentities(ctx, tx, subjectID, ids, now)
	}, Audit: entries})
}

// ReplaceIdentities puts id in place of every identity of its kind the
// subject has, in one transaction: the old hashes stop finding the
// subject as the new one starts to. ErrConflict when id's hash belongs to
// another subject; ErrNotFound for an unknown subject.
func (s *Store) ReplaceIdentities(ctx context.Context, subjectID string, id Identity, entries ...audit.Entry) error {
	now := micros(time.Now())
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		if err := s.touchSubject(ctx, tx, subjectID, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM identities WHERE org_id = ? AND subject_id = ? AND kind = ?`), s.org, subjectID, id.Kind); err != nil {
			return fmt.Errorf("replace identity: %w", mapErr(err))
		}
		return s.insertIdentities(ctx, tx, subjectID, []Identity{id}, now)
	}, Audit: entries})
}

// SubjectPatch changes some of a subject's attributes; nil fields stay.
type SubjectPatch struct {
	Arrangement  *string
	BirthDate    *string
	AgeBand      *string
	GuardianID   *string
	Jurisdiction *string
	Language     *string
	Restricted   *bool
}

// UpdateSubject applies a patch in one statement; it also moves the
// subject's updated_at, and fails with ErrNotFound for an unknown id.
func (s *Store) UpdateSubject(ctx context.Context, id string, p SubjectPatch, entries ...audit.Entry) error {
	var set []string
	var args []any
	str := func(col string, v *string) {
		if v != nil {
			set, args = append(set, col+" = ?"), append(args, nullString(*v))
		}
	}
	str("birth_date", p.BirthDate)
	str("age_band", p.AgeBand)
	str("guardian_id", p.GuardianID)
	str("jurisdiction", p.Jurisdiction)
	str("language", p.Language)
	str("arrangement", p.Arrangement)
	if p.Restricted != nil {
		set, args = append(set, "restricted = ?"), append(args, boolInt(*p.Restricted))
	}
	set, args = append(set, "updated_at = ?"), append(args, micros(time.Now()), s.org, id)
	query := s.q(`UPDATE subjects SET ` + strings.Join(set, ", ") + ` WHERE org_id = ? AND id = ?`)
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("update subject: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("subject: %w", ErrNotFound)
		}
		return nil
	}, Audit: entries})
}

func (s *Store) touchSubject(ctx context.Context, tx *sql.Tx, id string, now int64) error {
	res, err := tx.ExecContext(ctx, s.q(`UPDATE subjects SET updated_at = ? WHERE org_id = ? AND id = ?`), now, s.org, id)
	if err != nil {
		return fmt.Errorf("update subject: %w", mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("subject: %w", ErrNotFound)
	}
	return nil
}

// Subject returns a subject with its identities.
func (s *Store) Subject(ctx context.Context, id string) (Subject, error) {
	sub, err := s.subjectRow(ctx, id)
	if err != nil {
		return Subject{}, err
	}
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT kind, hash, sealed FROM identities WHERE org_id = ? AND subject_id = ? ORDER BY kind, created_at, hash`), s.org, id)
	if err != nil {
		return Subject{}, fmt.Errorf("subject identities: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var idn Identity
		if err := rows.Scan(&idn.Kind, &idn.Hash, &idn.Sealed); err != nil {
			return Subject{}, fmt.Errorf("subject identities: %w", mapErr(err))
		}
		sub.Identities = append(sub.Identities, idn)
	}
	if err := rows.Err(); err != nil {
		return Subject{}, fmt.Errorf("subject identities: %w", mapErr(err))
	}
	return sub, nil
}

func (s *Store) subjectRow(ctx context.Context, id string) (Subject, error) {
	var r subjectRow
	if err := s.rd().QueryRowContext(ctx, s.q(`SELECT `+subjectColumns+` FROM subjects WHERE org_id = ? AND id = ?`), s.org, id).Scan(r.dest()...); err != nil {
		return Subject{}, fmt.Errorf("subject: %w", mapErr(err))
	}
	return r.subject(), nil
}

// The subjects columns a subjectRow scans, bare and under the alias s.
var subjectColumns, subjectColumnsOfS = subjectCols(""), subjectCols("s")

// subjectCols are the subjects columns a subjectRow scans, each prefixed
// with the table's alias when one is given.
func subjectCols(alias string) string {
	cols := []string{"id", "birth_date", "age_band", "guardian_id", "jurisdiction", "language", "restricted", "arrangement", "created_at", "updated_at"}
	if alias != "" {
		for i, c := range cols {
			cols[i] = alias + "." + c
		}
	}
	return strings.Join(cols, ", ")
}

// subjectRow receives the columns of subjectCols.
type subjectRow struct {
	id                                            string
	birth, band, guardian, arrangement, jur, lang sql.NullString
	restricted                                    int
	created, updated                              int64
}

func (r *subjectRow) dest() []any {
	return []any{&r.id, &r.birth, &r.band, &r.guardian, &r.jur, &r.lang, &r.restricted, &r.arrangement, &r.created, &r.updated}
}

func (r *subjectRow) subject() Subject {
	return Subject{ID: r.id, BirthDate: r.birth.String, AgeBand: r.band.String, GuardianID: r.guardian.String, Arrangement: r.arrangement.String,
		Jurisdiction: r.jur.String, Language: r.lang.String, Restricted: r.restricted != 0,
		CreatedAt: fromMicros(r.created), UpdatedAt: fromMicros(r.updated)}
}

// SubjectByIdentity finds the subject an identity hash belongs to. It
// reads as much whether or not the identity is on file, so that the time
// it takes does not tell: an equality lookup that finds nothing stops at
// the index, one that finds the row goes on to the table; this one reads
// the first row at or after hash either way and compares in Go. (Only a
// hash past the last one on file reads less; it is not on file, and a
// keyed hash cannot be aimed there.)
func (s *Store) SubjectByIdentity(ctx context.Context, hash []byte) (string, error) {
	var found []byte
	var id string
	err := s.rd().QueryRowContext(ctx, s.q(`SELECT hash, subject_id FROM identities WHERE org_id = ? AND hash >= ? ORDER BY hash LIMIT 1`), s.org, hash).Scan(&found, &id)
	if err != nil {
		return "", fmt.Errorf("identity: %w", mapErr(err))
	}
	if !bytes.Equal(found, hash) {
		return "", errNoIdentity
	}
	return id, nil
}

// errNoIdentity is made once: formatting it on each miss would be work a
// hit does not do.
var errNoIdentity = fmt.Errorf("identity: %w", ErrNotFound)

// SubjectState returns what a decision needs: the subject and its current
// consent per purpose. It is one query, so that a decision that misses
// the cache waits on one round trip to PostgreSQL, not two.
func (s *Store) SubjectState(ctx context.Context, id string) (Subject, []ConsentState, error) {
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT `+subjectColumnsOfS+`, c.purpose, c.action, c.by_guardian, c.version_seq, c.event_id
		FROM subjects s LEFT JOIN consent_state c ON c.org_id = s.org_id AND c.subject_id = s.id
		WHERE s.org_id = ? AND s.id = ?`), s.org, id)
	if err != nil {
		return Subject{}, nil, fmt.Errorf("subject state: %w", mapErr(err))
	}
	defer rows.Close()
	var sub Subject
	var out []ConsentState
	found := false
	for rows.Next() {
		var r subjectRow
		var purpose, action, event sql.NullString
		var bg, version sql.NullInt64
		if err := rows.Scan(append(r.dest(), &purpose, &action, &bg, &version, &event)...); err != nil {
			return Subject{}, nil, fmt.Errorf("subject state: %w", mapErr(err))
		}
		if !found {
			sub, found = r.subject(), true
		}
		if purpose.Valid { // no row of consent_state: the LEFT JOIN's NULLs
			out = append(out, ConsentState{Purpose: purpose.String, Action: action.String, Granted: action.String == ActionGrant,
				ByGuardian: bg.Int64 != 0, VersionSeq: version.Int64, EventID: event.String})
		}
	}
	if err := rows.Err(); err != nil {
		return Subject{}, nil, fmt.Errorf("subject state: %w", mapErr(err))
	}
	if !found {
		return Subject{}, nil, errNoSubject
	}
	return sub, out, nil
}

// errNoSubject is made once, as errNoIdentity is.
var errNoSubject = fmt.Errorf("subject: %w", ErrNotFound)
