package retention

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/certificate"
	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/execute"
	"github.com/custos-privacy/custos/internal/hold"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/store/storetest"
	"github.com/custos-privacy/custos/internal/testdb"

	_ "github.com/go-sql-driver/mysql" // registers the "mysql" driver
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

var testNow = time.Date(2026, 6, 15, 12, 0, 0, 0, calendar.China)

func starter(t *testing.T) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Load(filepath.Join("..", "..", "examples", "starter", "custos.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// shop is a small shop database: support tickets kept two years (rule
// support, rows deleted), page views kept 13 months then anonymised
// (rule analytics), push tokens that go with consent (rule push), and
// the users table that goes with the account (rule account).
var shop = &dataset.Datastore{ID: "shop", Kind: dataset.KindSQLite, DSN: "shop.db", Collections: []dataset.Collection{
	{Name: "users", Retention: []dataset.RetentionTarget{{Rule: "account", Event: dataset.EventAccountDeletion}}, Fields: []dataset.Field{
		{Name: "id", PrimaryKey: true, Identity: dataset.IdentityUserID}, {Name: "email", Identity: dataset.IdentityEmail, Categories: []string{"basic.email"}},
	}},
	{Name: "tickets", DeleteRow: true, Retention: []dataset.RetentionTarget{{Rule: "support", Clock: "created_at"}}, Fields: []dataset.Field{
		{Name: "id", PrimaryKey: true}, {Name: "user_id", Categories: []string{"account.id"}, References: []dataset.Reference{{Collection: "users", Field: "id", Direction: dataset.DirectionFrom}}},
		{Name: "body", Categories: []string{"content.messages"}}, {Name: "created_at", DataType: "datetime"},
	}},
	{Name: "page_views", Retention: []dataset.RetentionTarget{{Rule: "analytics", Clock: "viewed_at"}}, Fields: []dataset.Field{
		{Name: "id", PrimaryKey: true}, {Name: "user_id", Categories: []string{"account.id"}, References: []dataset.Reference{{Collection: "users", Field: "id", Direction: dataset.DirectionFrom}}},
		{Name: "ip", Categories: []string{"device.ip"}}, {Name: "page"}, {Name: "viewed_at", DataType: "datetime", Anonymise: dataset.AnonymiseMonth},
	}},
	{Name: "push_tokens", Retention: []dataset.RetentionTarget{{Rule: "push", Event: dataset.EventConsentWithdrawn}}, Fields: []dataset.Field{
		{Name: "id", PrimaryKey: true}, {Name: "user_id", Categories: []string{"account.id"}, References: []dataset.Reference{{Collection: "users", Field: "id", Direction: dataset.DirectionFrom}}},
		{Name: "token", Categories: []string{"device.push_token"}},
	}},
}}

// engine is a database the shop runs on.
type engine struct {
	kind connector.Kind
	open func(t *testing.T) *sql.DB
	ts   string // the column type of a time
}

var engines = []engine{
	{kind: connector.SQLite, ts: "TEXT", open: func(t *testing.T) *sql.DB {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "shop.db"))
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		return db
	}},
	{kind: connector.Postgres, ts: "TIMESTAMPTZ", open: func(t *testing.T) *sql.DB {
		db, err := sql.Open("pgx", testdb.Postgres(t))
		if err != nil {
			t.Fatal(err)
		}
		return db
	}},
	{kind: connector.MySQL, ts: "DATETIME(6)", open: func(t *testing.T) *sql.DB {
		db, err := sql.Open("mysql", testdb.MySQL(t))
		if err != nil {
			t.Fatal(err)
		}
		return db
	}},
}

// openShop creates the shop on SQLite (see openShopOn).
func openShop(t *testing.T) *sql.DB { return openShopOn(t, engines[0]) }

