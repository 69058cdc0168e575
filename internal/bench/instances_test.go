package bench

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/testdb"
)

// TestInstanceLag serves two instances of one PostgreSQL database and
// times writes through one reaching the other's decisions. The reader
// polls once an hour: a lag in seconds is the notification's doing, and
// without it the measurement gives up.
func TestInstanceLag(t *testing.T) {
	testdb.Postgres(t) // skips, or fails where services are required
	base := os.Getenv("CUSTOS_TEST_POSTGRES")
	if base == "" {
		base = testdb.DefaultPostgres
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		notify bool
		ok     bool
	}{
		{"notify", true, true},
		{"poll only", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := NewEnv(ctx, base, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			subjects, err := e.Subjects(ctx, "lag", 3)
			if err != nil {
				t.Fatal(err)
			}
			r, err := e.Instance(ctx, time.Hour, tc.notify)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			wBase, wKey, stopW, err := Serve(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			defer stopW()
			rBase, rKey, stopR, err := Serve(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			defer stopR()
			lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			p50, p99, err := InstanceLag(lctx, wBase, wKey, rBase, rKey, subjects, 5)
			if (err == nil) != tc.ok {
				t.Fatalf("InstanceLag = %v, %v, %v; want it to succeed: %v", p50, p99, err, tc.ok)
			}
			if tc.ok && (p50 <= 0 || p99 < p50 || p99 > 5*time.Second) {
				t.Errorf("InstanceLag = p50 %v, p99 %v", p50, p99)
			}
		})
	}
}
