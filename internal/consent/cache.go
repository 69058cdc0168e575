package consent

import (
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/custos-privacy/custos/internal/check"
)

// cache keeps decision snapshots of recently checked subjects. A write
// invalidates the subject; a generation counter stops a slow load that
// began before the write from putting stale state back.
type cache struct {
	seed   maphash.Seed
	shards [64]shard
	limit  int
	gen    atomic.Uint64
}

type shard struct {
	mu sync.RWMutex
	m  map[string]*check.Subject
}

func newCache(size int) *cache {
	c := &cache{seed: maphash.MakeSeed(), limit: max(size/64, 16)}
	for i := range c.shards {
		c.shards[i].m = map[string]*check.Subject{}
	}
	return c
}

func (c *cache) shard(id string) *shard {
	return &c.shards[maphash.String(c.seed, id)%uint64(len(c.shards))]
}

func (c *cache) get(id string) (*check.Subject, bool) {
	sh := c.shard(id)
	sh.mu.RLock()
	s, ok := sh.m[id]
	sh.mu.RUnlock()
	return s, ok
}

// generation is read before loading from the database.
func (c *cache) generation() uint64 { return c.gen.Load() }

// put stores a snapshot loaded at generation gen, unless an invalidation
// happened since.
func (c *cache) put(id string, s *check.Subject, gen uint64) {
	sh := c.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if len(sh.m) >= c.limit {
		for k := range sh.m { // evict an arbitrary entry: map order is random
			delete(sh.m, k)
			break
		}
	}
	sh.m[id] = s
}

// apply folds a committed ledger event into a cached snapshot, so that a
// write does not cost the next decision a database read. Snapshots are
// replaced, never changed, since readers hold them without a lock.
func (c *cache) apply(id, purpose string, cons check.Consent) {
	sh := c.shard(id)
	sh.mu.Lock()
	c.gen.Add(1)
	if cur, ok := sh.m[id]; ok && cur.Known {
		next := *cur
		next.Consents = make(map[string]check.Consent, len(cur.Consents)+1)
		for k, v := range cur.Consents {
			next.Consents[k] = v
		}
		next.Consents[purpose] = cons
		sh.m[id] = &next
	}
	sh.mu.Unlock()
}

func (c *cache) invalidate(id string) {
	sh := c.shard(id)
	sh.mu.Lock()
	c.gen.Add(1)
	delete(sh.m, id)
	sh.mu.Unlock()
}

func (c *cache) clear() {
	c.gen.Add(1)
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		clear(sh.m)
		sh.mu.Unlock()
	}
}

// idCache maps identity hashes to subject ids. Identities never move to
// another subject, so entries need no invalidation, only a size bound.
type idCache struct {
	mu    sync.RWMutex
	m     map[string]string
	limit int
}

func newIDCache(size int) *idCache { return &idCache{m: map[string]string{}, limit: size} }

func (c *idCache) get(hash []byte) (string, bool) {
	c.mu.RLock()
	id, ok := c.m[string(hash)]
	c.mu.RUnlock()
	return id, ok
}

func (c *idCache) put(hash []byte, id string) {
	c.mu.Lock()
	if len(c.m) >= c.limit {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[string(hash)] = id
	c.mu.Unlock()
}
