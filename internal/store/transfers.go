package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// TransferPerson is one person counted for one transfer flow in one
// calendar year. Person is a keyed hash of the subject id and the year,
// never the subject id.
type TransferPerson struct {
	Year      int
	Flow      string
	Person    string
	Sensitive bool // the flow carried sensitive personal information
	Ordinary  bool // the flow carried other personal information
	Source    string
	At        time.Time
}

// TransferCount is how many people were counted for one flow in a year.
type TransferCount struct {
	Flow      string
	People    int64
	Sensitive int64 // of People, those counted while the flow carried sensitive information
	Ordinary  int64 // of People, those counted while it carried other information
}

// TransferAlert is a threshold alert sent for a year.
type TransferAlert struct {
	Year   int
	Level  string
	Kind   string
	People int64
	At     time.Time
}

// RecordTransfersFn adds people to the year's counts; those counted
// already for their flow and year stay as they were (the primary key
// dedupes). added, when not nil, is set to how many were new.
func (s *Store) RecordTransfersFn(people []TransferPerson, added *int64) TxFn {
	return func(ctx context.Context, tx *sql.Tx) error {
		var n int64
		for start := 0; start < len(people); start += chunkRows {
			part := people[start:min(start+chunkRows, len(people))]
			args := make([]any, 0, len(part)*8)
			for _, p := range part {
				args = append(args, s.org, p.Year, p.Flow, p.Person, boolInt(p.Sensitive), boolInt(p.Ordinary), p.Source, micros(p.At))
			}
			q := `INSERT INTO transfer_people (org_id, year, flow, person, sensitive, ordinary, source, first_at) VALUES ` + values(len(part), 8) +
				` ON CONFLICT (org_id, year, flow, person) DO NOTHING`
			res, err := tx.ExecContext(ctx, s.q(q), args...)
			if err != nil {
				return fmt.Errorf("record transfers: %w", mapErr(err))
			}
			k, _ := res.RowsAffected()
			n += k
		}
		if added != nil {
			*added = n
		}
		return nil
	}
}

// RecordTransfers adds people to the year's counts and waits until they
// are committed, with the audit entries; it returns how many were new.
func (s *Store) RecordTransfers(ctx context.Context, people []TransferPerson, entries ...audit.Entry) (int64, error) {
	var added int64
	err := s.Submit(ctx, &Write{Fn: s.RecordTransfersFn(people, &added), Audit: entries})
	return added, err
}

// TransferCounts returns the people counted per flow in year, by flow.
func (s *Store) TransferCounts(ctx context.Context, year int) ([]TransferCount, error) {
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT flow, COUNT(*), SUM(sensitive), SUM(ordinary) FROM transfer_people WHERE org_id = ? AND year = ? GROUP BY flow ORDER BY flow`), s.org, year)
	if err != nil {
		return nil, fmt.Errorf("transfer counts: %w", mapErr(err))
	}
	defer rows.Close()
	out := []TransferCount{}
	for rows.Next() {
		var c TransferCount
		if err := rows.Scan(&c.Flow, &c.People, &c.Sensitive, &c.Ordinary); err != nil {
			return nil, fmt.Errorf("transfer counts: %w", mapErr(err))
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// TransferTotal returns the distinct people counted in year over every
// flow: all of them, those whose sensitive information went abroad and
// those whose other information did. A person counted for several flows
// counts once.
func (s *Store) TransferTotal(ctx context.Context, year int) (TransferCount, error) {
	var c TransferCount
	var sens, ord sql.NullInt64
	err := s.rd().QueryRowContext(ctx, s.q(`SELECT COUNT(*), SUM(s), SUM(o) FROM (SELECT person, MAX(sensitive) AS s, MAX(ordinary) AS o
		FROM transfer_people WHERE org_id = ? AND year = ? GROUP BY person) AS p`), s.org, year).Scan(&c.People, &sens, &ord)
	c.Sensitive, c.Ordinary = sens.Int64, ord.Int64
	if err != nil {
		return TransferCount{}, fmt.Errorf("transfer total: %w", mapErr(err))
	}
	return c, nil
}

// RecordTransferAlert stores that an alert was sent, with the audit
// entries, unless one of its year, level and kind was already: sent
// reports whether this one is the first.
func (s *Store) RecordTransferAlert(ctx context.Context, a TransferAlert, entries ...audit.Entry) (sent bool, err error) {
	err = s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO transfer_alerts (org_id, year, level, kind, people, at) VALUES `+values(1, 6)+
			` ON CONFLICT (org_id, year, level, kind) DO NOTHING`), s.org, a.Year, a.Level, a.Kind, a.People, micros(a.At))
		if err != nil {
			return fmt.Errorf("record transfer alert: %w", mapErr(err))
		}
		n, _ := res.RowsAffected()
		sent = n == 1
		if !sent {
			// Nothing new happened: the audit entries do not apply.
			return errAlertKnown
		}
		return nil
	}, Audit: entries})
	if err == errAlertKnown {
		return false, nil
	}
	return sent, err
}

var errAlertKnown = fmt.Errorf("transfer alert recorded already")

// TransferAlerts returns the alerts sent for year, oldest first.
func (s *Store) TransferAlerts(ctx context.Context, year int) ([]TransferAlert, error) {
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT year, level, kind, people, at FROM transfer_alerts WHERE org_id = ? AND year = ? ORDER BY at, level, kind`), s.org, year)
	if err != nil {
		return nil, fmt.Errorf("transfer alerts: %w", mapErr(err))
	}
	defer rows.Close()
	out := []TransferAlert{}
	for rows.Next() {
		var a TransferAlert
		var at int64
		if err := rows.Scan(&a.Year, &a.Level, &a.Kind, &a.People, &at); err != nil {
			return nil, fmt.Errorf("transfer alerts: %w", mapErr(err))
		}
		a.At = fromMicros(at)
		out = append(out, a)
	}
	return out, rows.Err()
}
