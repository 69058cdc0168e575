package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/store"
)

// KeyPrefix starts every API key, so leaked keys are easy to spot and scan for.
const KeyPrefix = "cus_"

// NewKey returns a new API key: its id, the secret shown once, and the
// hash that is stored. Keys carry 256 random bits, so a fast hash is as
// safe as a slow one and keeps authentication off the hot path's budget.
func NewKey() (id, secret string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	secret = KeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	idb := make([]byte, 6)
	rand.Read(idb)
	return "k_" + hex.EncodeToString(idb), secret, HashKey(secret)
}

// HashKey is the stored form of a key.
func HashKey(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

func hashKeyArray(secret string) [sha256.Size]byte { return sha256.Sum256([]byte(secret)) }

// keyCache remembers recent lookups briefly; a revocation anywhere clears
// it (through the change feed), and entries expire after keyTTL anyway.
type keyCache struct {
	st *store.Store
	mu sync.RWMutex
	m  map[[sha256.Size]byte]cachedKey
}

type cachedKey struct {
	key store.APIKey
	at  time.Time
}

const keyTTL = 5 * time.Second

func newKeyCache(st *store.Store) *keyCache {
	return &keyCache{st: st, m: map[[sha256.Size]byte]cachedKey{}}
}

func (c *keyCache) lookup(ctx context.Context, hash [sha256.Size]byte) (store.APIKey, error) {
	c.mu.RLock()
	ck, ok := c.m[hash]
	c.mu.RUnlock()
	if ok && time.Since(ck.at) < keyTTL {
		return ck.key, nil
	}
	k, err := c.st.KeyByHash(ctx, hash[:])
	if err != nil {
		return store.APIKey{}, err
	}
	c.mu.Lock()
	if len(c.m) > 10000 {
		clear(c.m)
	}
	c.m[hash] = cachedKey{k, time.Now()}
	c.mu.Unlock()
	return k, nil
}

func (c *keyCache) clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

var (
	errNoKey     = fault.New(fault.Unauthorized, "unauthenticated", "an API key is required: Authorization: Bearer cus_…")
	errBadKey    = fault.New(fault.Unauthorized, "unauthenticated", "the API key is unknown or revoked")
	errForbidden = fault.New(fault.Forbidden, "forbidden", "this key's role may not call this route")
	errNoRoute   = fault.New(fault.NotFound, "not_found", "no such route")
)

// authenticate finds the caller's key and checks the route allows its role.
func (a *API) authenticate(r *http.Request, rt route) (consent.Actor, error) {
	actor := consent.Actor{ID: "anonymous", Role: "public", Place: a.place(r)}
	if rt.Roles == nil {
		return actor, nil // public route: credentials, if any, are not ours to judge
	}
	secret := ""
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return actor, errNoKey
		}
		secret = strings.TrimSpace(tok)
	} else {
		secret = r.Header.Get("X-API-Key")
	}
	if secret == "" {
		return actor, errNoKey
	}
	if !strings.HasPrefix(secret, KeyPrefix) || len(secret) > 128 {
		return actor, errBadKey
	}
	k, err := a.keys.lookup(r.Context(), hashKeyArray(secret))
	if errors.Is(err, store.ErrNotFound) || err == nil && k.Revoked() {
		return actor, errBadKey
	}
	if err != nil {
		return actor, err
	}
	actor.ID, actor.Role = k.ID, k.Role
	if !slices.Contains(rt.Roles, k.Role) {
		return actor, errForbidden
	}
	return actor, nil
}

// place is where a request came from: the peer address (or, behind a
// trusted proxy, the last X-Forwarded-For hop: the one the proxy added,
// where earlier hops are the client's own claim) and the Host asked for.
func (a *API) place(r *http.Request) string {
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	if a.opt.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			hops := strings.Split(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(hops[len(hops)-1])); ip != nil {
				addr = ip.String()
			}
		}
	}
	host := r.Host
	if len(host) > 100 {
		host = host[:100]
	}
	return addr + " " + host
}
