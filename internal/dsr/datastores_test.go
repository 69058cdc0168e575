package dsr_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "modernc.org/sqlite"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/execute"
	"github.com/custos-privacy/custos/internal/fault"
)

const shopAnnotation = `custos_dataset: 1
datastores:
  - id: shop
    kind: sqlite
    dsn_env: SHOP_DSN
    collections:
      - name: customer
        fields:
          - name: id
            primary_key: true
          - name: email
            categories: [basic.email]
            identity: email
            erase: null
          - name: name
            categories: [basic.name]
            erase: null
      - name: orders
        fields:
          - name: id
            primary_key: true
          - name: customer_id
            references: {collection: customer, field: id, direction: from}
          - name: ship_to
            categories: [basic.address]
            erase: null
`

// TestDeletionReachesTheOrganisationsDatabase: a completed deletion erases
// the subject's rows in an annotated database, found from the email Custos
// keeps, before Custos erases that email itself; other customers' rows stay.
func TestDeletionReachesTheOrganisationsDatabase(t *testing.T) {
	ctx := context.Background()
	shop, ds := sqliteShop(t, shopAnnotation,
		`CREATE TABLE customer (id INTEGER PRIMARY KEY, email TEXT, name TEXT)`,
		`CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, ship_to TEXT)`,
		`INSERT INTO customer VALUES (1, 'del@example.com', 'Lin Wei'), (2, 'other@example.com', 'Other Person')`,
		`INSERT INTO orders VALUES (10, 1, 'Road 1'), (11, 2, 'Road 2'), (12, 1, 'Road 3')`,
	)
	e := newEnv(t, starterManifest, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	e.req.AddExecutor(&dsr.Datastores{Stores: []dsr.Datastore{{Annotation: ds, DB: shop, Kind: connector.SQLite}}, Seeds: e.req.Seeds})
	e.subject("st-del-1", "del@example.com", "", nil)

	v := e.submitOperator(map[string]any{"type": "access", "subject_id": "st-del-1"})
	e.must(200, "POST", "/v1/requests/"+v.ID+"/approve", e.op, "", nil)
	var done dsr.View
	e.must(200, "POST", "/v1/requests/"+v.ID+"/complete", e.op, `{}`, &done)
	// Operators read what each datastore did in the history; the subject
	// is told what was done, without the organisation's datastore names.
	if note := lastNote(done); !strings.Contains(note, "shop: 3 rows found") {
		t.Errorf("access did not report the shop's rows: %q", note)
	}
	if strings.Contains(done.Explanation, "shop") {
		t.Errorf("the subject is told about the datastore: %q", done.Explanation)
	}
	// The rows found go into the export bundle, under "elsewhere".
	res := e.do("GET", done.Download, "", "")
	if res.Code != 200 {
		t.Fatalf("download: %d %s", res.Code, res.Body)
	}
	data := string(unzip(t, res.Body)["data.json"])
	for _, want := range []string{`"elsewhere"`, `"shop"`, `"Road 3"`, `"Lin Wei"`} {
		if !strings.Contains(data, want) {
			t.Errorf("data.json lacks %s", want)
		}
	}
	if strings.Contains(data, "Other Person") || strings.Contains(data, "Road 2") {
		t.Error("data.json carries another customer's rows")
	}

	v = e.submitOperator(map[string]any{"type": "deletion", "subject_id": "st-del-1"})
	e.must(200, "POST", "/v1/requests/"+v.ID+"/approve", e.op, "", nil)
	e.must(200, "POST", "/v1/requests/"+v.ID+"/complete", e.op, `{}`, &done)
	if note := lastNote(done); !strings.Contains(note, "shop: 3 rows, 4 fields erased") {
		t.Errorf("deletion summary: %q", note)
	}
	if strings.Contains(done.Explanation, "shop") || !strings.Contains(done.Explanation, "We have erased your personal information.") {
		t.Errorf("the subject is told %q", done.Explanation)
	}
	rows := map[string]string{}
	for _, q := range []string{`SELECT 'c' || id || ':' || COALESCE(email, '∅') || '/' || COALESCE(name, '∅') FROM customer`, `SELECT 'o' || id || ':' || COALESCE(ship_to, '∅') FROM orders`} {
		r, err := shop.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			var s string
			r.Scan(&s)
			k, val, _ := strings.Cut(s, ":")
			rows[k] = val
		}
		r.Close()
	}
	want := map[string]string{"c1": "∅/∅", "c2": "other@example.com/Other Person", "o10": "∅", "o11": "Road 2", "o12": "∅"}
	for k, w := range want {
		if rows[k] != w {
			t.Errorf("%s = %q, want %q", k, rows[k], w)
		}
	}
	e.noPI("del@example.com")
}

