package api_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/store"
)

// TestAuditWriteFailuresMetric: a decision record written in the
// background that fails to commit is counted in /metrics and logged.
// On PostgreSQL the denial of a purpose holding a NUL (the service took it
// before the API refused such text) used to vanish without a trace.
func TestAuditWriteFailuresMetric(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		metric := func() string {
			for _, l := range strings.Split(e.do(t, "GET", "/metrics", "", "", nil).Body.String(), "\n") {
				if strings.HasPrefix(l, "custos_audit_write_failures_total ") {
					return l
				}
			}
			return "(absent)"
		}
		if got := metric(); got != "custos_audit_write_failures_total 0" {
			t.Fatalf("before: %s", got)
		}
		if e.srv.Store().Dialect() == store.Postgres {
			res, err := e.srv.Service().Check(ctx, consent.Actor{ID: "k_test", Role: "service", Place: "test"},
				consent.CheckInput{SubjectID: "demo-1001", Purposes: []string{"ads\x00"}})
			if err != nil || len(res.Decisions) != 1 || res.Decisions[0].Allowed {
				t.Fatalf("check = %+v, %v; want a denial", res, err)
			}
		} else {
			fail := func(context.Context, *sql.Tx) error { return errors.New("refused") }
			if err := e.srv.Store().Enqueue(ctx, &store.Write{Fn: fail}); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for metric() != "custos_audit_write_failures_total 1" {
			if time.Now().After(deadline) {
				t.Fatalf("after the failed write: %s", metric())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if !strings.Contains(e.log.String(), "queued write failed and was lost") {
			t.Error("the loss was not logged")
		}
	})
}