// openShopOn creates the shop on e: users u1..u4; tickets 1-8 (odd ones
// three years old, even ones one year), each of user u(1+id%4); page
// views likewise; a push token per ticket.
func openShopOn(t *testing.T, e engine) *sql.DB {
	t.Helper()
	db := e.open(t)
	t.Cleanup(func() { db.Close() })
	ph := func(n int) string {
		if e.kind != connector.Postgres {
			return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
		}
		var out []string
		for i := 1; i <= n; i++ {
			out = append(out, fmt.Sprintf("$%d", i))
		}
		return strings.Join(out, ", ")
	}
	for _, stmt := range []string{
		"CREATE TABLE users (id VARCHAR(64) PRIMARY KEY, email VARCHAR(100))",
		"CREATE TABLE tickets (id INTEGER PRIMARY KEY, user_id VARCHAR(64), body VARCHAR(100), created_at " + e.ts + ")",
		"CREATE TABLE page_views (id INTEGER PRIMARY KEY, user_id VARCHAR(64), ip VARCHAR(40), page VARCHAR(100), viewed_at " + e.ts + ")",
		"CREATE TABLE push_tokens (id INTEGER PRIMARY KEY, user_id VARCHAR(64), token VARCHAR(100))",
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	exec := func(stmt string, args ...any) {
		t.Helper()
		if _, err := db.Exec(stmt, args...); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	for u := 1; u <= 4; u++ {
		exec("INSERT INTO users VALUES ("+ph(2)+")", fmt.Sprintf("u%d", u), fmt.Sprintf("u%d@example.com", u))
	}
	for i := 1; i <= 8; i++ {
		age := -1
		if i%2 == 1 {
			age = -3
		}
		var at any = testNow.AddDate(age, 0, 0).UTC()
		if e.kind == connector.SQLite {
			at = testNow.AddDate(age, 0, 0).UTC().Format("2006-01-02 15:04:05")
		}
		u := fmt.Sprintf("u%d", 1+i%4)
		exec("INSERT INTO tickets VALUES ("+ph(4)+")", i, u, "help me", at)
		exec("INSERT INTO page_views VALUES ("+ph(5)+")", i, u, fmt.Sprintf("10.0.0.%d", i), "/p", at)
		exec("INSERT INTO push_tokens VALUES ("+ph(3)+")", i, u, fmt.Sprintf("tok%d", i))
	}
	return db
}

type fixedHolds []hold.Hold

func (h fixedHolds) List(ctx context.Context, all bool) ([]hold.Hold, error) { return h, nil }

func (h fixedHolds) Active(ctx context.Context, now time.Time) ([]hold.Hold, error) {
	var out []hold.Hold
	for _, x := range h {
		if x.Active(now) {
			out = append(out, x)
		}
	}
	return out, nil
}

// dump reads every table of the shop, a row per line, times in UTC.
func dump(t *testing.T, db *sql.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, q := range []struct{ table, sql string }{
		{"tickets", "SELECT id, user_id, created_at FROM tickets ORDER BY id"},
		{"page_views", "SELECT id, user_id, ip, page, viewed_at FROM page_views ORDER BY id"},
		{"users", "SELECT id FROM users ORDER BY id"},
		{"push_tokens", "SELECT id, user_id, token FROM push_tokens ORDER BY id"},
	} {
		rows, err := db.Query(q.sql)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		out[q.table] = []string{}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			parts := make([]string, len(vals))
			for i, v := range vals {
				switch x := v.(type) {
				case nil:
					parts[i] = "-"
				case time.Time:
					parts[i] = x.UTC().Format("2006-01-02 15:04:05")
				case []byte:
					parts[i] = string(x)
				default:
					parts[i] = fmt.Sprint(x)
				}
			}
			out[q.table] = append(out[q.table], strings.Join(parts, ","))
		}
		rows.Close()
	}
	return out
}

func newService(t *testing.T, st Store, db *sql.DB, holds Holds) *Service {
	return newServiceOn(t, st, db, connector.SQLite, holds)
}

func newServiceOn(t *testing.T, st Store, db *sql.DB, kind connector.Kind, holds Holds) *Service {
	m := starter(t)
	return New(st, Options{
		Datastores: []execute.Store{{DS: shop, DB: db, Kind: kind}},
		Policy:     func(context.Context) (*manifest.Manifest, error) { return m, nil },
		Holds:      holds,
		Seeds: func(ctx context.Context, id string) (execute.Seeds, error) {
			return execute.Seeds{"user_id": {id}}, nil
		},
		Instance: "test", Batch: 2, Now: func() time.Time { return testNow }, Logger: slog.New(slog.DiscardHandler),
	})
}

// TestSweepScenario: the plan counts what is due and held; the run
// deletes expired tickets and anonymises expired page views except what
// holds keep (person u2's rows; page views of a period), leaves the rest
// and the event-bound collections alone, audits each target, and records
// the run; a second run changes nothing.
func TestSweepScenario(t *testing.T) {
	// The shop on each engine, Custos's own store on SQLite; and the shop
	// on SQLite with Custos's store on PostgreSQL.
	for _, e := range engines {
		t.Run(string(e.kind), func(t *testing.T) { sweepScenario(t, e, storetest.SQLiteDSN(t)) })
	}
	t.Run("store on postgres", func(t *testing.T) { sweepScenario(t, engines[0], testdb.Postgres(t)) })
}

func sweepScenario(t *testing.T, e engine, dsn string) {
	{
		ctx := context.Background()
		st := storetest.Open(t, dsn)
		db := openShopOn(t, e)
		from, to := testNow.AddDate(-3, 0, -1), testNow.AddDate(-3, 0, 1)
		holds := fixedHolds{
			{ID: "hd_person", Scope: hold.Scope{SubjectID: "u2"}},
			{ID: "hd_period", Scope: hold.Scope{Datastore: "shop", Collection: "page_views", From: &from, To: &to}},
			{ID: "hd_lifted", Scope: hold.Scope{Datastore: "shop"}, LiftedAt: &from},
			{ID: "hd_elsewhere", Scope: hold.Scope{Category: "health"}},
		}
		svc := newServiceOn(t, st, db, e.kind, holds)
		before := dump(t, db)

		plan, err := svc.Plan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		type line struct {
			Rule, Collection, Keeper string
			Due, Held                int64
			Holds                    []string
		}
		var got []line
		for _, l := range plan.Lines {
			got = append(got, line{l.Rule, l.Collection, l.Keeper, l.Due, l.Held, l.Holds})
		}
		want := []line{
			{"account", "users", ByRequest, 0, 0, nil},
			{"support", "tickets", "", 4, 2, []string{"hd_person"}}, // u2 has tickets 1 and 5
			{"analytics", "page_views", "", 4, 4, []string{"hd_person", "hd_period"}},
			{"push", "push_tokens", ByWithdrawal, 0, 0, []string{"hd_person"}},
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("plan (-want +got):\n%s", d)
		}

		rep, err := svc.Run(ctx, audit.System("test"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Results) != 3 || rep.Results[0].Rows != 2 || rep.Results[0].Held != 2 || rep.Results[1].Rows != 0 || rep.PlanHash != plan.Hash() {
			t.Errorf("report = %+v", rep)
		}
		after := dump(t, db)
		// Tickets 3 and 7 (u4, three years old) deleted; 1 and 5 held (u2).
		wantTickets := slices.DeleteFunc(slices.Clone(before["tickets"]), func(s string) bool { return s[0] == '3' || s[0] == '7' })
		if d := cmp.Diff(wantTickets, after["tickets"]); d != "" {
			t.Errorf("tickets (-want +got):\n%s", d)
		}
		// Every expired page view is held: u2's by person, the rest by period.
		for _, k := range []string{"page_views", "users", "push_tokens"} {
			if d := cmp.Diff(before[k], after[k]); d != "" {
				t.Errorf("%s changed (-before +after):\n%s", k, d)
			}
		}

		again, err := svc.Run(ctx, audit.System("test"), nil)
		if err != nil || again.Results[0].Rows != 0 || again.Results[1].Rows != 0 {
			t.Errorf("second run = %+v, %v; want nothing changed", again, err)
		}
		runs, err := st.RetentionRuns(ctx, 10)
		if err != nil || len(runs) != 2 || runs[0].State != store.RetentionDone || runs[1].State != store.RetentionDone {
			t.Errorf("runs = %+v, %v", runs, err)
		}
		if n := countAudit(t, st, ActionSweep); n != 6 {
			t.Errorf("%d %s entries, want one per target per run: 6", n, ActionSweep)
		}

		// The period hold lifted, the page views outside u2 are anonymised.
		svc = newServiceOn(t, st, db, e.kind, holds[:1])
		rep, err = svc.Run(ctx, audit.System("test"), nil)
		if err != nil || rep.Results[1].Rows != 2 || !slices.Equal(rep.Results[1].Fields, []string{"ip", "user_id", "viewed_at"}) {
			t.Fatalf("run without the period hold = %+v, %v", rep.Results, err)
		}
		views := dump(t, db)["page_views"]
		for _, i := range []int{2, 6} { // page views 3 and 7, u4's
			v := views[i]
			if !strings.HasPrefix(v, fmt.Sprint(i+1)+",-,-,") {
				t.Errorf("page view %d = %q, want it no longer linked to a person", i+1, v)
			}
			if want := testNow.AddDate(-3, 0, 0).UTC().Format("2006-01-") + "01 00:00:00"; v[len(v)-19:] != want {
				t.Errorf("page view %d viewed at %q, want generalised to %q", i+1, v, want)
			}
		}
		// No row of a page view anonymised is found from a person any more.
		found, err := execute.AccessAll(ctx, []execute.Store{{DS: shop, DB: db, Kind: e.kind}}, execute.Seeds{"user_id": {"u4"}}, execute.Options{})
		if err != nil || len(found["shop"]["page_views"]) != 0 {
			t.Errorf("u4's page views found after anonymisation: %v, %v", found["shop"]["page_views"], err)
		}
	}
}

// TestOneRunAtATime: while a run holds the organisation's sweep, another
// instance's run is refused.
func TestOneRunAtATime(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	db := openShop(t)
	if err := st.StartRetentionRun(ctx, store.RetentionRun{ID: "rr_other", Instance: "b", StartedAt: testNow, LeaseUntil: testNow.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	before := dump(t, db)
	if _, err := newService(t, st, db, nil).Run(ctx, audit.System("test"), nil); !errors.Is(err, ErrRunning) {
		t.Fatalf("run while another holds the sweep: %v, want ErrRunning", err)
	}
	if d := cmp.Diff(before, dump(t, db)); d != "" {
		t.Errorf("a refused run changed the shop:\n%s", d)
	}
}

// TestRunResumes: a run stopped after its first batch (as a crash
// would) is recorded failed with what it did; the next run carries on to
// the state an uninterrupted run reaches.
func TestRunResumes(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	db, ref := openShop(t), openShop(t)
	if _, err := newService(t, storetest.SQLite(t), ref, nil).Run(ctx, audit.System("test"), nil); err != nil {
		t.Fatal(err)
	}
	svc := newService(t, st, db, nil)
	cctx, cancel := context.WithCancel(ctx)
	_, err := svc.Run(cctx, audit.System("test"), func(p Progress) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v, want canceled", err)
	}
	if _, err := svc.Run(ctx, audit.System("test"), nil); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(dump(t, ref), dump(t, db)); d != "" {
		t.Errorf("resumed run's end state differs from an uninterrupted run's (-want +got):\n%s", d)
	}
	runs, err := st.RetentionRuns(ctx, 10)
	states := map[string]int{}
	for _, r := range runs {
		states[r.State]++
	}
	if err != nil || len(runs) != 2 || states[store.RetentionFailed] != 1 || states[store.RetentionDone] != 1 {
		t.Errorf("runs = %+v, %v; want a failed run and a done one", runs, err)
	}
}

// TestWithdrawalSweep: a person who withdrew the consent push
// notifications rest on loses their push tokens at the next run, and
// only theirs; one who gave it again, or whom a hold keeps, keeps theirs;
// a withdrawal already swept is not swept again.
func TestWithdrawalSweep(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	db := openShop(t)
	for _, id := range []string{"u1", "u2", "u3"} {
		if err := st.CreateSubject(ctx, store.Subject{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	ev := func(id, subject, action string, back time.Duration) store.ConsentEvent {
		return store.ConsentEvent{ID: id, SubjectID: subject, Purpose: "push_notifications", Action: action, VersionSeq: 1,
			Method: "api", Language: "en", NoticeHash: "abc", Evidence: "{}", Actor: "test", At: testNow.Add(-back)}
	}
	for _, e := range []store.ConsentEvent{
		ev("e1", "u1", store.ActionGrant, 3*time.Hour), ev("e2", "u1", store.ActionWithdraw, time.Hour), // u1 withdrew
		ev("e3", "u2", store.ActionGrant, 3*time.Hour), ev("e4", "u2", store.ActionWithdraw, 2*time.Hour), ev("e5", "u2", store.ActionGrant, time.Hour), // u2 gave it again
		ev("e6", "u3", store.ActionGrant, 3*time.Hour), ev("e7", "u3", store.ActionWithdraw, time.Hour), // u3 withdrew, held
	} {
		if err := st.AppendConsents(ctx, []store.ConsentEvent{e}, nil); err != nil {
			t.Fatal(err)
		}
	}
	tokens := func() map[string]string {
		out := map[string]string{}
		rows, err := db.Query("SELECT id, COALESCE(token, '-') FROM push_tokens")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, tok string
			rows.Scan(&id, &tok)
			out[id] = tok
		}
		return out
	}
	before := tokens()
	svc := newService(t, st, db, fixedHolds{{ID: "hd_u3", Scope: hold.Scope{SubjectID: "u3"}}})
	plan, err := svc.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range plan.Lines {
		if l.Rule == "push" && (l.People != 1 || l.Held != 1) {
			t.Errorf("plan for push: %d people, %d held; want u1, and u3 held", l.People, l.Held)
		}
	}
	rep, err := svc.Run(ctx, audit.System("test"), nil)
	if err != nil {
		t.Fatal(err)
	}
	res := rep.Results[len(rep.Results)-1]
	if res.Rule != "push" || res.People != 1 || res.Held != 1 || res.Rows != 2 {
		t.Errorf("push result = %+v; want u1's 2 tokens, u3 held", res)
	}
	after := tokens()
	for id, tok := range before {
		u := 1 + int(id[0]-'0')%4 // as openShop assigns them
		switch {
		case u == 1 && after[id] != "-":
			t.Errorf("token %s of u1 kept after the withdrawal: %q", id, after[id])
		case u != 1 && after[id] != tok:
			t.Errorf("token %s of u%d changed: %q", id, u, after[id])
		}
	}
	again, err := svc.Run(ctx, audit.System("test"), nil)
	if err != nil || again.Results[len(again.Results)-1].People != 0 {
		t.Errorf("second run = %+v, %v; want no one left to sweep", again.Results, err)
	}
	// The hold on u3 lifted, the next run sweeps u3's tokens, withdrawn
	// before the runs that held them: it looks at every withdrawal again
	// (u1's too, whose tokens are erased already and stay so).
	lifted := testNow.Add(time.Minute)
	svc.opt.Holds = fixedHolds{{ID: "hd_u3", Scope: hold.Scope{SubjectID: "u3"}, LiftedAt: &lifted}}
	svc.opt.Now = func() time.Time { return testNow.Add(time.Hour) }
	third, err := svc.Run(ctx, audit.System("test"), nil)
	if res := third.Results[len(third.Results)-1]; err != nil || res.People != 2 || res.Rows != 2 {
		t.Errorf("run after the lift = %+v, %v; want u3's 2 tokens", res, err)
	}
}

// TestSweepCertificates: a run that changes rows issues one certificate
// per rule, signed, kept, naming collections, fields and counts and no
// value; it verifies offline against the published key set, and fails
// once a count is changed. A run that changes nothing issues none.
func TestSweepCertificates(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	db := openShop(t)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := certificate.NewSigner(priv, "test-kid")
	if err != nil {
		t.Fatal(err)
	}
	svc := newService(t, st, db, nil)
	svc.opt.Signer = signer
	rep, err := svc.Run(ctx, audit.System("test"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Certificates) != 2 { // support and analytics
		t.Fatalf("certificates = %v, want one for each rule that changed rows", rep.Certificates)
	}
	c, err := st.Certificate(ctx, rep.Certificates[1])
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != certificate.KindSweep || c.Rule != "analytics" || c.PlanHash != rep.PlanHash || c.Rows() != 4 ||
		len(c.Targets) != 1 || c.Targets[0].Action != "anonymise" || !slices.Equal(c.Targets[0].Fields, []string{"ip", "user_id", "viewed_at"}) {
		t.Errorf("certificate = %+v", c)
	}
	if err := certificate.Verify(c, signer.JWKS()); err != nil {
		t.Errorf("verify: %v", err)
	}
	body := string(c.Marshal())
	for _, value := range []string{"10.0.0.", `"u2"`, `"u4"`, "help me"} { // user ids quoted: a random certificate id may hold u2
		if strings.Contains(body, value) {
			t.Errorf("the certificate carries %q: %s", value, body)
		}
	}
	c.Targets[0].Rows++
	if err := certificate.Verify(c, signer.JWKS()); !errors.Is(err, certificate.ErrSignature) {
		t.Errorf("verify with a count changed: %v, want ErrSignature", err)
	}
	again, err := svc.Run(ctx, audit.System("test"), nil)
	if err != nil || len(again.Certificates) != 0 {
		t.Errorf("second run issued %v, %v; want none", again.Certificates, err)
	}
}

// TestDiscontinue: ending the push service erases the push tokens, the
// one category it alone collects, in every row, once the approved plan
// matches; a different plan is refused, an unknown service too, and a
// hold on the collection keeps it whole.
func TestDiscontinue(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	db := openShop(t)
	svc := newService(t, st, db, nil)
	if _, err := svc.PlanDiscontinue(ctx, "nope"); !errors.Is(err, ErrUnknownService) {
		t.Errorf("unknown service: %v", err)
	}
	d, err := svc.PlanDiscontinue(ctx, "push")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Targets) != 1 || d.Targets[0].Collection != "push_tokens" || d.Targets[0].Action != dataset.ActionErase ||
		!slices.Equal(d.Targets[0].Fields, []string{"token"}) || d.Targets[0].Rows != 8 || !slices.Contains(d.Categories, "device.push_token") {
		t.Fatalf("plan = %+v", d)
	}
	before := dump(t, db)
	if _, err := svc.RunDiscontinue(ctx, audit.System("test"), "push", strings.Repeat("0", 64)); !errors.Is(err, ErrPlanChanged) {
		t.Errorf("run of another plan: %v, want ErrPlanChanged", err)
	}
	held := newService(t, st, db, fixedHolds{{ID: "hd_tokens", Scope: hold.Scope{Datastore: "shop", Collection: "push_tokens"}}})
	rep, err := held.RunDiscontinue(ctx, audit.System("test"), "push", d.Hash())
	if err != nil || rep.Results[0].Rows != 0 || rep.Results[0].Held != 8 {
		t.Errorf("held run = %+v, %v", rep.Results, err)
	}
	if d := cmp.Diff(before, dump(t, db)); d != "" {
		t.Errorf("a refused or held run changed the shop:\n%s", d)
	}
	rep, err = svc.RunDiscontinue(ctx, audit.System("test"), "push", d.Hash())
	if err != nil || rep.Results[0].Rows != 8 {
		t.Fatalf("run = %+v, %v", rep.Results, err)
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM push_tokens WHERE token IS NULL AND user_id IS NOT NULL").Scan(&n); err != nil || n != 8 {
		t.Errorf("tokens erased with their rows kept: %d, %v; want 8", n, err)
	}
}

// countAudit counts the entries of action on st's trail.
func countAudit(t *testing.T, st *store.Store, action string) int {
	t.Helper()
	entries, err := st.AuditEntries(context.Background(), audit.Filter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Action == action {
			n++
		}
	}
	return n
}
