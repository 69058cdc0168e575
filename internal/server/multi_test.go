package server_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver for the setup statements

	"github.com/custos-privacy/custos/internal/api"
	"github.com/custos-privacy/custos/internal/clocktest"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/testdb"
)

const (
	starterManifest   = "../../examples/starter/custos.yaml"
	starterManifestV2 = "../../examples/starter/custos-v2.yaml"
	// propagation is how long one instance may take to see another's
	// writes: a few poll intervals of 50 ms.
	propagation = time.Second
)

var testActor = consent.Actor{ID: "test", Role: "admin", Place: "server test"}

// instance is a server running in this process.
type instance struct {
	srv   *server.Server
	base  string
	dsn   string
	clock *clocktest.Clock
}

// startInstance runs a server on dsn with the starter manifest and stops it
// when the test ends, before the database goes.
func startInstance(t *testing.T, name, dsn, keystoreDSN, secretsDir string, clk *clocktest.Clock) *instance {
	t.Helper()
	env := map[string]string{
		"CUSTOS_DB":            dsn,
		"CUSTOS_KEYSTORE":      keystoreDSN,
		"CUSTOS_MANIFEST":      starterManifest,
		"CUSTOS_SECRETS_DIR":   secretsDir,
		"CUSTOS_ADDR":          "127.0.0.1:0",
		"CUSTOS_POLL_INTERVAL": "50ms",
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})).With("instance", name)
	srv, err := server.New(t.Context(), cfg, log, server.WithClock(clk.Now))
	if err != nil {
		t.Fatalf("server %s: %v", name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, func(addr string) { addrc <- addr }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server %s stopped with %v", name, err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("server %s did not stop within 30 s", name)
		}
		if l := logs.String(); t.Failed() && l != "" {
			t.Logf("server %s log:\n%s", name, l)
		}
	})
	select {
	case addr := <-addrc:
		return &instance{srv: srv, base: "http://" + addr, dsn: dsn}
	case err := <-done:
		t.Fatalf("server %s: %v", name, err)
	case <-time.After(10 * time.Second):
		t.Fatalf("server %s did not listen within 10 s", name)
	}
	return nil
}

