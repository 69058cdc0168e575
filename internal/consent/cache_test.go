package consent

import (
	mathrand "math/rand"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/custos-privacy/custos/internal/check"
)

// TestCacheKeepsHotSubjects scans many subjects checked once while a small
// set is checked all the time: the hot set must stay cached. With an
// arbitrary victim each cold load evicts a hot subject now and then.
func TestCacheKeepsHotSubjects(t *testing.T) {
	for _, tc := range []struct {
		name       string
		size, hot  int
		cold       int
		hotPerCold int
	}{
		{"small", 1024, 64, 50_000, 1},
		{"large", 16_384, 512, 200_000, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCache(tc.size)
			snap := &check.Subject{Known: true}
			lookup := func(id string) bool {
				if _, ok := c.get(id); ok {
					return true
				}
				c.put(id, snap, c.generation())
				return false
			}
			for i := range tc.hot {
				lookup("hot-" + strconv.Itoa(i))
			}
			misses := 0
			for i := range tc.cold {
				lookup("cold-" + strconv.Itoa(i))
				for j := range tc.hotPerCold {
					if !lookup("hot-" + strconv.Itoa((i*tc.hotPerCold+j)%tc.hot)) {
						misses++
					}
				}
			}
			if misses != 0 {
				t.Errorf("hot subjects missed %d times during a scan of %d cold ones, want 0", misses, tc.cold)
			}
		})
	}
}

// TestCacheBound fills the cache far past its bound: it never holds more
// subjects or identities than it is given.
func TestCacheBound(t *testing.T) {
	for _, size := range []int{1, 10, 100, 1000, 5000} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			c, ids := newCache(size), newIDCache(size)
			snap := &check.Subject{Known: true}
			for i := range 20 * size {
				id := "s-" + strconv.Itoa(i)
				c.put(id, snap, c.generation())
				ids.put([]byte(id), id)
				if i%7 == 0 {
					c.get("s-" + strconv.Itoa(i/2))
				}
				if i%13 == 0 {
					c.invalidate("s-" + strconv.Itoa(i-1))
				}
			}
			if n := c.size(); n > size {
				t.Errorf("subjects cached: %d, bound %d", n, size)
			}
			if n := c.size(); n < size*9/10 {
				t.Errorf("subjects cached: %d, want the bound %d nearly used", n, size)
			}
			if n := ids.size(); n > size {
				t.Errorf("identities cached: %d, bound %d", n, size)
			}
		})
	}
}

// TestCacheConcurrent runs lookups, loads, folds and invalidations at once
// (for -race) and then checks that a write still invalidates: a load begun
// before it cannot put stale state back.
func TestCacheConcurrent(t *testing.T) {
	c, ids := newCache(256), newIDCache(256)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 20_000 {
				id := "s-" + strconv.Itoa(r.IntN(1000))
				switch r.IntN(10) {
				case 0:
					c.invalidate(id)
				case 1:
					c.apply(id, "analytics", check.Consent{Action: check.ActionGrant})
				case 2:
					ids.put([]byte(id), id)
				case 3:
					ids.get([]byte(id))
				default:
					if _, ok := c.get(id); !ok {
						c.put(id, &check.Subject{Known: true, Consents: map[string]check.Consent{}}, c.generation())
					}
				}
			}
		}()
	}
	wg.Wait()
	if n := c.size(); n > 256 {
		t.Errorf("subjects cached: %d, bound 256", n)
	}
	gen := c.generation()
	c.invalidate("late")
	c.put("late", &check.Subject{Known: true}, gen)
	if _, ok := c.get("late"); ok {
		t.Error("a load begun before an invalidation was cached")
	}
}

// BenchmarkCacheZipf looks subjects up as decisions do (a miss loads and
// caches), for Zipf(1.1) traffic over 10M subjects and the default bound;
// it reports the hit ratio.
func BenchmarkCacheZipf(b *testing.B) {
	const population, size = 10_000_000, 200_000
	c := newCache(size)
	snap := &check.Subject{Known: true}
	// Warm up: the ratio is the steady state's, not a cold start's.
	z := mathrand.NewZipf(mathrand.New(mathrand.NewSource(1)), 1.1, 1, population-1)
	for range 4 * size {
		id := "s" + strconv.FormatUint(z.Uint64(), 10)
		if _, ok := c.get(id); !ok {
			c.put(id, snap, c.generation())
		}
	}
	var hits, total atomic.Uint64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
		z := mathrand.NewZipf(mathrand.New(mathrand.NewSource(r.Int64())), 1.1, 1, population-1)
		var h, n uint64
		buf := make([]byte, 0, 16)
		for pb.Next() {
			buf = strconv.AppendUint(append(buf[:0], 's'), z.Uint64(), 10)
			n++
			if _, ok := c.get(string(buf)); ok {
				h++
				continue
			}
			c.put(string(buf), snap, c.generation())
		}
		hits.Add(h)
		total.Add(n)
	})
	b.ReportMetric(float64(hits.Load())/float64(max(total.Load(), 1)), "hit-ratio")
}
