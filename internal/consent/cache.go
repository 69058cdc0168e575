package consent

import (
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/custos-privacy/custos/internal/check"
)

// cache keeps decision snapshots of recently checked subjects, at most
// its bound of them whatever the population. A write invalidates the
// subject; a generation counter stops a slow load that began before the
// write from putting stale state back. A full shard evicts by recency
// (see ring), so the subjects checked all the time stay while a scan of
// subjects checked once passes through.
type cache struct {
	seed   maphash.Seed
	shards []shard
	gen    atomic.Uint64
}

type shard struct {
	mu sync.RWMutex
	r  ring[*check.Subject]
	// hits and misses sit beside the lock every lookup takes anyway: one
	// counter for all shards would be a cache line every core fights for.
	hits, misses atomic.Uint64
}

func newCache(size int) *cache {
	c := &cache{seed: maphash.MakeSeed()}
	c.shards = make([]shard, shardCount(size))
	for i := range c.shards {
		c.shards[i].r.init(shardLimit(size, len(c.shards), i))
	}
	return c
}

// shardCount spreads the bound over up to 64 shards (for lock
// contention), keeping at least 16 entries a shard so that recency means
// something within each.
func shardCount(size int) int {
	n := 64
	for n > 1 && size/n < 16 {
		n /= 2
	}
	return n
}

// shardLimit is shard i's share of size: the shares add up to size
// exactly, so the cache never holds more than it is given.
func shardLimit(size, n, i int) int {
	size = max(size, 1)
	l := size / n
	if i < size%n {
		l++
	}
	return l
}

func (c *cache) shard(id string) *shard {
	return &c.shards[maphash.String(c.seed, id)%uint64(len(c.shards))]
}

// get returns the subject's snapshot and counts a hit or a miss.
func (c *cache) get(id string) (*check.Subject, bool) {
	sh := c.shard(id)
	sh.mu.RLock()
	s, ok := sh.r.get(id)
	sh.mu.RUnlock()
	if ok {
		sh.hits.Add(1)
	} else {
		sh.misses.Add(1)
	}
	return s, ok
}

// peek is get without counting or marking the entry used.
func (c *cache) peek(id string) (*check.Subject, bool) {
	sh := c.shard(id)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if i, ok := sh.r.index[id]; ok {
		return sh.r.slots[i].val, true
	}
	return nil, false
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
	sh.r.set(id, s)
}

// apply folds a committed ledger event into a cached snapshot, so that a
// write does not cost the next decision a database read. Snapshots are
// replaced, never changed, since readers hold them without a lock.
func (c *cache) apply(id, purpose string, cons check.Consent) {
	sh := c.shard(id)
	sh.mu.Lock()
	c.gen.Add(1)
	if i, ok := sh.r.index[id]; ok && sh.r.slots[i].val.Known {
		cur := sh.r.slots[i].val
		next := *cur
		next.Consents = make(map[string]check.Consent, len(cur.Consents)+1)
		for k, v := range cur.Consents {
			next.Consents[k] = v
		}
		next.Consents[purpose] = cons
		sh.r.slots[i].val = &next
	}
	sh.mu.Unlock()
}

func (c *cache) invalidate(id string) {
	sh := c.shard(id)
	sh.mu.Lock()
	c.gen.Add(1)
	sh.r.remove(id)
	sh.mu.Unlock()
}

func (c *cache) clear() {
	c.gen.Add(1)
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		sh.r.reset()
		sh.mu.Unlock()
	}
}

// stats adds up the shards' counters and sizes.
func (c *cache) stats() (hits, misses uint64, size int) {
	for i := range c.shards {
		sh := &c.shards[i]
		hits += sh.hits.Load()
		misses += sh.misses.Load()
		sh.mu.RLock()
		size += len(sh.r.slots)
		sh.mu.RUnlock()
	}
	return hits, misses, size
}

func (c *cache) size() int { _, _, n := c.stats(); return n }

// idCache maps identity hashes to subject ids. Identities never move to
// another subject, so entries need no invalidation, only a size bound,
// kept by recency as the subject cache's is; but a corrected identity
// stops naming its subject (ReplaceIdentity), and forget drops it.
type idCache struct {
	seed   maphash.Seed
	shards []idShard
}

type idShard struct {
	mu sync.RWMutex
	r  ring[string]
}

func newIDCache(size int) *idCache {
	c := &idCache{seed: maphash.MakeSeed()}
	c.shards = make([]idShard, shardCount(size))
	for i := range c.shards {
		c.shards[i].r.init(shardLimit(size, len(c.shards), i))
	}
	return c
}

func (c *idCache) shard(hash []byte) *idShard {
	return &c.shards[maphash.Bytes(c.seed, hash)%uint64(len(c.shards))]
}

func (c *idCache) get(hash []byte) (string, bool) {
	sh := c.shard(hash)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	i, ok := sh.r.index[string(hash)] // no copy of hash: the compiler sees the lookup
	if !ok {
		return "", false
	}
	sh.r.touch(i)
	return sh.r.slots[i].val, true
}

func (c *idCache) put(hash []byte, id string) {
	sh := c.shard(hash)
	sh.mu.Lock()
	sh.r.set(string(hash), id)
	sh.mu.Unlock()
}

// forget drops every hash naming subject id. It sweeps every shard: an
// identity is replaced rarely, and its old hash may be unknown here (the
// change was made by another instance).
func (c *idCache) forget(id string) {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		for j := len(sh.r.slots) - 1; j >= 0; j-- {
			if j < len(sh.r.slots) && sh.r.slots[j].val == id {
				sh.r.remove(sh.r.slots[j].key)
			}
		}
		sh.mu.Unlock()
	}
}

func (c *idCache) size() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.RLock()
		n += len(sh.r.slots)
		sh.mu.RUnlock()
	}
	return n
}
