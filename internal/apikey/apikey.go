// Package apikey holds the keys that callers of the API present: each has
// one role, its secret is shown once when it is made and only a hash of it
// is kept, and a caller is found by that hash through a short-lived cache.
package apikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/store"
)

// Roles a key may have.
const (
	RoleAdmin    = "admin"
	RoleOperator = "operator"
	RoleAuditor  = "auditor"
	RoleService  = "service"
)

// Roles lists every role a key may have.
var Roles = []string{RoleAdmin, RoleOperator, RoleAuditor, RoleService}

// Prefix starts every secret, so leaked keys are easy to spot and scan for.
const Prefix = "cus_"

// The audit actions of keys. Every instance's cache is cleared when it
// sees an action with the prefix "key." in the change feed.
const (
	ActionCreate = "key.create"
	ActionRevoke = "key.revoke"
)

// maxSecret bounds what is hashed and looked up: a real secret is 47 bytes.
const maxSecret = 128

// ErrUnknown is the answer for a secret that is malformed, unknown or
// revoked: the caller is not told which.
var ErrUnknown = fault.New(fault.Unauthorized, "unauthenticated", "the API key is unknown or revoked")

// Store is the persistence keys need.
type Store interface {
	CreateKey(ctx context.Context, k store.APIKey, entries ...audit.Entry) error
	RevokeKey(ctx context.Context, id string, entries ...audit.Entry) error
	KeyByHash(ctx context.Context, hash []byte) (store.APIKey, error)
	Keys(ctx context.Context) ([]store.APIKey, error)
}

// Changes is the feed of state changes made by any instance: a
// *consent.Service.
type Changes interface {
	OnChange(fn func(consent.Change))
}

// Key is an API key without its secret or hash.
type Key struct {
	ID        string
	Name      string
	Role      string
	CreatedAt time.Time
	RevokedAt time.Time // zero while the key is valid
}

// Revoked reports whether the key was revoked.
func (k Key) Revoked() bool { return !k.RevokedAt.IsZero() }

// Created is a new key with its secret, which is not kept and cannot be
// shown again.
type Created struct {
	Key
	Secret string
}

// Options tune the service; zero values take the defaults.
type Options struct {
	// Changes, when set, clears the cache whenever a key is created or
	// revoked on any instance, so that a revocation takes effect
	// everywhere within one poll of the feed rather than one TTL.
	Changes Changes
	// Now is the clock (time.Now).
	Now func() time.Time
}

// TTL is how long a looked-up key is trusted without asking the store
// again: the longest a revocation made elsewhere can go unseen when the
// change feed is not running.
const TTL = 5 * time.Second

// maxCached bounds the cache; a flood of distinct secrets only empties it.
const maxCached = 10000

// Service creates, lists and revokes keys, and authenticates callers.
type Service struct {
	st  Store
	now func() time.Time

	mu    sync.RWMutex
	cache map[[sha256.Size]byte]cached
}

type cached struct {
	key store.APIKey
	at  time.Time
}

// New returns the keys kept in st.
func New(st Store, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Service{st: st, now: opt.Now, cache: map[[sha256.Size]byte]cached{}}
	if opt.Changes != nil {
		opt.Changes.OnChange(func(c consent.Change) {
			if strings.HasPrefix(c.Action, "key.") {
				s.Forget()
			}
		})
	}
	return s
}

// newSecret returns a new key's id, its secret and the hash that is
// stored. Secrets carry 256 random bits, so a fast hash is as safe as a
// slow one and keeps authentication off the hot path's budget.
func newSecret() (id, secret string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	secret = Prefix + base64.RawURLEncoding.EncodeToString(b)
	idb := make([]byte, 6)
	rand.Read(idb)
	return "k_" + hex.EncodeToString(idb), secret, Hash(secret)
}