// TestTwoInstancesOnPostgres runs two servers on one PostgreSQL database, as
// a deployment behind a load balancer does: each must see the other's
// consent writes and policy versions within a few poll intervals, and their
// concurrent writes must form one intact audit chain.
func TestTwoInstancesOnPostgres(t *testing.T) {
	ctx := t.Context()
	a, b, ca, cb := startPair(t)
	purposes := plainConsentPurposes(t, starterManifest)
	purpose := purposes[0]

	t.Run("consent writes cross instances", func(t *testing.T) {
		const subject = "multi-1"
		// B answers for the subject before it exists, so it has something
		// cached that A's writes must evict.
		if got := cb.check(t, subject, purpose).Decisions[0]; got.Allowed || got.Reason != "no_consent" {
			t.Fatalf("B before the subject exists: %+v, want denied for no_consent", got)
		}
		ca.createSubject(t, subject)
		if _, status, body, err := ca.recordConsent(ctx, subject, grantOf(purpose)); err != nil || status != http.StatusCreated {
			t.Fatalf("grant through A: status %d, err %v, body %s", status, err, body)
		}
		waitForDecision(t, "B after a grant through A", cb, subject, purpose, decision{purpose, true, "consent"})

		if got := ca.check(t, subject, purpose).Decisions[0]; !got.Allowed {
			t.Fatalf("A after its own grant: %+v", got)
		}
		if _, status, body, err := cb.recordConsent(ctx, subject, withdrawalOf(purpose)); err != nil || status != http.StatusCreated {
			t.Fatalf("withdrawal through B: status %d, err %v, body %s", status, err, body)
		}
		waitForDecision(t, "A after a withdrawal through B", ca, subject, purpose, decision{purpose, false, "withdrawn"})
	})

	t.Run("concurrent writes form one chain", func(t *testing.T) {
		const perInstance = 8
		subjects := make([]string, perInstance)
		for i := range subjects {
			subjects[i] = fmt.Sprintf("multi-w-%d", i)
			ca.createSubject(t, subjects[i])
		}
		before, err := a.srv.Store().AuditHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var (
			acks     ackLog
			mu       sync.Mutex
			failures []string
			wg       sync.WaitGroup
		)
		// Writer i of A and writer i of B share a subject, so the two
		// instances' transactions touch the same rows.
		stopAt := time.Now().Add(2 * time.Second)
		for _, c := range []*apiClient{ca, cb} {
			for _, subject := range subjects {
				wg.Go(func() {
					for n := 0; time.Now().Before(stopAt); n++ {
						w := grantOf(purpose)
						if n%2 == 1 {
							w = withdrawalOf(purpose)
						}
						evs, status, body, err := c.recordConsent(ctx, subject, w)
						if err != nil || status != http.StatusCreated || len(evs) != 1 {
							mu.Lock()
							failures = append(failures, fmt.Sprintf("%s via %s: status %d, err %v, body %s", subject, c.base, status, err, body))
							mu.Unlock()
							continue
						}
						acks.add(evs...)
					}
				})
			}
		}
		wg.Wait()
		for i, f := range failures {
			if i == 5 {
				t.Errorf("… %d failed writes in all", len(failures))
				break
			}
			t.Errorf("write failed: %s", f)
		}
		acked := acks.all()
		after, err := a.srv.Store().AuditHead(ctx)
		if err != nil {
			t.Fatal(err)
		}

		for _, inst := range []struct {
			name string
			st   *store.Store
		}{{"A", a.srv.Store()}, {"B", b.srv.Store()}} {
			rep, err := inst.st.VerifyAudit(ctx, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK || len(rep.Problems) != 0 || rep.Entries != rep.HeadSeq || rep.HeadSeq < after.Seq {
				t.Errorf("audit verified through %s: ok %v, %d entries, head %d (at least %d), problems %+v", inst.name, rep.OK, rep.Entries, rep.HeadSeq, after.Seq, rep.Problems)
			}
		}

		// The entries written meanwhile are the acknowledged writes, one
		// each, and decision records left from the previous step.
		chained := map[string]int{}
		others := 0
		for _, e := range auditRange(t, a.srv.Store(), before.Seq, after.Seq) {
			switch e.Action {
			case consent.ActionConsentGrant, consent.ActionConsentWithdraw:
				chained[eventOf(t, e.Detail)]++
			case consent.ActionCheckAllow, consent.ActionCheckDeny:
				others++
			default:
				t.Errorf("unexpected audit entry %d during the writes: %s %s", e.Seq, e.Action, e.Object)
			}
		}
		consentEntries := int(after.Seq-before.Seq) - others
		if consentEntries != len(acked) || len(chained) != len(acked) {
			t.Errorf("audit entries %d..%d: %d consent entries for %d distinct events, want %d (acknowledged writes); %d decision records",
				before.Seq+1, after.Seq, consentEntries, len(chained), len(acked), others)
		}
		var missing, unaudited []string
		for _, ev := range acked {
			got, err := a.srv.Store().ConsentEventByID(ctx, ev.ID)
			if errors.Is(err, store.ErrNotFound) {
				missing = append(missing, ev.ID)
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.SubjectID != ev.Subject || got.Purpose != ev.Purpose || got.Action != ev.Action {
				t.Errorf("event %s is %s/%s/%s, acknowledged as %s/%s/%s", ev.ID, got.SubjectID, got.Purpose, got.Action, ev.Subject, ev.Purpose, ev.Action)
			}
			if chained[ev.ID] != 1 {
				unaudited = append(unaudited, ev.ID)
			}
		}
		if len(missing) > 0 || len(unaudited) > 0 {
			t.Errorf("of %d acknowledged events, %d are missing from the ledger (e.g. %v) and %d lack exactly one audit entry (e.g. %v)",
				len(acked), len(missing), missing[:min(3, len(missing))], len(unaudited), unaudited[:min(3, len(unaudited))])
		}
		if len(acked) < 2*perInstance {
			t.Errorf("only %d writes were acknowledged in 2 s", len(acked))
		}
		t.Logf("%d acknowledged writes through two instances in 2 s; audit entries %d..%d (%d decision records among them)",
			len(acked), before.Seq+1, after.Seq, others)
	})

	t.Run("a material change is announced, told and in force at its instant on both", func(t *testing.T) {
		const subject = "multi-2"
		ca.createSubject(t, subject)
		if _, status, body, err := ca.recordConsent(ctx, subject, grantOf(purposes...)); err != nil || status != http.StatusCreated {
			t.Fatalf("grant %v through A: status %d, err %v, body %s", purposes, status, err, body)
		}
		granted := make([]decision, len(purposes))
		for i, p := range purposes {
			granted[i] = decision{p, true, "consent"}
		}
		waitForDecisions(t, "B before the publication", cb, subject, purposes, "3.0", granted)
		// People with an address to tell, in their language; the banner's
		// visitors (no address) cannot be told.
		people := map[string]string{"multi-zh": "zh-CN", "multi-en": "en", "multi-none": ""}
		for id, lang := range people {
			body := map[string]any{"subject_id": id, "language": lang}
			if lang != "" {
				body["identities"] = []map[string]any{{"kind": "email", "value": id + "@example.com", "keep": true}}
			} else {
				delete(body, "language")
			}
			if status, out, err := ca.call(ctx, "POST", "/v1/subjects", body, nil); err != nil || status != http.StatusCreated {
				t.Fatalf("create %s: %d %v %s", id, status, err, out)
			}
		}

		src, err := os.ReadFile(starterManifestV2)
		if err != nil {
			t.Fatal(err)
		}
		// The starter promises 7 days' notice of a material change: sooner is refused.
		if _, err := a.srv.Service().Publish(ctx, testActor, starterManifestV2, src); !strings.Contains(fmt.Sprint(err), "notice_period_too_short") {
			t.Fatalf("publish v2 at once: %v, want notice_period_too_short", err)
		}
		at := a.clock.Now().AddDate(0, 0, 7).Add(time.Hour)
		p, err := a.srv.Service().PublishWith(ctx, testActor, starterManifestV2, src, consent.PublishOptions{EffectiveAt: at})
		if err != nil {
			t.Fatal(err)
		}
		if !p.Created || !p.Material || p.Version != "3.1" || !p.Upcoming {
			t.Fatalf("publish v2: %+v, want a new material version 3.1, announced", p)
		}

		// Announced, not in force: both instances still decide under 3.0, and B learns of 3.1 by polling.
		checkDecisions(t, "A after the announcement", ca.check(t, subject, purposes...), "3.0", granted)
		deadline := time.Now().Add(propagation)
		for {
			vs, err := b.srv.Service().Versions(ctx)
			if err == nil && len(vs) == 2 && vs[1].State == consent.VersionUpcoming {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("B does not know of the announced version after %v: %+v %v", propagation, vs, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		checkDecisions(t, "B after the announcement", cb.check(t, subject, purposes...), "3.0", granted)

		// The notices: one message to each person with an address, in their language.
		if _, err := a.srv.Service().SendChangeNotices(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := b.srv.Service().SendChangeNotices(ctx, nil); err != nil { // a second run sends nothing twice
			t.Fatal(err)
		}
		db, err := sql.Open("pgx", testdb.PostgresAdmin(t, a.dsn))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.QueryContext(ctx, `SELECT subject_id, language FROM outbox WHERE template = 'policy_change' ORDER BY subject_id`)
		if err != nil {
			t.Fatal(err)
		}
		told := map[string]string{}
		for rows.Next() {
			var id, lang string
			if err := rows.Scan(&id, &lang); err != nil {
				t.Fatal(err)
			}
			if _, dup := told[id]; dup {
				t.Errorf("%s is told twice", id)
			}
			told[id] = lang
		}
		rows.Close()
		if diff := cmp.Diff(map[string]string{"multi-zh": "zh-CN", "multi-en": "en"}, told); diff != "" {
			t.Errorf("notices queued (-want +got):\n%s", diff)
		}

		// At the instant, both instances decide under 3.1 at once: neither waits for a poll.
		a.clock.Set(at)
		var stale []string
		want := make([]decision, len(purposes))
		for i, pur := range purposes {
			want[i] = decision{pur, true, "consent"}
			if slices.Contains(p.Reconsent, pur) {
				want[i] = decision{pur, false, "reconsent_required"}
				stale = append(stale, pur)
			}
		}
		if len(stale) == 0 {
			t.Fatalf("v2 asks re-consent for %v, none of the granted %v: the test proves nothing", p.Reconsent, purposes)
		}
		checkDecisions(t, "A at the instant", ca.check(t, subject, purposes...), "3.1", want)
		checkDecisions(t, "B at the instant", cb.check(t, subject, purposes...), "3.1", want)
		t.Logf("v2 asks re-consent for %v; granted under v1: %v", p.Reconsent, purposes)
	})
}

// startPair migrates a fresh PostgreSQL schema, runs the statements in
// setup on it, starts two instances on it sharing one secrets directory and
// returns them with a client of each, authenticated by one service key.
func startPair(t *testing.T, setup ...string) (a, b *instance, ca, cb *apiClient) {
	t.Helper()
	ctx := t.Context()
	dsn := testdb.Postgres(t)
	secretsDir := filepath.Join(t.TempDir(), "secrets")
	if _, err := secrets.Init(secretsDir, false); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if len(setup) > 0 {
		db, err := sql.Open("pgx", testdb.PostgresAdmin(t, dsn))
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range setup {
			if _, err := db.ExecContext(ctx, q); err != nil {
				db.Close()
				t.Fatalf("%s: %v", q, err)
			}
		}
		db.Close()
	}

	// One clock for both, as NTP gives the machines of a deployment.
	clk := clocktest.New(time.Now())
	// The instances share a key store, in a schema of its own.
	keys := testdb.Postgres(t)
	a = startInstance(t, "A", dsn, keys, secretsDir, clk)
	b = startInstance(t, "B", dsn, keys, secretsDir, clk)
	a.clock, b.clock = clk, clk
	key, err := api.CreateKey(ctx, a.srv.Store(), testActor, "two instances", api.RoleService)
	if err != nil {
		t.Fatal(err)
	}
	ca, cb = newAPIClient(a.base, key.Secret), newAPIClient(b.base, key.Secret)
	t.Cleanup(ca.close)
	t.Cleanup(cb.close)
	return a, b, ca, cb
}

// TestTwoInstancesLedgerOrderMatchesDecisions has instance A record a grant
// whose transaction is held up (a trigger sleeps after the ledger insert)
// while instance B records a withdrawal for the same subject and purpose.
// Either order is a fair outcome of two concurrent requests, but the ledger
// (history, receipts) and the state decisions read must tell the same one.
func TestTwoInstancesLedgerOrderMatchesDecisions(t *testing.T) {
	ctx := t.Context()
	const subject = "multi-order"
	a, _, ca, cb := startPair(t,
		`CREATE FUNCTION slow_marked_event() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.evidence LIKE '%"hold"%' THEN PERFORM pg_sleep(0.6); END IF;
			RETURN NEW;
		END $$`,
		`CREATE TRIGGER slow_marked_event AFTER INSERT ON consent_events FOR EACH ROW EXECUTE FUNCTION slow_marked_event()`)
	purpose := plainConsentPurposes(t, starterManifest)[0]
	ca.createSubject(t, subject)
	if _, status, body, err := ca.recordConsent(ctx, subject, grantOf(purpose)); err != nil || status != http.StatusCreated {
		t.Fatalf("first grant: status %d, err %v, body %s", status, err, body)
	}

	// The grant through A takes its ledger seq, then its transaction sleeps
	// in the trigger; the withdrawal through B is sent meanwhile.
	held := grantOf(purpose)
	held.Evidence = json.RawMessage(`{"hold":true}`)
	heldDone := make(chan []ackedEvent, 1)
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	wg.Go(func() {
		evs, status, body, err := ca.recordConsent(ctx, subject, held)
		if err != nil || status != http.StatusCreated {
			t.Errorf("held grant through A: status %d, err %v, body %s", status, err, body)
		}
		heldDone <- evs
	})
	time.Sleep(150 * time.Millisecond)
	select {
	case <-heldDone:
		t.Fatal("the held grant finished within 150 ms: the trigger did not hold it, the test proves nothing")
	default:
	}
	withdrawn, status, body, err := cb.recordConsent(ctx, subject, withdrawalOf(purpose))
	if err != nil || status != http.StatusCreated {
		t.Fatalf("withdrawal through B: status %d, err %v, body %s", status, err, body)
	}
	grant := <-heldDone
	if len(grant) != 1 || len(withdrawn) != 1 {
		t.Fatalf("events: grant %v, withdrawal %v", grant, withdrawn)
	}

	var hist struct {
		Items []struct {
			ID     string `json:"id"`
			Seq    int64  `json:"seq"`
			Action string `json:"action"`
		} `json:"items"`
	}
	if status, body, err := ca.call(ctx, "GET", "/v1/subjects/"+subject+"/consents?limit=1000", nil, &hist); err != nil || status != http.StatusOK || len(hist.Items) != 3 {
		t.Fatalf("history: status %d, err %v, %d items, body %s", status, err, len(hist.Items), body)
	}
	last := hist.Items[len(hist.Items)-1]
	want := decision{purpose, false, "withdrawn"}
	if last.Action == "grant" {
		want = decision{purpose, true, "consent"}
	}
	t.Logf("ledger: held grant %s, withdrawal %s; last by seq is %s (%s, seq %d)", grant[0].ID, withdrawn[0].ID, last.ID, last.Action, last.Seq)
	head, err := a.srv.Store().AuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range auditRange(t, a.srv.Store(), 0, head.Seq) {
		if e.Action == consent.ActionConsentGrant || e.Action == consent.ActionConsentWithdraw {
			t.Logf("audit entry %d: %s %s", e.Seq, e.Action, eventOf(t, e.Detail))
		}
	}
	waitForDecision(t, "A, against the ledger's last event", ca, subject, purpose, want)
	waitForDecision(t, "B, against the ledger's last event", cb, subject, purpose, want)
}

// waitForDecision polls c until its decision for subject and purpose is
// want, and fails the test if that takes longer than propagation.
func waitForDecision(t *testing.T, what string, c *apiClient, subject, purpose string, want decision) {
	t.Helper()
	waitForDecisions(t, what, c, subject, []string{purpose}, "", []decision{want})
}

// waitForDecisions is waitForDecision for several purposes; version, when
// not empty, is the policy version the answer must come from.
func waitForDecisions(t *testing.T, what string, c *apiClient, subject string, purposes []string, version string, want []decision) {
	t.Helper()
	start := time.Now()
	for {
		got := c.check(t, subject, purposes...)
		if slices.Equal(got.Decisions, want) && (version == "" || got.PolicyVersion == version) {
			t.Logf("%s: seen after %v", what, time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > propagation {
			checkDecisions(t, fmt.Sprintf("%s (after %v)", what, propagation), got, version, want)
			t.FailNow()
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func checkDecisions(t *testing.T, what string, got checkResult, version string, want []decision) {
	t.Helper()
	switch {
	case version != "" && got.PolicyVersion != version:
		t.Errorf("%s: policy version %s, want %s; decisions %+v, want %+v", what, got.PolicyVersion, version, got.Decisions, want)
	case !slices.Equal(got.Decisions, want):
		t.Errorf("%s: decisions %+v, want %+v (policy version %s)", what, got.Decisions, want, got.PolicyVersion)
	}
}

// auditRange reads the audit entries with first < seq <= last.
func auditRange(t *testing.T, st *store.Store, first, last int64) []auditEntry {
	t.Helper()
	var out []auditEntry
	after := first
	for after < last {
		page, err := st.AuditEntries(t.Context(), store.AuditFilter{After: after, Limit: 5000})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			t.Fatalf("audit trail ends at %d, before its head %d", after, last)
		}
		for _, e := range page {
			if e.Seq > last {
				return out
			}
			out = append(out, auditEntry{Seq: e.Seq, Action: e.Action, Object: e.Object, Detail: e.Detail})
		}
		after = page[len(page)-1].Seq
	}
	return out
}

// auditEntry is the part of an audit entry these tests look at.
type auditEntry struct {
	Seq                    int64
	Action, Object, Detail string
}