// correctableShop is shopAnnotation with the name and the delivery address
// correctable, and the email too: it is the identity the subject is found by.
var correctableShop = strings.NewReplacer(
	"            identity: email\n", "            identity: email\n            correct: email\n",
	"            categories: [basic.name]\n", "            categories: [basic.name]\n            correct: name\n",
	"            categories: [basic.address]\n", "            categories: [basic.address]\n            correct: address\n",
).Replace(shopAnnotation)

// TestCorrectionReachesTheOrganisationsDatabase: a correction request
// names categories and values; intake refuses what nothing would correct
// and values that do not fit; the operator previews counts, field names and
// masked values; completion rewrites every copy the traversal reaches, once;
// the values appear in no response but the masked preview, in no log and in
// no audit entry.
func TestCorrectionReachesTheOrganisationsDatabase(t *testing.T) {
	ctx := context.Background()
	shop, ds := sqliteShop(t, correctableShop,
		`CREATE TABLE customer (id INTEGER PRIMARY KEY, email TEXT, name TEXT)`,
		`CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, ship_to TEXT)`,
		`INSERT INTO customer VALUES (1, 'fix@example.com', 'Lin Wie'), (2, 'other@example.com', 'Other Person')`,
		`INSERT INTO orders VALUES (10, 1, 'Road 1'), (11, 2, 'Road 2'), (12, 1, 'Road 3')`,
	)
	e := newEnv(t, starterManifest, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	e.req.AddExecutor(&dsr.Datastores{Stores: []dsr.Datastore{{Annotation: ds, DB: shop, Kind: connector.SQLite}}, Seeds: e.req.Seeds})
	e.subject("st-fix-1", "fix@example.com", "", nil)

	refused := []struct {
		name       string
		correction map[string]string
		code       string
		secret     string
	}{
		{"unknown field", map[string]string{"nickname": "Secret Nick"}, "unknown_correction_field", "Secret Nick"},
		{"category held nowhere", map[string]string{"account.id": "424242"}, "unknown_correction_field", "424242"},
		{"a value where the key goes", map[string]string{"Secret Person <secret@example.com>": "x"}, "unknown_correction_field", "secret@example.com"},
		{"bad email", map[string]string{"basic.email": "secret-at-nowhere"}, "invalid_correction_value", "secret-at-nowhere"},
		{"bad name", map[string]string{"basic.name": "secret@name.example"}, "invalid_correction_value", "secret@name.example"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do("POST", "/v1/requests", e.op, mustJSON(map[string]any{"type": "correction", "subject_id": "st-fix-1", "language": "en",
				"verification": "operator", "evidence": "checked", "details": map[string]any{"correction": tc.correction}}))
			if res.Code != 422 || errorCode(res.Body) != tc.code {
				t.Fatalf("got %d %s, want 422 %s", res.Code, res.Body, tc.code)
			}
			e.noPI(tc.secret)
		})
	}

	v := e.submitOperator(map[string]any{"type": "correction", "subject_id": "st-fix-1",
		"details": map[string]any{"correction": map[string]string{"basic.name": "Lin Wei", "basic.address": "Road 9, Flat 2", "birth_date": "1990-01-02"}}})
	e.must(200, "POST", "/v1/requests/"+v.ID+"/approve", e.op, "", nil)
	var preview dsr.CorrectionPreview
	e.must(200, "GET", "/v1/requests/"+v.ID+"/correction", e.op, "", &preview)
	want := dsr.CorrectionPreview{
		Datastores: []execute.Correction{{Datastore: "shop", Collections: []execute.CollectionCorrection{
			{Collection: "customer", Rows: 1, Fields: []execute.FieldCorrection{{Field: "name", Category: "basic.name", Rows: 1, Masked: "*******"}}},
			{Collection: "orders", Rows: 2, Fields: []execute.FieldCorrection{{Field: "ship_to", Category: "basic.address", Rows: 2, Masked: "Roa****at 2"}}},
		}}},
		Custos: []string{"birth_date"}, Operator: []string{},
	}
	if diff := cmp.Diff(want, preview); diff != "" {
		t.Errorf("preview (-want +got):\n%s", diff)
	}

	var done dsr.View
	e.must(200, "POST", "/v1/requests/"+v.ID+"/complete", e.op, `{}`, &done)
	if note := lastNote(done); !strings.Contains(note, "shop: 3 rows corrected (customer.name, orders.ship_to)") {
		t.Errorf("correction summary: %q", note)
	}
	if !strings.Contains(done.Explanation, "We have corrected your personal information as you asked.") {
		t.Errorf("the subject is told %q", done.Explanation)
	}
	got := map[string]string{}
	for _, q := range []string{`SELECT 'c' || id || ':' || email || '/' || name FROM customer`, `SELECT 'o' || id || ':' || ship_to FROM orders`} {
		r, err := shop.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			var s string
			r.Scan(&s)
			k, val, _ := strings.Cut(s, ":")
			got[k] = val
		}
		r.Close()
	}
	wantRows := map[string]string{"c1": "fix@example.com/Lin Wei", "c2": "other@example.com/Other Person",
		"o10": "Road 9, Flat 2", "o11": "Road 2", "o12": "Road 9, Flat 2"}
	if diff := cmp.Diff(wantRows, got); diff != "" {
		t.Errorf("shop after the correction (-want +got):\n%s", diff)
	}

	// The trail keeps counts and field names.
	trail := string(e.must(200, "GET", "/v1/audit?limit=1000", e.admin, "", nil).Body)
	for _, w := range []string{`request.corrected`, `\"ship_to\"`, `\"rows\":2`} {
		if !strings.Contains(trail, w) {
			t.Errorf("audit trail lacks %s", w)
		}
	}
	for _, secret := range []string{"Lin Wei", "Road 9"} {
		if strings.Contains(trail, secret) {
			t.Errorf("audit trail carries %q", secret)
		}
	}
	e.noPI("Lin Wei", "Road 9")

	// A category the databases hold but no field of which is correctable.
	plain, err := dataset.Parse("shop.yaml", []byte(shopAnnotation))
	if err != nil {
		t.Fatal(err)
	}
	x := &dsr.Datastores{Stores: []dsr.Datastore{{Annotation: &plain.Datastores[0], DB: shop, Kind: connector.SQLite}}}
	if ok, err := x.CheckCorrection("basic.name", "Lin Wei"); !ok || errorCodeOf(err) != "field_not_correctable" {
		t.Errorf("uncorrectable name: %v %v, want field_not_correctable", ok, err)
	}

	// The same request again (a second one, as a subject might send)
	// finds everything corrected already.
	v = e.submitOperator(map[string]any{"type": "correction", "subject_id": "st-fix-1",
		"details": map[string]any{"correction": map[string]string{"basic.name": "Lin Wei", "basic.address": "Road 9, Flat 2"}}})
	e.must(200, "POST", "/v1/requests/"+v.ID+"/approve", e.op, "", nil)
	e.must(200, "POST", "/v1/requests/"+v.ID+"/complete", e.op, `{}`, &done)
	if note := lastNote(done); !strings.Contains(note, "shop: 0 rows corrected") {
		t.Errorf("second correction summary: %q", note)
	}
}

