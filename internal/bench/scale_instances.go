package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custos-privacy/custos/internal/api"
	"github.com/custos-privacy/custos/internal/consent"
)

// instance is one custos serve process on the population's database.
type instance struct {
	base, key string
	pid       int
	stop      func()
}

func startInstances(ctx context.Context, e *Env, o ScaleOptions, n int) ([]instance, func(), error) {
	var out []instance
	stopAll := func() {
		for _, in := range out {
			in.stop()
		}
	}
	for range n {
		base, key, proc, stop, err := ServeProcess(ctx, e, o.Exe, o.Log)
		if err != nil {
			stopAll()
			return nil, nil, err
		}
		out = append(out, instance{base: base, key: key, pid: proc.Pid, stop: stop})
	}
	return out, stopAll, nil
}

// writable reports whether population subject i may record its own
// consents: not the children in a guardian's care.
func writable(i int) bool { return i%20 != 7 }

// httpClient is shared by the write and request loads.
var httpClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128}}

// consentWrite records a grant or a withdrawal of analytics for
// population subject i through inst.
func consentWrite(ctx context.Context, inst instance, i int, grant bool) error {
	in := consent.ConsentInput{Method: "api", Language: "en", NoticeHash: NoticeHash}
	if grant {
		in.Grant = []string{"analytics"}
	} else {
		in.Withdraw = []string{"analytics"}
	}
	return post(ctx, httpClient, inst.base+"/v1/subjects/"+SubjectName(i)+"/consents", inst.key, in, http.StatusCreated, nil)
}

// closedWrites runs clients writers back to back against the instances
// (client c on instance c mod n) for d and returns writes per second.
func closedWrites(ctx context.Context, insts []instance, subjects, clients int, d time.Duration) (float64, int64) {
	var ok, errs atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(c), 3))
			for k := 0; time.Now().Before(deadline); k++ {
				i := r.IntN(subjects)
				if !writable(i) {
					continue
				}
				if err := consentWrite(ctx, insts[c%len(insts)], i, k%2 == 0); err != nil {
					errs.Add(1)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(ok.Load()) / d.Seconds(), errs.Load()
}

// closedDecisions runs conns clients back to back against the instances
// for d and returns decisions per second.
func closedDecisions(insts []instance, d CheckData, conns int, dur time.Duration) (float64, int64) {
	var wg sync.WaitGroup
	res := make([]Latencies, len(insts))
	for k, in := range insts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[k] = Closed(CustosTarget(in.base, in.key), d, max(1, conns/len(insts)), dur)
		}()
	}
	wg.Wait()
	var per float64
	var errs int64
	for _, r := range res {
		per += r.PerSec
		errs += r.Errors
	}
	return per, errs
}

// scaleInstances: throughput with 1..n instances, and how long another
// instance takes to see a write.
func scaleInstances(ctx context.Context, e *Env, o ScaleOptions, rep *ScaleReport) error {
	if o.Instances < 2 {
		return nil
	}
	d := zipfQueries(o.Subjects, 200_000, false, 2)
	var one float64
	for n := 1; n <= o.Instances; n++ {
		insts, stop, err := startInstances(ctx, e, o, n)
		if err != nil {
			return err
		}
		Closed(CustosTarget(insts[0].base, insts[0].key), d, 16, o.Duration/3) // warm-up
		dec, derr := closedDecisions(insts, d, 64, o.Duration)
		wr, werr := closedWrites(ctx, insts, o.Subjects, 64, o.Duration)
		if n == 1 {
			one = dec
		}
		rep.add("instances", fmt.Sprintf("%d: decisions/s, consent writes/s (closed loop, 64 clients)", n),
			fmt.Sprintf("%.0f (%.2fx), %.0f (%d+%d errors)", dec, dec/max(one, 1e-9), wr, derr, werr), "decisions scale with instances")
		if n == 2 {
			subjects := make([]string, 0, 200)
			for i := 0; len(subjects) < cap(subjects); i += 97 {
				if writable(i % o.Subjects) {
					subjects = append(subjects, SubjectName(i%o.Subjects))
				}
			}
			p50, p99, err := InstanceLag(ctx, insts[0].base, insts[0].key, insts[1].base, insts[1].key, subjects, 200)
			if err != nil {
				stop()
				return err
			}
			rep.add("instances", "a write seen by another instance p50/p99", ms(p50)+" / "+ms(p99), "p99 < 1 s", p99 < time.Second)
		}
		stop()
	}
	return nil
}

