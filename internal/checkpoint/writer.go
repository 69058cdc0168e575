package checkpoint

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// DefaultEvery is how often a server writes a checkpoint unless told
// otherwise: a rewound tail can hide at most this much.
const DefaultEvery = 5 * time.Minute

// Heads reads the heads of both chains as one moment saw them.
type Heads interface {
	Heads(ctx context.Context) (trail, ledger audit.Chain, err error)
}

// Writer takes checkpoints: the scheduled job of a server and the
// `custos audit checkpoint` command call the same Write.
type Writer struct {
	Heads    Heads
	Signer   *Signer
	Sink     Sink
	Instance string
	Now      func() time.Time // time.Now when nil

	last atomic.Int64 // Unix microseconds of the last checkpoint written
}

// Write takes a checkpoint of the heads as they stand, signs it and
// appends it to the sink. It returns the checkpoint once the sink has it.
func (w *Writer) Write(ctx context.Context) (Checkpoint, error) {
	if w.Signer == nil || w.Sink == nil {
		return Checkpoint{}, errors.New("checkpoint: no signer or no sink")
	}
	trail, ledger, err := w.Heads.Heads(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	c := Checkpoint{
		At:       now().UTC().Truncate(time.Microsecond),
		Instance: w.Instance,
		Trail:    Head{Seq: trail.Seq, Hash: trail.Hash},
		Ledger:   Head{Seq: ledger.Seq, Hash: ledger.Hash},
	}
	if len(c.Trail.Hash) == 0 {
		c.Trail.Hash = audit.Genesis
	}
	w.Signer.Sign(&c)
	if err := w.Sink.Append(ctx, c.Marshal()); err != nil {
		return Checkpoint{}, err
	}
	w.last.Store(c.At.UnixMicro())
	return c, nil
}

// LastWritten is when the last checkpoint was written (zero before the first).
func (w *Writer) LastWritten() time.Time {
	if v := w.last.Load(); v != 0 {
		return time.UnixMicro(v).UTC()
	}
	return time.Time{}
}

// Run writes a checkpoint at once and then every interval until ctx ends.
// A failure is logged and tried again at the next tick: the chains stay
// checkable up to the last checkpoint that was written.
func (w *Writer) Run(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if c, err := w.Write(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Error("checkpoint not written", "sink", w.Sink.String(), "err", err)
		} else {
			log.Debug("checkpoint written", "audit_seq", c.Trail.Seq, "ledger_seq", c.Ledger.Seq)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
