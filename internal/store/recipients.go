package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// DueRecipientTasks lists up to limit of the organisation's pending
// recipient tasks that can be sent without a person (webhook or email) and
// whose next attempt is due by now, oldest first. A dispatcher runs it for
// each organisation.
func (s *Store) DueRecipientTasks(ctx context.Context, now time.Time, limit int) ([]RecipientTask, error) {
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT `+recipientTaskColumns+` FROM recipient_tasks WHERE org_id = ? AND state = 'pending' AND method IN ('webhook', 'email') AND next_at <= ? ORDER BY next_at, id LIMIT ?`),
		s.org, micros(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due recipient tasks: %w", mapErr(err))
	}
	defer rows.Close()
	var out []RecipientTask
	for rows.Next() {
		t, err := scanRecipientTask(rows)
		if err != nil {
			return nil, fmt.Errorf("due recipient tasks: %w", mapErr(err))
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("due recipient tasks: %w", mapErr(err))
	}
	return out, nil
}

// MarkRecipientTask records the outcome of an attempt at a task: its new
// state, attempt count, next attempt and last error, with the attempt's
// audit entries in the same transaction. An acknowledgement that arrived
// while the attempt was under way is kept: an acknowledged task is never
// moved back. A task that does not exist is ErrNotFound.
func (s *Store) MarkRecipientTask(ctx context.Context, id, state string, attempts int, next time.Time, lastError string, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE recipient_tasks SET state = ?, attempts = ?, next_at = ?, last_error = ?, updated_at = ? WHERE org_id = ? AND id = ? AND state <> 'acknowledged'`),
			state, attempts, micros(next), lastError, micros(time.Now()), s.org, id)
		if err != nil {
			return fmt.Errorf("mark recipient task: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		var one int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM recipient_tasks WHERE org_id = ? AND id = ?`), s.org, id).Scan(&one); err != nil {
			return fmt.Errorf("mark recipient task: %w", mapErr(err))
		}
		return nil
	}, Audit: entries})
}
