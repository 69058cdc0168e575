package execute

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/custos-privacy/custos/internal/connector"
)

// TestFidesEraseCrashRerun interrupts an erasure between its writes: a
// trigger stalls the payment_card UPDATE, which runs after the customer
// UPDATE, and the context is cancelled while it stalls. Nothing may have
// changed; a rerun must then leave the database as an uninterrupted run
// does, and a third run must change nothing.
func TestFidesEraseCrashRerun(t *testing.T) {
	ds := fidesDatastore(t)
	seeds := Seeds{"email": {"customer-1@example.com"}}
	opt := EraseOptions{Categories: []string{"basic.name", "financial"}}
	wantPlan := Plan{Datastore: ds.ID, Applied: true, Changes: []Change{
		{Collection: "customer", Key: map[string]any{"id": int64(1)},
			Fields: []FieldChange{{Field: "name", Strategy: "null"}}},
		{Collection: "payment_card", Key: map[string]any{"id": "pay_aaa-aaa"},
			Fields: []FieldChange{{Field: "ccn", Strategy: "null"}, {Field: "code", Strategy: "null"}, {Field: "name", Strategy: "null"}}},
	}}

	// The state an uninterrupted run leaves, on a copy of its own.
	ref := loadFides(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	plan, err := Erase(ctx, ref, connector.Postgres, ds, seeds, opt)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantPlan, plan); diff != "" {
		t.Fatalf("uninterrupted plan (-want +got):\n%s", diff)
	}
	wantAfter := takeSnapshot(t, ref)

	db := loadFides(t)
	var schema string
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	// The marker names this test's stalled session among any others on the server.
	marker := "stall_" + schema
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`
CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('application_name', '%s', true);
	PERFORM pg_sleep(60);
	RETURN NEW;
END $$;
CREATE TRIGGER stall BEFORE UPDATE ON payment_card FOR EACH ROW EXECUTE FUNCTION stall();`, marker)); err != nil {
		t.Fatalf("create trigger: %v", err)
	}
	before := takeSnapshot(t, db)
	if diff := cmp.Diff(before, wantAfter); diff == "" {
		t.Fatal("the uninterrupted run changed nothing: the test would prove nothing")
	}

	eraseCtx, crash := context.WithCancel(ctx)
	defer crash()
	done := make(chan error, 1)
	go func() {
		_, err := Erase(eraseCtx, db, connector.Postgres, ds, seeds, opt)
		done <- err
	}()
	if err := waitStalled(ctx, db, marker, done); err != nil {
		t.Fatal(err)
	}
	// The customer UPDATE has run in the stalled transaction: it holds the row.
	if err := lockedByOther(ctx, db, `SELECT id FROM customer WHERE id = 1 FOR UPDATE NOWAIT`); err != nil {
		t.Fatal(err)
	}
	crash()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Erase succeeded although its context was cancelled mid-way")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Erase did not return after its context was cancelled")
	}
	if diff := cmp.Diff(before, takeSnapshot(t, db)); diff != "" {
		t.Errorf("interrupted erasure left changes (-before +after):\n%s", diff)
	}

	if _, err := db.ExecContext(ctx, `DROP TRIGGER stall ON payment_card`); err != nil {
		t.Fatal(err)
	}
	plan, err = Erase(ctx, db, connector.Postgres, ds, seeds, opt)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantPlan, plan); diff != "" {
		t.Errorf("rerun plan (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantAfter, takeSnapshot(t, db)); diff != "" {
		t.Errorf("after the rerun (-uninterrupted +rerun):\n%s", diff)
	}

	plan, err = Erase(ctx, db, connector.Postgres, ds, seeds, opt)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Plan{Datastore: ds.ID, Changes: []Change{}, Applied: true}, plan); diff != "" {
		t.Errorf("third run (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantAfter, takeSnapshot(t, db)); diff != "" {
		t.Errorf("third run changed the database (-want +got):\n%s", diff)
	}
}

// waitStalled waits until the session marked by marker sleeps in the
// trigger, or Erase ends first.
func waitStalled(ctx context.Context, db *sql.DB, marker string, done <-chan error) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			return fmt.Errorf("erase ended before it stalled in the trigger: %v", err)
		default:
		}
		var n int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event = 'PgSleep'`, marker).Scan(&n)
		if err != nil {
			return err
		}
		if n == 1 {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("erase never reached the payment_card UPDATE")
}

// lockedByOther reports an error unless query fails because another
// transaction holds the row it locks.
func lockedByOther(ctx context.Context, db *sql.DB, query string) error {
	rows, err := db.QueryContext(ctx, query)
	if err == nil {
		rows.Close()
		return errors.New("customer 1 is not locked: the first UPDATE did not run before the stall")
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "55P03" { // lock_not_available
		return nil
	}
	return err
}
