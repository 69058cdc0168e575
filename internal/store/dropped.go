package store

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// DroppedWrites counts the queued writes (Enqueue: sampled and denied
// decision records) that failed to commit since the store opened. Nobody
// waits on them, so each is logged and counted here, and lost.
func (s *Store) DroppedWrites() int64 { return s.writer.dropped.Load() }

// drop accounts for a queued write that failed. The log says which audit
// actions were lost and the kind of failure, never a value: a driver's
// message can quote what the write held.
func (w *writer) drop(wr *Write, err error) {
	w.dropped.Add(1)
	var actions []string
	for _, e := range wr.Audit {
		if !slices.Contains(actions, e.Action) {
			actions = append(actions, e.Action)
		}
	}
	w.s.log.Error("queued write failed and was lost", "audit_entries", len(wr.Audit), "actions", actions,
		"events", len(wr.Events), "cause", failureKind(err))
}

// failureKind names what kind of error a write failed with, without its
// text.
func failureKind(err error) string {
	var pe *pgconn.PgError
	var se *sqlite.Error
	switch {
	case errors.Is(err, ErrConflict):
		return "conflict"
	case errors.Is(err, ErrBusy):
		return "busy"
	case errors.Is(err, ErrClosed):
		return "closed"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &pe):
		return "postgres " + pe.Code
	case errors.As(err, &se):
		return "sqlite " + strconv.Itoa(se.Code())
	}
	return "other"
}
