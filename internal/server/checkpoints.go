package server

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/checkpoint"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/store"
)

// openCheckpoints returns the writer of the configured checkpoints (nil when
// none are configured) and the trail as the API and the console verify
// it: against the checkpoint file too, when checkpoints go to a file.
func openCheckpoints(cfg config.Config, keys Keys, st *store.Store, reg prometheus.Registerer) (*checkpoint.Writer, *audit.Trail, error) {
	trail := audit.NewTrail(st)
	if cfg.Checkpoints == "" {
		return nil, trail, nil
	}
	if keys.Checkpoints == nil {
		return nil, nil, errors.New("checkpoints are signed with the receipt key: set CUSTOS_RECEIPT_KEY_FILE or --secrets-dir (custos secrets init creates one)")
	}
	sink, err := checkpoint.Open(cfg.Checkpoints)
	if err != nil {
		return nil, nil, err
	}
	host, _ := os.Hostname()
	w := &checkpoint.Writer{Heads: st, Signer: keys.Checkpoints, Sink: sink, Instance: host + " " + cfg.Addr}
	if f, ok := sink.(*checkpoint.File); ok {
		// The file exists from the start, empty until the first checkpoint,
		// so that a verification before it finds no anchors rather than
		// no file: a missing file is an error worth reporting later on.
		if err := createIfMissing(f.Path); err != nil {
			return nil, nil, err
		}
		trail = trail.WithAnchors(checkpoint.FileAnchors(f.Path, keys.Checkpoints.Keys()))
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "custos_checkpoint_last_written_timestamp_seconds",
		Help: "When this instance last wrote a signed checkpoint (0: not yet).",
	}, func() float64 {
		if t := w.LastWritten(); !t.IsZero() {
			return float64(t.UnixMicro()) / 1e6
		}
		return 0
	}))
	return w, trail, nil
}

// finalCheckpoint records the heads as the server leaves them, once every
// accepted write has landed: the next start (or an attacker in between)
// is measured from there.
func (s *Server) finalCheckpoint() {
	if s.checkpoints == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.st.Flush(ctx); err != nil {
		s.log.Error("checkpoint at shutdown: writes did not land", "err", err)
		return
	}
	if _, err := s.checkpoints.Write(ctx); err != nil {
		s.log.Error("checkpoint at shutdown not written", "sink", s.checkpoints.Sink.String(), "err", err)
	}
}

// createIfMissing creates an empty file at path (mode 0600) unless there
// is one.
func createIfMissing(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}
