package dsrbench

import (
	"bytes"
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/execute"
	"github.com/custos-privacy/custos/internal/testdb"
)

// TestRunPrintsTheReport runs the whole benchmark at a small size.
func TestRunPrintsTheReport(t *testing.T) {
	dsn := testdb.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, log bytes.Buffer
	rep, err := Run(ctx, dsn, Config{Customers: 200, Requests: 20, Seed: 1}, &out, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	for _, want := range []string{
		"data-subject requests on PostgreSQL: 200 customers, 4000 rows; 20 requests",
		"operation engine         p50        p99     req/s  rows/req queries/req   alloc/req   peak heap",
		"\naccess    custos ", "\naccess    naive  ", "\nerase     custos ", "\nerase     naive  ",
		"ratios naive/custos", "\n  access  p50 ", "\n  erase   p50 ",
		"memory: heap in use ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(log.String(), "rows/s") {
		t.Errorf("no generation progress:\n%s", log.String())
	}
	// 1 customer, 1 address, 3 orders, 6 items, 6 products, 1 card, 3 logins;
	// erasure changes the customer, address, card and logins.
	for name, got := range map[string]float64{
		"access custos": rep.AccessCustos.Rows, "access naive": rep.AccessNaive.Rows,
	} {
		if got != 21 {
			t.Errorf("%s found %.1f rows per subject, want 21", name, got)
		}
	}
	for name, got := range map[string]float64{
		"erase custos": rep.EraseCustos.Rows, "erase naive": rep.EraseNaive.Rows,
	} {
		if got != 6 {
			t.Errorf("%s changed %.1f rows per subject, want 6", name, got)
		}
	}
	if len(rep.AccessCustos.Lat) != 20 || len(rep.EraseNaive.Lat) != 20 {
		t.Errorf("batches of %d and %d requests, want 20", len(rep.AccessCustos.Lat), len(rep.EraseNaive.Lat))
	}
}

// TestEnginesAgree: the naive traversal returns exactly the engine's rows,
// and both erasures null the personal fields of the subject alone.
func TestEnginesAgree(t *testing.T) {
	dsn := testdb.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	shop, err := NewShop(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := shop.Close(); err != nil {
			t.Error(err)
		}
	}()
	if err := shop.Generate(ctx, 200, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	ds, err := Annotation()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{1, 57, 200} {
		got, err := execute.Access(ctx, shop.DB, connector.Postgres, ds, Seeds(id), execute.Options{})
		if err != nil {
			t.Fatal(err)
		}
		naive, _, err := NaiveAccess(ctx, shop.DB, ds, Seeds(id))
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(got, naive); d != "" {
			t.Errorf("customer %d: engine and naive traversal differ (-engine +naive):\n%s", id, d)
		}
		sizes := map[string]int{}
		for c, rows := range got {
			sizes[c] = len(rows)
		}
		want := map[string]int{"customer": 1, "address": 1, "orders": 3, "order_item": 6, "product": 6, "payment_card": 1, "login": 3}
		if d := cmp.Diff(want, sizes); d != "" {
			t.Errorf("customer %d: rows per collection (-want +got):\n%s", id, d)
		}
		if e := got["customer"][0]["email"]; e != Email(id) {
			t.Errorf("customer %d: email %v", id, e)
		}
	}

	if _, err := execute.Erase(ctx, shop.DB, connector.Postgres, ds, Seeds(10), execute.EraseOptions{Categories: EraseCategories}); err != nil {
		t.Fatal(err)
	}
	if _, err := NaiveErase(ctx, shop.DB, ds, Seeds(11), EraseCategories); err != nil {
		t.Fatal(err)
	}
	// Counts of non-null personal values per customer: what erasure leaves.
	checks := []struct{ name, query string }{
		{"customer email, name", `SELECT count(email) + count(name) FROM customer WHERE id = $1`},
		{"address street, city", `SELECT count(a.street) + count(a.city) FROM address a JOIN customer c ON c.address_id = a.id WHERE c.id = $1`},
		{"card ccn, name", `SELECT count(ccn) + count(name) FROM payment_card WHERE customer_id = $1`},
		{"login time", `SELECT count(time) FROM login WHERE customer_id = $1`},
		{"orders kept", `SELECT count(*) FROM orders WHERE customer_id = $1`},
		{"items kept", `SELECT count(*) FROM order_item i JOIN orders o ON o.id = i.order_id WHERE o.customer_id = $1`},
	}
	want := map[int64][]int{
		10: {0, 0, 0, 0, 3, 6}, // erased by the engine
		11: {0, 0, 0, 0, 3, 6}, // erased by the naive traversal
		12: {2, 2, 2, 3, 3, 6}, // untouched
	}
	for id, counts := range want {
		var got []int
		for _, c := range checks {
			got = append(got, count(t, shop.DB, c.query, id))
		}
		if d := cmp.Diff(counts, got); d != "" {
			t.Errorf("customer %d after erasure (-want +got), checks %v:\n%s", id, checks, d)
		}
	}
	if n := count(t, shop.DB, `SELECT count(*) FROM product WHERE name IS NULL`); n != 0 {
		t.Errorf("%d products lost their name: they hold no personal data", n)
	}
}

func count(t *testing.T, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
