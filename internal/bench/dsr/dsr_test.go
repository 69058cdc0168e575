package dsrbench

import (
	"bytes"
	"context"
	"database/sql"
	"io"
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
	rep, err := Run(ctx, dsn, Config{Customers: 200, Requests: 20, Concurrency: 4, Seed: 1}, &out, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	for _, want := range []string{
		"data-subject requests on PostgreSQL: 200 customers, 4000 rows; 20 requests per batch",
		"concurrent 4: 4 in flight",
		"operation engine mode                 p50        p99     req/s  rows/req queries/req   alloc/req   peak heap",
		"\naccess    custos sequential   ", "\naccess    naive  sequential   ",
		"\naccess    custos concurrent 4 ", "\naccess    naive  concurrent 4 ",
		"\nerase     custos sequential   ", "\nerase     naive  sequential   ",
		"\nerase     custos concurrent 4 ", "\nerase     naive  concurrent 4 ",
		"\ncorrect   custos sequential   ", "\ncorrect   naive  sequential   ",
		"\ncorrect   custos concurrent 4 ", "\ncorrect   naive  concurrent 4 ",
		"ratios naive/custos", "\n  access  sequential    p50 ", "\n  erase   concurrent 4  p50 ", "\n  correct concurrent 4  p50 ",
		"Go heap in use after a collection: ", "peak process RSS (VmHWM, whole process",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(log.String(), "rows/s") {
		t.Errorf("no generation progress:\n%s", log.String())
	}
	if len(rep.Phases) != 12 {
		t.Fatalf("%d phases, want 12 (3 operations × 2 modes × 2 engines)", len(rep.Phases))
	}
	for _, p := range rep.Phases {
		name := p.Op + " " + p.Engine + " " + mode(p)
		// 1 customer, 1 address, 3 orders, 6 items, 6 products, 1 card, 3 logins;
		// erasure changes the customer, address, card and logins;
		// correction the customer's and the card's name and the address.
		want := map[string]float64{OpAccess: 21, OpErase: 6, OpCorrect: 3}[p.Op]
		if p.Rows != want {
			t.Errorf("%s: %.1f rows per subject, want %.0f", name, p.Rows, want)
		}
		if len(p.Lat) != 20 {
			t.Errorf("%s: batch of %d requests, want 20", name, len(p.Lat))
		}
		if p.Queries <= 0 || p.AllocPerReq == 0 || p.PeakHeap == 0 {
			t.Errorf("%s: %.1f queries, %d bytes allocated per request, peak heap %d: want all above 0", name, p.Queries, p.AllocPerReq, p.PeakHeap)
		}
	}
	for _, op := range []string{OpAccess, OpErase, OpCorrect} {
		for _, concurrent := range []bool{false, true} {
			c, n := rep.Phase(op, EngineCustos, concurrent), rep.Phase(op, EngineNaive, concurrent)
			if c.Queries >= n.Queries {
				t.Errorf("%s %s: custos sends %.1f statements per request, naive %.1f: want fewer", op, mode(c), c.Queries, n.Queries)
			}
		}
	}
	if rep.RSSBatches == 0 {
		t.Errorf("no peak RSS read from /proc/self/status")
	}
}

// TestCountedStatements: the pool's driver counts exactly the statements the
// naive traversal knows it sends.
func TestCountedStatements(t *testing.T) {
	dsn := testdb.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
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
	if err := shop.Generate(ctx, 50, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	ds, err := Annotation()
	if err != nil {
		t.Fatal(err)
	}
	before := shop.Statements.Statements()
	_, sent, err := NaiveAccess(ctx, shop.DB, ds, Seeds(7))
	if err != nil {
		t.Fatal(err)
	}
	if got := shop.Statements.Statements() - before; got != int64(sent) || sent < 10 {
		t.Errorf("driver counted %d statements, the naive traversal sent %d (want the same, and at least 10)", got, sent)
	}
	before = shop.Statements.Statements()
	var n int
	if err := shop.DB.QueryRowContext(ctx, `SELECT count(*) FROM customer WHERE id > $1`, 10).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if _, err := shop.DB.ExecContext(ctx, `UPDATE product SET name = name WHERE id = $1`, 1); err != nil {
		t.Fatal(err)
	}
	if got := shop.Statements.Statements() - before; got != 2 || n != 40 {
		t.Errorf("one query and one exec counted as %d statements (want 2); count %d (want 40)", got, n)
	}
}

// TestCustosMemoryFlatInCustomers: with twenty times the customers, a
// request of the engine allocates about the same and the peak heap of its
// batches does not follow the size of the database. Each subject owns the
// same rows at both sizes, so only reading more than the subject's rows
// could make either grow.
func TestCustosMemoryFlatInCustomers(t *testing.T) {
	dsn := testdb.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const small, large = 200, 4000
	reps := map[int64]Report{}
	for _, customers := range []int64{small, large} {
		var log bytes.Buffer
		rep, err := Run(ctx, dsn, Config{Customers: customers, Requests: 20, Concurrency: 4, Seed: 1}, io.Discard, &log)
		if err != nil {
			t.Fatalf("%d customers: %v\n%s", customers, err, log.String())
		}
		reps[customers] = rep
	}
	for _, op := range []string{OpAccess, OpErase} {
		for _, concurrent := range []bool{false, true} {
			s, l := reps[small].Phase(op, EngineCustos, concurrent), reps[large].Phase(op, EngineCustos, concurrent)
			name := op + " " + mode(s)
			t.Logf("%s: alloc/req %s and %s, peak heap %s and %s, statements/req %.1f and %.1f at %d and %d customers", name,
				size(s.AllocPerReq), size(l.AllocPerReq), size(s.PeakHeap), size(l.PeakHeap), s.Queries, l.Queries, small, large)
			if l.AllocPerReq > s.AllocPerReq*5/4 {
				t.Errorf("%s: %d bytes allocated per request at %d customers, %d at %d: want at most 25%% more", name, l.AllocPerReq, large, s.AllocPerReq, small)
			}
			if l.PeakHeap > 3*s.PeakHeap {
				t.Errorf("%s: peak heap %s at %d customers, %s at %d: want at most 3 times, not 20", name, size(l.PeakHeap), large, size(s.PeakHeap), small)
			}
			if l.Queries != s.Queries {
				t.Errorf("%s: %.1f statements per request at %d customers, %.1f at %d: want the same", name, l.Queries, large, s.Queries, small)
			}
		}
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