// scaleSoak runs the target mix against two instances for o.Soak: the
// decisions at o.Rate, 500 consent writes/s, a rights request a second.
func scaleSoak(ctx context.Context, e *Env, o ScaleOptions, rep *ScaleReport) error {
	if o.Soak <= 0 {
		return nil
	}
	insts, stop, err := startInstances(ctx, e, o, 2)
	if err != nil {
		return err
	}
	defer stop()
	op, err := api.CreateKey(ctx, e.Store, benchActor, "bench operator", api.RoleOperator)
	if err != nil {
		return err
	}
	_, before, err := e.Store.Heads(ctx)
	if err != nil {
		return err
	}
	rss0 := []uint64{processRSS(insts[0].pid), processRSS(insts[1].pid)}
	d := zipfQueries(o.Subjects, min(o.Rate*60, 2_000_000), false, 3)
	var acked, writeErrs, requests, requestErrs atomic.Int64
	var p99s []time.Duration
	var rss []string // both instances' RSS at the end of each minute
	var decErrs int64
	minutes := int((o.Soak + time.Minute - 1) / time.Minute)
	for m := range minutes {
		span := min(time.Minute, o.Soak-time.Duration(m)*time.Minute)
		var wg sync.WaitGroup
		res := make([]OpenResult, 2)
		for k := range insts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res[k] = Open(CustosTarget(insts[k].base, insts[k].key), d, o.Rate/2, 64, span)
			}()
		}
		wg.Add(2)
		go func() { // consent writes at 500/s, open loop
			defer wg.Done()
			openLoop(ctx, 500, span, 32, func(k int) {
				i := (k*7919 + m*104729) % o.Subjects
				if !writable(i) {
					i = (i + 1) % o.Subjects
				}
				if err := consentWrite(ctx, insts[k%2], i, (k/2)%2 == 0); err != nil {
					writeErrs.Add(1)
					return
				}
				acked.Add(1)
			})
		}()
		go func() { // a rights request a second
			defer wg.Done()
			openLoop(ctx, 1, span, 1, func(k int) {
				in := map[string]any{"type": "access", "subject_id": SubjectName((k*31 + m*977) % o.Subjects), "language": "zh-CN", "verification": "operator", "evidence": "soak"}
				if err := post(ctx, httpClient, insts[k%2].base+"/v1/requests", op.Secret, in, http.StatusCreated, nil); err != nil {
					requestErrs.Add(1)
					fmt.Fprintf(o.Log, "soak: rights request: %v\n", err)
					return
				}
				requests.Add(1)
			})
		}()
		wg.Wait()
		p99s = append(p99s, max(res[0].FromDue.P99, res[1].FromDue.P99))
		rss = append(rss, bytesText(float64(processRSS(insts[0].pid)+processRSS(insts[1].pid))))
		decErrs += res[0].FromDue.Errors + res[1].FromDue.Errors
		fmt.Fprintf(o.Log, "soak minute %d: decisions p99 %s, %d writes acknowledged, %d requests\n", m+1, ms(p99s[m]), acked.Load(), requests.Load())
	}
	rss1 := []uint64{processRSS(insts[0].pid), processRSS(insts[1].pid)}
	errs := decErrs + writeErrs.Load() + requestErrs.Load()
	rep.add("soak", fmt.Sprintf("%s at the target mix, 2 instances: errors", o.Soak), fmt.Sprintf("%d (decisions %d, writes %d, requests %d)", errs, decErrs, writeErrs.Load(), requestErrs.Load()), "0", errs == 0)
	rep.add("soak", "RSS per instance, start → end", fmt.Sprintf("%s → %s, %s → %s", bytesText(float64(rss0[0])), bytesText(float64(rss1[0])), bytesText(float64(rss0[1])), bytesText(float64(rss1[1]))), "flat")
	var ps []string
	for _, p := range p99s {
		ps = append(ps, ms(p))
	}
	rep.add("soak", "decisions p99 per minute (the worse instance)", fmt.Sprint(ps), "stable")
	rep.add("soak", "RSS of both instances at the end of each minute", fmt.Sprint(rss), "flat once the caches are full")
	// Every acknowledged write is in the ledger, and both chains verify.
	if err := e.Store.Flush(ctx); err != nil {
		return err
	}
	_, after, err := e.Store.Heads(ctx)
	if err != nil {
		return err
	}
	r, err := e.Store.VerifyAudit(ctx, nil, nil)
	if err != nil {
		return err
	}
	got := after.Seq - before.Seq
	rep.add("soak", "ledger events added / writes acknowledged; chains", fmt.Sprintf("%d / %d; verify %v", got, acked.Load(), r.OK), "equal; verify", got == acked.Load() && r.OK)
	return nil
}

// openLoop calls fn(k) at rate per second for d from conns goroutines,
// each call when it is due.
func openLoop(ctx context.Context, rate int, d time.Duration, conns int, fn func(k int)) {
	total := int(float64(rate) * d.Seconds())
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				k := int(next.Add(1) - 1)
				if k >= total {
					return
				}
				if wait := time.Until(start.Add(time.Duration(k) * interval)); wait > 0 {
					time.Sleep(wait)
				}
				fn(k)
			}
		}()
	}
	wg.Wait()
}
