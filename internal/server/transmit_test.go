package server_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/server"
)

// TestTransmissionNeverReachesThisMachine: the server's transmissions
// cannot be aimed at its own machine, even by an endpoint that would
// answer: the loopback allowance is for tests of the rights service only.
func TestTransmissionNeverReachesThisMachine(t *testing.T) {
	ctx := context.Background()
	var hits atomic.Int32
	rc := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer rc.Close()
	cfg := config.Default()
	cfg.DB = filepath.Join(t.TempDir(), "c.db")
	cfg.Demo = true
	cfg.WebhookSecret = config.NewSecret([]byte("whsec-test-0123456789abcdef"), "test")
	srv, err := server.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	op := consent.Actor{ID: "test", Role: "operator", Place: "test"}
	details, _ := json.Marshal(map[string]any{"transmit_to": map[string]string{"name": "Local", "endpoint": rc.URL + "/import"}})
	v, err := srv.Requests().SubmitOperator(ctx, op, dsr.Input{Type: "portability", Language: "en", SubjectID: "demo-1002", Verification: "operator",
		Evidence: "seen in person", Details: details})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Requests().Approve(ctx, op, v.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Requests().Complete(ctx, op, v.ID, dsr.CompleteInput{}); err != nil {
		t.Fatal(err)
	}
	n, err := srv.Requests().Transmit(ctx)
	if err != nil || n != (dsr.TransmitCounts{Failed: 1}) {
		t.Fatalf("Transmit = %+v, %v; want one failure", n, err)
	}
	got, err := srv.Requests().Get(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tr := got.Transmissions; len(tr) != 1 || tr[0].State != dsr.TransmissionFailed || !strings.Contains(tr[0].Reason, "address refused") {
		t.Errorf("transmission = %+v", tr)
	}
	if hits.Load() != 0 {
		t.Errorf("the server's transmission reached this machine")
	}
}
