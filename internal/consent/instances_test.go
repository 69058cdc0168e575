package consent_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/testdb"
)

// instances are two services on two store handles on one PostgreSQL
// schema, as two servers sharing a database are.
type instances struct {
	a, b     *consent.Service
	stB      *store.Store
	subjects []string
}

func newInstances(t testing.TB, subjects int) *instances {
	t.Helper()
	e := newEnvOn(t, testdb.Postgres(t))
	e.publish(t, starterV1)
	stB, b := e.open(t)
	in := &instances{a: e.svc, b: b, stB: stB}
	for i := range subjects {
		id := fmt.Sprintf("lag-%d", i)
		e.subject(t, consent.SubjectInput{ID: id})
		in.subjects = append(in.subjects, id)
	}
	return in
}

// run starts b's poll loop: on a ticker, and woken by notifications if
// notify.
func (in *instances) run(t testing.TB, every time.Duration, notify bool) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var wake <-chan struct{}
	if notify {
		wake = in.stB.Listen(ctx)
	}
	go in.b.Run(ctx, every, wake)
}

// lag grants or withdraws analytics for a subject through a and times
// how long until b's decision says so; b holds the subject in its cache
// beforehand, so only a poll can tell it. It gives up after limit. The
// write comes up to jitter after the last one was seen: writes timed by
// the last poll would all wait nearly a whole interval for the next.
func (in *instances) lag(t testing.TB, i int, jitter, limit time.Duration) (time.Duration, bool) {
	t.Helper()
	ctx := context.Background()
	id := in.subjects[i%len(in.subjects)]
	before := reasonOn(t, in.b, id)
	if jitter > 0 {
		time.Sleep(rand.N(jitter))
	}
	input, want := grant("analytics"), "consent"
	if before == "consent" {
		input, want = withdraw("analytics"), "withdrawn"
	}
	if _, err := in.a.Record(ctx, admin, id, input); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for time.Since(start) < limit {
		if reasonOn(t, in.b, id) == want {
			return time.Since(start), true
		}
		time.Sleep(100 * time.Microsecond)
	}
	return limit, false
}

func reasonOn(t testing.TB, svc *consent.Service, id string) string {
	t.Helper()
	res, err := svc.Check(context.Background(), admin, consent.CheckInput{SubjectID: id, Purposes: []string{"analytics"}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Decisions[0].Reason
}

// TestNotifyWakesOtherInstance polls once an hour: only the notification
// of a's commit can bring its writes to b's decisions in seconds.
func TestNotifyWakesOtherInstance(t *testing.T) {
	for _, tc := range []struct {
		name   string
		notify bool
		seen   bool
	}{
		{"notify", true, true},
		{"poll only", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := newInstances(t, 3)
			in.run(t, time.Hour, tc.notify)
			for i := range 6 {
				limit := 5 * time.Second
				if !tc.seen {
					limit = 300 * time.Millisecond
				}
				d, ok := in.lag(t, i, 0, limit)
				if ok != tc.seen {
					t.Fatalf("write %d seen by the other instance: %v after %v, want %v", i, ok, d, tc.seen)
				}
				if !tc.seen {
					break // one is proof enough: nothing but a poll would tell b
				}
			}
		})
	}
}

// TestPollWithoutNotifications: with no wake-up coming (the listening
// connection lost), the ticker still brings a's writes to b.
func TestPollWithoutNotifications(t *testing.T) {
	in := newInstances(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go in.b.Run(ctx, 100*time.Millisecond, make(chan struct{})) // a wake channel that never receives
	for i := range 3 {
		if d, ok := in.lag(t, i, 0, 5*time.Second); !ok {
			t.Fatalf("write %d not seen by the other instance after %v", i, d)
		}
	}
}

// BenchmarkInstanceLag reports how long a consent written through one
// instance takes to reach another's decisions, polling every 250ms, with
// and without notifications (p50 and p99 over b.N writes; run with
// -benchtime 300x).
func BenchmarkInstanceLag(b *testing.B) {
	for _, notify := range []bool{false, true} {
		name := "poll"
		if notify {
			name = "notify"
		}
		b.Run(name, func(b *testing.B) {
			in := newInstances(b, 20)
			in.run(b, 250*time.Millisecond, notify)
			lags := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				d, ok := in.lag(b, i, 250*time.Millisecond, 10*time.Second)
				b.StartTimer()
				if !ok {
					b.Fatalf("write %d not seen in 10s", i)
				}
				lags = append(lags, d)
			}
			slices.Sort(lags)
			b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lags[(len(lags)*99)/100].Microseconds())/1000, "p99-ms")
		})
	}
}
