package consent

import "sync/atomic"

// ring is one shard's entries under CLOCK (second chance) eviction: a
// lookup marks its entry used; when the shard is full a hand sweeps the
// entries, clearing marks, and evicts the first one it finds unmarked, so
// an entry used since the hand last passed survives. That approximates
// least-recently-used at the cost of one flag a lookup, which readers
// can set under the shared lock. The caller holds the shard's lock:
// shared for get and touch, exclusive for the rest.
type ring[V any] struct {
	index map[string]int32
	slots []slot[V]
	hand  int
	limit int
}

type slot[V any] struct {
	key string
	val V
	// used is set by readers holding only the shared lock, so it is
	// accessed atomically; moves happen under the exclusive lock.
	used uint32
}

func (r *ring[V]) init(limit int) {
	r.limit = max(limit, 1)
	r.index = map[string]int32{}
}

func (r *ring[V]) get(key string) (V, bool) {
	i, ok := r.index[key]
	if !ok {
		var zero V
		return zero, false
	}
	r.touch(i)
	return r.slots[i].val, true
}

// touch marks slot i used; a slot already marked is left alone, so a hot
// entry's cache line is only read.
func (r *ring[V]) touch(i int32) {
	if u := &r.slots[i].used; atomic.LoadUint32(u) == 0 {
		atomic.StoreUint32(u, 1)
	}
}

// set stores val under key. A new entry starts unmarked: a subject
// looked up once is the first to go.
func (r *ring[V]) set(key string, val V) {
	if i, ok := r.index[key]; ok {
		r.slots[i].val = val
		return
	}
	if len(r.slots) < r.limit {
		r.index[key] = int32(len(r.slots))
		r.slots = append(r.slots, slot[V]{key: key, val: val})
		return
	}
	for {
		s := &r.slots[r.hand]
		if atomic.LoadUint32(&s.used) == 0 {
			break
		}
		atomic.StoreUint32(&s.used, 0)
		r.advance()
	}
	delete(r.index, r.slots[r.hand].key)
	r.slots[r.hand] = slot[V]{key: key, val: val}
	r.index[key] = int32(r.hand)
	r.advance()
}

func (r *ring[V]) advance() {
	if r.hand++; r.hand >= len(r.slots) {
		r.hand = 0
	}
}

// remove drops key; the last slot moves into its place.
func (r *ring[V]) remove(key string) {
	i, ok := r.index[key]
	if !ok {
		return
	}
	delete(r.index, key)
	last := int32(len(r.slots) - 1)
	if i != last {
		r.slots[i] = r.slots[last]
		r.index[r.slots[i].key] = i
	}
	r.slots[last] = slot[V]{} // let the value go
	r.slots = r.slots[:last]
	if r.hand >= len(r.slots) {
		r.hand = 0
	}
}

func (r *ring[V]) reset() {
	clear(r.index)
	clear(r.slots)
	r.slots = r.slots[:0]
	r.hand = 0
}
