package ratelimit

import "time"

// MaxKeys bounds the keys a limiter remembers. Past it, each new key
// makes room by forgetting one, in this order: a key idle long enough to
// be as good as new; else the least recently used key still under its
// limit; else, only when every key is at its limit, the least recently
// used of those. A flood of fresh keys from many addresses thus forgives
// only other keys that were free to go on anyway, never a key that is
// being held back.
const MaxKeys = 100_000

// keys is the bounded table behind every limiter: a map for lookup and
// two queues, each least recently used first, one of keys under their
// limit and one of keys at it. Every operation is O(1).
type keys[V any] struct {
	max  int
	idle time.Duration // a key unused this long is as good as new
	m    map[string]*node[V]
	open queue[V]
	full queue[V]
}

type node[V any] struct {
	key        string
	v          V
	last       time.Time // the last event recorded
	full       bool      // held at its limit by the last call
	prev, next *node[V]
}

func newKeys[V any](max int, idle time.Duration) *keys[V] {
	return &keys[V]{max: max, idle: idle, m: map[string]*node[V]{}}
}

// get returns key's node, making a new one (and room for it) if there is
// none; fresh reports which.
func (k *keys[V]) get(key string, now time.Time) (n *node[V], fresh bool) {
	if n := k.m[key]; n != nil {
		return n, false
	}
	if len(k.m) >= k.max {
		k.evict(now)
	}
	n = &node[V]{key: key, last: now}
	k.m[key] = n
	k.open.pushBack(n)
	return n, true
}

// used records that n was called at now and whether it is now held at
// its limit; recorded tells whether an event was counted (a refused call
// counts none, so it does not make the key look recent).
func (k *keys[V]) used(n *node[V], now time.Time, recorded, full bool) {
	if !recorded && full == n.full {
		return
	}
	if recorded {
		n.last = now
	}
	k.queue(n.full).remove(n)
	n.full = full
	k.queue(full).pushBack(n)
}

func (k *keys[V]) queue(full bool) *queue[V] {
	if full {
		return &k.full
	}
	return &k.open
}

func (k *keys[V]) evict(now time.Time) {
	victim := k.open.head
	switch {
	case k.idleAt(k.open.head, now):
	case k.idleAt(k.full.head, now):
		victim = k.full.head
	case victim == nil:
		victim = k.full.head
	}
	if victim == nil {
		return
	}
	k.queue(victim.full).remove(victim)
	delete(k.m, victim.key)
}

func (k *keys[V]) idleAt(n *node[V], now time.Time) bool {
	return n != nil && now.Sub(n.last) > k.idle
}

// queue is an intrusive doubly linked list of nodes.
type queue[V any] struct {
	head, tail *node[V]
}

func (q *queue[V]) pushBack(n *node[V]) {
	n.prev, n.next = q.tail, nil
	if q.tail != nil {
		q.tail.next = n
	} else {
		q.head = n
	}
	q.tail = n
}

func (q *queue[V]) remove(n *node[V]) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		q.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		q.tail = n.prev
	}
	n.prev, n.next = nil, nil
}
