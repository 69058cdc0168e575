package server

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/config"
)

// TestServeWaitsForBackgroundWork: Serve returns only once the server's
// background work has ended, so that nothing it does (a message written
// to the notice directory, a sweep's batch) outlives the store it writes
// to or the directory a test removes after.
func TestServeWaitsForBackgroundWork(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DB = filepath.Join(dir, "custos.db")
	cfg.Demo = true
	cfg.Addr = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	srv, err := New(ctx, cfg, slog.New(slog.DiscardHandler), WithDemo(DemoOptions{Dir: dir}))
	if err != nil {
		t.Fatal(err)
	}
	// A piece of background work that takes a moment to finish once told
	// to stop, as a delivery in flight does.
	var finished atomic.Bool
	srv.loops.Add(1)
	go func() {
		defer srv.loops.Done()
		<-ctx.Done()
		time.Sleep(100 * time.Millisecond)
		finished.Store(true)
	}()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, func(string) { cancel() }) }()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if !finished.Load() {
		t.Error("Serve returned while background work was still running")
	}
}