// errorCodeOf is the stable code of a fault, "" for anything else.
func errorCodeOf(err error) string {
	var f *fault.Error
	if errors.As(err, &f) {
		return f.Code
	}
	return ""
}

// restrictableShop flags restriction on customers and not on orders.
var restrictableShop = strings.NewReplacer(
	"      - name: customer\n        fields:\n", "      - name: customer\n        restrict_flag: restricted\n        fields:\n          - name: restricted\n            data_type: integer\n",
).Replace(shopAnnotation)

// TestRestrictionReachesTheOrganisationsDatabase: a restriction request
// flags the subject's customer row; their orders, which declare no flag,
// become a tracked task on the request; lifting the restriction clears the
// flag; other customers are untouched; the trail records counts only.
func TestRestrictionReachesTheOrganisationsDatabase(t *testing.T) {
	ctx := context.Background()
	shop, ds := sqliteShop(t, restrictableShop,
		`CREATE TABLE customer (id INTEGER PRIMARY KEY, email TEXT, name TEXT, restricted INTEGER NOT NULL DEFAULT 0)`,
		`CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, ship_to TEXT)`,
		`INSERT INTO customer (id, email, name) VALUES (1, 'hold@example.com', 'Lin Wei'), (2, 'other@example.com', 'Other Person')`,
		`INSERT INTO orders VALUES (10, 1, 'Road 1'), (11, 2, 'Road 2'), (12, 1, 'Road 3')`,
	)
	e := newEnv(t, starterManifest, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	e.req.AddExecutor(&dsr.Datastores{Stores: []dsr.Datastore{{Annotation: ds, DB: shop, Kind: connector.SQLite}}, Seeds: e.req.Seeds})
	e.subject("st-hold-1", "hold@example.com", "", nil)
	flags := func() map[int]int {
		out := map[int]int{}
		rows, err := shop.QueryContext(ctx, `SELECT id, restricted FROM customer`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, f int
			rows.Scan(&id, &f)
			out[id] = f
		}
		return out
	}

	v := e.submitOperator(map[string]any{"type": "restriction", "subject_id": "st-hold-1"})
	e.must(200, "POST", "/v1/requests/"+v.ID+"/approve", e.op, "", nil)
	var done dsr.View
	e.must(200, "POST", "/v1/requests/"+v.ID+"/complete", e.op, `{}`, &done)
	if note := lastNote(done); !strings.Contains(note, "shop: 1 rows flagged restricted (customer.restricted); no restriction flag on orders") {
		t.Errorf("restriction summary: %q", note)
	}
	if diff := cmp.Diff(map[int]int{1: 1, 2: 0}, flags()); diff != "" {
		t.Errorf("flags after the restriction (-want +got):\n%s", diff)
	}
	var task *dsr.RecipientState
	for i, r := range done.Recipients {
		if r.Recipient == "datastore:shop" {
			task = &done.Recipients[i]
		}
	}
	if task == nil || task.Action != "restriction" || task.Method != "manual" || task.State != "pending" || !slices.Equal(task.Categories, []string{"basic.address"}) {
		t.Errorf("no pending manual restriction task for the shop's orders: %+v", done.Recipients)
	}

	e.must(200, "PUT", "/v1/subjects/st-hold-1/restriction", e.op, `{"restricted":false,"reason":"accuracy confirmed"}`, nil)
	if diff := cmp.Diff(map[int]int{1: 0, 2: 0}, flags()); diff != "" {
		t.Errorf("flags after lifting (-want +got):\n%s", diff)
	}
	e.must(200, "PUT", "/v1/subjects/st-hold-1/restriction", e.op, `{"restricted":true,"reason":"accuracy contested"}`, nil)
	if diff := cmp.Diff(map[int]int{1: 1, 2: 0}, flags()); diff != "" {
		t.Errorf("flags after restricting again (-want +got):\n%s", diff)
	}
	// A deletion a legal hold stops restricts instead, there as here.
	e.subject("st-hold-2", "other@example.com", "", nil)
	v = e.submitOperator(map[string]any{"type": "deletion", "subject_id": "st-hold-2"})
	e.must(200, "POST", "/v1/requests/"+v.ID+"/approve", e.op, "", nil)
	e.must(200, "POST", "/v1/requests/"+v.ID+"/complete", e.op, `{"legal_hold":"court_order"}`, &done)
	if note := lastNote(done); !strings.Contains(note, "shop: 1 rows flagged restricted") {
		t.Errorf("held deletion summary: %q", note)
	}
	if diff := cmp.Diff(map[int]int{1: 1, 2: 1}, flags()); diff != "" {
		t.Errorf("flags after the held deletion (-want +got):\n%s", diff)
	}
	var name string
	if err := shop.QueryRowContext(ctx, `SELECT name FROM customer WHERE id = 2`).Scan(&name); err != nil || name != "Other Person" {
		t.Errorf("the held customer's name is %q (%v): nothing may be erased", name, err)
	}

	trail := string(e.must(200, "GET", "/v1/audit?limit=1000", e.admin, "", nil).Body)
	for _, w := range []string{"datastores.restrict", "datastores.unrestrict"} {
		if !strings.Contains(trail, w) {
			t.Errorf("audit trail lacks %s", w)
		}
	}
	e.noPI("hold@example.com", "Lin Wei")
}

// TestCorrectedIdentityIsCustossToo: a correction that rewrites the email
// the subject is found by in the organisation's database puts the new
// email in place of Custos's own, within the completion: a public request
// by the new email then finds the person (its code goes there) and one by
// the old email finds nobody. The value stays kept (sealed) as the old one
// was; neither email is in a response, the log or the audit trail.
func TestCorrectedIdentityIsCustossToo(t *testing.T) {
	ctx := context.Background()
	const oldEmail, newEmail = "moved.away@example.com", "Moved.Here@Example.com"
	shop, ds := sqliteShop(t, correctableShop,
		`CREATE TABLE customer (id INTEGER PRIMARY KEY, email TEXT, name TEXT)`,
		`CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, ship_to TEXT)`,
		`INSERT INTO customer VALUES (1, '`+oldEmail+`', 'Lin Wei'), (2, 'other@example.com', 'Other Person')`,
		`INSERT INTO orders VALUES (10, 1, 'Road 1')`,
	)
	e := newEnv(t, starterManifest, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	e.req.AddExecutor(&dsr.Datastores{Stores: []dsr.Datastore{{Annotation: ds, DB: shop, Kind: connector.SQLite}}, Seeds: e.req.Seeds})
	e.subject("st-move-1", oldEmail, "", nil)
	e.subject("st-other-1", "other@example.com", "", nil)
	// A consent check by the old email, before: it names the subject (and
	// is remembered by the identity cache).
	if known, _ := e.check(map[string]any{"identity": map[string]string{"kind": "email", "value": oldEmail}, "purposes": []string{"account_registration"}}); !known {
		t.Fatal("the subject is not found by the email on file")
	}

	v := e.submitOperator(map[string]any{"type": "correction", "subject_id": "st-move-1",
		"details": map[string]any{"correction": map[string]string{"basic.email": newEmail}}})
	e.must(200, "POST", "/v1/requests/"+v.ID+"/approve", e.op, "", nil)
	var done dsr.View
	e.must(200, "POST", "/v1/requests/"+v.ID+"/complete", e.op, `{}`, &done)
	note := lastNote(done)
	if !strings.Contains(note, "shop: 1 rows corrected (customer.email)") || !strings.Contains(note, "Custos's email identity of the subject replaced by the corrected one") ||
		strings.Contains(note, "only once Custos holds it") {
		t.Errorf("correction summary: %q", note)
	}
	var stored string
	if err := shop.QueryRowContext(ctx, `SELECT email FROM customer WHERE id = 1`).Scan(&stored); err != nil || stored != "moved.here@example.com" {
		t.Errorf("the shop holds %q (%v)", stored, err)
	}

	// By the new email: found, the code goes to the new address.
	id := e.submitPublic("access", "email", newEmail, nil)
	code := e.code(id)
	e.verify(id, code)
	if got := e.get(id); got.SubjectID != "st-move-1" {
		t.Errorf("the request by the new email is about %q (%s), want st-move-1", got.SubjectID, got.State)
	}
	to := ""
	for _, m := range e.sent.all() {
		if m.Channel == "email" && strings.Contains(m.Text, code) {
			to = m.To
		}
	}
	if to != "moved.here@example.com" {
		t.Errorf("the code went to %q, want the corrected address", to)
	}
	// By the old one: nobody, so no code goes out.
	old := e.submitPublic("access", "email", oldEmail, nil)
	e.dispatch()
	deliveries, err := e.st.Deliveries(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if len(deliveries) != 0 {
		t.Errorf("a request by the old email got %d deliveries, want none", len(deliveries))
	}
	if known, _ := e.check(map[string]any{"identity": map[string]string{"kind": "email", "value": oldEmail}, "purposes": []string{"account_registration"}}); known {
		t.Error("a consent check by the old email still finds the subject")
	}
	if known, _ := e.check(map[string]any{"identity": map[string]string{"kind": "email", "value": newEmail}, "purposes": []string{"account_registration"}}); !known {
		t.Error("a consent check by the new email does not find the subject")
	}
	// Kept as the old one was: the subject's view masks a value.
	sv := e.subjectView("st-move-1")
	if len(sv.Identities) != 1 || sv.Identities[0].Kind != "email" || sv.Identities[0].Masked == "" {
		t.Errorf("the subject's identities: %+v", sv.Identities)
	}

	trail := string(e.must(200, "GET", "/v1/audit?limit=1000", e.admin, "", nil).Body)
	if !strings.Contains(trail, "subject.identity_replace") {
		t.Error("the audit trail lacks subject.identity_replace")
	}
	for _, secret := range []string{oldEmail, "moved.here@example.com", "moved.here"} {
		if strings.Contains(strings.ToLower(trail), secret) {
			t.Errorf("audit trail carries %q", secret)
		}
	}
	e.noPI(oldEmail, newEmail, "moved.here", "moved.away")
}

// sqliteShop is a SQLite shop database made by stmts, closed when the test
// ends, and its annotation parsed from annotation.
func sqliteShop(t *testing.T, annotation string, stmts ...string) (*sql.DB, *dataset.Datastore) {
	t.Helper()
	shop, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shop.Close() })
	for _, q := range stmts {
		if _, err := shop.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := dataset.Parse("shop.yaml", []byte(annotation))
	if err != nil {
		t.Fatal(err)
	}
	return shop, &ds.Datastores[0]
}
