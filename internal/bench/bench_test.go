package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/consent"
)

// TestWorkloads runs every workload briefly: they must complete without
// errors and produce decisions the workload expects.
func TestWorkloads(t *testing.T) {
	ctx := context.Background()
	e, err := NewEnv(ctx, "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	w, err := ConsentWrites(ctx, e, 8, 200*time.Millisecond, nil)
	if err != nil || w.Count == 0 || w.Errors != 0 {
		t.Fatalf("ConsentWrites = %+v, %v", w, err)
	}
	d, err := e.Populate(ctx, 20, 200, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Service.Check(ctx, benchActor, consent.CheckInput{SubjectID: d.Subjects[0], Purposes: []string{"marketing", "analytics"}})
	if err != nil || res.Decisions[0].Reason != "withdrawn" || res.Decisions[1].Reason != "consent" {
		t.Fatalf("subject-0 decisions = %+v, %v; want marketing withdrawn, analytics consent", res.Decisions, err)
	}
	decide, svc, err := InProcess(ctx, e, d, 50*time.Millisecond)
	if err != nil || decide <= 0 || svc <= 0 {
		t.Fatalf("InProcess = %v, %v, %v", decide, svc, err)
	}
	base, key, stop, err := Serve(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	c := Closed(CustosTarget(base, key), d, 4, 200*time.Millisecond)
	o := Open(CustosTarget(base, key), d, 500, 4, 200*time.Millisecond)
	if c.Count == 0 || c.Errors != 0 || o.FromDue.Count != 100 || o.Service.Count != 100 || o.FromDue.Errors != 0 || o.Service.P99 > o.FromDue.Max {
		t.Fatalf("closed %+v, open %+v", c, o)
	}
}

// BenchmarkConsentWrite measures durable consent writes with 64 concurrent
// writers on SQLite (group-committed).
func BenchmarkConsentWrite(b *testing.B) {
	for _, batch := range []int{0, 1} {
		name := "group"
		if batch == 1 {
			name = "one_per_write"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			e, err := NewEnv(ctx, "", batch, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			ids, err := e.Subjects(ctx, "w", 64)
			if err != nil {
				b.Fatal(err)
			}
			var next atomic.Int64
			b.SetParallelism(32) // 32 × GOMAXPROCS writers: 64 on this 2-CPU machine
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				id := ids[int(next.Add(1))%len(ids)]
				i := 0
				for pb.Next() {
					in := consent.ConsentInput{Method: "api", Language: "en", NoticeHash: NoticeHash}
					if i%2 == 0 {
						in.Grant = []string{"analytics"}
					} else {
						in.Withdraw = []string{"analytics"}
					}
					i++
					if _, err := e.Service.Record(ctx, benchActor, id, in); err != nil {
						panic(fmt.Sprint("record: ", err))
					}
				}
			})
		})
	}
}

// BenchmarkServiceCheck measures an in-process decision through the
// service (cache hit, audit sampling off).
func BenchmarkServiceCheck(b *testing.B) {
	ctx := context.Background()
	e, err := NewEnv(ctx, "", 0, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	d, err := e.Populate(ctx, 200, 1000, nil)
	if err != nil {
		b.Fatal(err)
	}
	in := consent.CheckInput{Purposes: []string{"analytics"}}
	for _, id := range d.Subjects {
		in.SubjectID = id
		e.Service.Check(ctx, benchActor, in)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := d.Queries[i%len(d.Queries)]
		in.SubjectID, in.Purposes[0] = q.Subject, q.Purpose
		if _, err := e.Service.Check(ctx, benchActor, in); err != nil {
			b.Fatal(err)
		}
	}
}