// Hash is the stored form of a secret.
func Hash(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

func view(k store.APIKey) Key {
	return Key{ID: k.ID, Name: k.Name, Role: k.Role, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt}
}

func entry(a consent.Actor, at time.Time, action, id, detail string) audit.Entry {
	return audit.NewEntry(at, a, action, "key:"+id, "", audit.OutcomeOK, detail)
}

// Create makes and stores a key with its audit entry, and returns it with
// its secret.
func (s *Service) Create(ctx context.Context, a consent.Actor, name, role string) (Created, error) {
	if !slices.Contains(Roles, role) {
		return Created{}, fault.New(fault.Invalid, "invalid_role", "role is missing or unknown").At("role").Allowing(Roles)
	}
	if len(name) > 100 {
		return Created{}, fault.New(fault.Invalid, "invalid_name", "name is at most 100 bytes").At("name")
	}
	id, secret, hash := newSecret()
	now := s.now()
	k := store.APIKey{ID: id, Name: name, Role: role, Hash: hash, CreatedAt: now.UTC().Truncate(time.Microsecond)}
	detail, _ := json.Marshal(map[string]string{"role": role})
	if err := s.st.CreateKey(ctx, k, entry(a, now, ActionCreate, id, string(detail))); err != nil {
		return Created{}, err
	}
	return Created{Key: view(k), Secret: secret}, nil
}

// List returns every key, oldest first.
func (s *Service) List(ctx context.Context) ([]Key, error) {
	ks, err := s.st.Keys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Key, len(ks))
	for i, k := range ks {
		out[i] = view(k)
	}
	return out, nil
}

// Revoke revokes a key with its audit entry and returns it as it now is.
// Revoking a revoked key changes nothing but is recorded again. This
// instance stops accepting the key at once; the others when they see the
// change.
func (s *Service) Revoke(ctx context.Context, a consent.Actor, id string) (Key, error) {
	if err := s.st.RevokeKey(ctx, id, entry(a, s.now(), ActionRevoke, id, "{}")); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Key{}, fault.New(fault.NotFound, "key_not_found", "no such key")
		}
		return Key{}, err
	}
	s.Forget()
	ks, err := s.List(ctx)
	if err != nil {
		return Key{}, err
	}
	for _, k := range ks {
		if k.ID == id {
			return k, nil
		}
	}
	return Key{}, fault.New(fault.NotFound, "key_not_found", "no such key")
}

// Authenticate finds the valid key whose secret this is; a malformed,
// unknown or revoked secret is ErrUnknown.
func (s *Service) Authenticate(ctx context.Context, secret string) (Key, error) {
	if !strings.HasPrefix(secret, Prefix) || len(secret) > maxSecret {
		return Key{}, ErrUnknown
	}
	k, err := s.lookup(ctx, sha256.Sum256([]byte(secret)))
	if errors.Is(err, store.ErrNotFound) || err == nil && k.Revoked() {
		return Key{}, ErrUnknown
	}
	if err != nil {
		return Key{}, err
	}
	return view(k), nil
}

// lookup answers from the cache while the entry is younger than TTL.
// Unknown secrets are not cached, so that a key works on every instance
// as soon as it is created.
func (s *Service) lookup(ctx context.Context, hash [sha256.Size]byte) (store.APIKey, error) {
	s.mu.RLock()
	c, ok := s.cache[hash]
	s.mu.RUnlock()
	if ok && s.now().Sub(c.at) < TTL {
		return c.key, nil
	}
	k, err := s.st.KeyByHash(ctx, hash[:])
	if err != nil {
		return store.APIKey{}, err
	}
	s.mu.Lock()
	if len(s.cache) > maxCached {
		clear(s.cache)
	}
	s.cache[hash] = cached{k, s.now()}
	s.mu.Unlock()
	return k, nil
}

// Forget empties the cache, so the next lookups ask the store.
func (s *Service) Forget() {
	s.mu.Lock()
	clear(s.cache)
	s.mu.Unlock()
}
