package server_test

import (
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
)

// TestRefusesOutOfDateSchema: a server must not start on a database the
// migrations have not brought up to date, and must say what to run.
func TestRefusesOutOfDateSchema(t *testing.T) {
	dir := t.TempDir()
	if _, err := secrets.Init(filepath.Join(dir, "secrets"), false); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"CUSTOS_DB":          filepath.Join(dir, "custos.db"),
		"CUSTOS_MANIFEST":    starterManifest,
		"CUSTOS_SECRETS_DIR": filepath.Join(dir, "secrets"),
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	_, err = server.New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if !errors.Is(err, store.ErrSchema) {
		t.Fatalf("server.New on an unmigrated database = %v, want ErrSchema", err)
	}
	if want := "custos migrate"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say to run %q", err, want)
	}
}

// TestRefusesWithoutIdentityKey: without the key identities are hashed
// with, nobody could be looked up; the server says how to make one.
func TestRefusesWithoutIdentityKey(t *testing.T) {
	cfg := config.Default()
	cfg.DB = filepath.Join(t.TempDir(), "custos.db")
	_, err := server.New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "custos secrets init") {
		t.Fatalf("server.New without keys = %v, want advice to run custos secrets init", err)
	}
}
