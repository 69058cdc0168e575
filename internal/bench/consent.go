// Package bench measures Custos against a peer in one run and reports
// ratios: durable consent writes with and without group commit, decisions
// in-process and over HTTP, and the same decisions evaluated by OPA.
package bench

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"github.com/custos-privacy/custos/internal/pgscratch"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custos-privacy/custos/examples"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/vault"
)

// Env is a throw-away database with a service on it.
type Env struct {
	Store   *store.Store
	Service *consent.Service
	// DSN and IdentityKey let another process (a real server) open the same database.
	DSN         string
	IdentityKey []byte
	Hasher      *identity.Hasher
	// Keystore, when set, is where server processes keep per-person keys
	// (CUSTOS_KEYSTORE); beside a SQLite database by default.
	Keystore string
	// DataKeyset and Vault are set by WithVault.
	DataKeyset []byte
	Vault      *vault.Service
	// Orgs, set by WithOrgs, are the organisations of the deployment, the
	// deployment's own first.
	Orgs    []*Org
	cleanup []func()
}

// Org is one organisation of a benchmark deployment, with its own identity
// key and consent service, served on its own host.
type Org struct {
	ID          string
	Host        string
	Store       *store.Store
	Service     *consent.Service
	IdentityKey []byte
}

// WithOrgs makes the deployment one of n organisations: the deployment's
// own and n-1 more, each with its own identity key and the starter policy.
func (e *Env) WithOrgs(ctx context.Context, n int) error {
	e.Orgs = []*Org{{ID: store.DefaultOrg, Host: "default.bench", Store: e.Store, Service: e.Service, IdentityKey: e.IdentityKey}}
	for i := 1; i < n; i++ {
		id := fmt.Sprintf("org-%d", i)
		o := &Org{ID: id, Host: id + ".bench", IdentityKey: make([]byte, 32)}
		rand.Read(o.IdentityKey)
		if _, err := e.Store.CreateOrganisation(ctx, store.Organisation{ID: id, Name: id, Hosts: []string{o.Host}}); err != nil {
			return err
		}
		o.Store = e.Store.ForOrg(id).WithChainKeys(server.AuditKey(o.IdentityKey), nil)
		h, _ := identity.NewHasher(o.IdentityKey)
		var err error
		if o.Service, err = consent.New(ctx, o.Store, consent.Options{Hasher: h}); err != nil {
			return err
		}
		if _, err := o.Service.Publish(ctx, benchActor, "starter", examples.Starter); err != nil {
			return err
		}
		e.Orgs = append(e.Orgs, o)
	}
	return nil
}

// secretsDir writes the organisations' identity keys where a server reads
// them: identity.key, and orgs/ID/identity.key for the others.
func (e *Env) secretsDir() (string, error) {
	dir, err := os.MkdirTemp("", "custos-bench-secrets-")
	if err != nil {
		return "", err
	}
	e.cleanup = append(e.cleanup, func() { os.RemoveAll(dir) })
	for _, o := range e.Orgs {
		d := dir
		if o.ID != store.DefaultOrg {
			d = filepath.Join(dir, "orgs", o.ID)
		}
		if err := os.MkdirAll(d, 0o700); err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(d, secrets.IdentityKeyFile), []byte(base64.StdEncoding.EncodeToString(o.IdentityKey)+"\n"), 0o600); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// Close removes the environment's database.
func (e *Env) Close() {
	for i := len(e.cleanup) - 1; i >= 0; i-- {
		e.cleanup[i]()
	}
}

var benchActor = consent.Actor{ID: "bench", Role: "admin", Place: "bench"}

// NewEnv makes a fresh database: a SQLite file in a temporary directory
// when postgresURL is empty, otherwise a new schema on that server, dropped
// on Close. maxBatch bounds group commits (1: one commit per write).
func NewEnv(ctx context.Context, postgresURL string, maxBatch int, sample float64) (*Env, error) {
	e := &Env{}
	dsn, err := e.database(ctx, postgresURL)
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	rand.Read(key)
	if err := e.open(ctx, dsn, key, maxBatch, sample); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// OpenEnv opens the database at dsn (a SQLite file or a PostgreSQL URL),
// migrates it and publishes the starter policy unless a policy is in
// force already. The database is kept on Close; key is its identity key,
// the same on every run so that chains and identity hashes carry on.
func OpenEnv(ctx context.Context, dsn string, key []byte, maxBatch int) (*Env, error) {
	e := &Env{}
	if err := e.open(ctx, dsn, key, maxBatch, 0); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *Env) open(ctx context.Context, dsn string, key []byte, maxBatch int, sample float64) error {
	e.DSN, e.IdentityKey = dsn, key
	st, err := store.Open(ctx, dsn, store.Options{AuditKey: server.AuditKey(key), MaxBatch: maxBatch})
	if err != nil {
		return err
	}
	e.Store = st
	e.cleanup = append(e.cleanup, func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	h, _ := identity.NewHasher(key)
	e.Hasher = h
	e.Service, err = consent.New(ctx, st, consent.Options{Hasher: h, CheckSample: sample})
	if err != nil {
		return err
	}
	if _, _, _, err := e.Service.Policy(); err == nil {
		return nil
	}
	_, err = e.Service.Publish(ctx, benchActor, "starter", examples.Starter)
	return err
}

func (e *Env) database(ctx context.Context, postgresURL string) (string, error) {
	if postgresURL == "" {
		dir, err := os.MkdirTemp("", "custos-bench-")
		if err != nil {
			return "", err
		}
		e.cleanup = append(e.cleanup, func() { os.RemoveAll(dir) })
		return filepath.Join(dir, "bench.db"), nil
	}
	sc, err := pgscratch.New(ctx, postgresURL, "custos_bench_")
	if err != nil {
		return "", err
	}
	e.cleanup = append(e.cleanup, func() { sc.Drop(context.Background()) })
	return sc.DSN, nil
}

// NoticeHash is the notice hash benchmark consents carry.
var NoticeHash = func() string { s := sha256.Sum256([]byte("benchmark notice")); return hex.EncodeToString(s[:]) }()

// Subjects registers n subjects named prefix-0 … prefix-(n-1).
func (e *Env) Subjects(ctx context.Context, prefix string, n int) ([]string, error) {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%d", prefix, i)
		if _, err := e.Service.CreateSubject(ctx, benchActor, consent.SubjectInput{ID: ids[i]}); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// Latencies summarises a run.
type Latencies struct {
	Count    int64
	Seconds  float64
	PerSec   float64
	P50, P99 time.Duration
	P999     time.Duration
	Max      time.Duration
	Errors   int64
}

func summarise(lat []time.Duration, elapsed time.Duration, errs int64) Latencies {
	slices.Sort(lat)
	l := Latencies{Count: int64(len(lat)), Seconds: elapsed.Seconds(), Errors: errs}
	if len(lat) > 0 {
		l.PerSec = float64(len(lat)) / elapsed.Seconds()
		l.P50 = lat[len(lat)*50/100]
		l.P99 = lat[len(lat)*99/100]
		l.P999 = lat[len(lat)*999/1000]
		l.Max = lat[len(lat)-1]
	}
	return l
}

// ConsentWrites runs clients concurrent writers, each alternating grant
// and withdraw of a consent purpose for its own subject, for d. Every
// counted write was acknowledged, i.e. durable.
func ConsentWrites(ctx context.Context, e *Env, clients int, d time.Duration, progress io.Writer) (Latencies, error) {
	// A prefix of its own: the database may hold an earlier run's writers.
	ids, err := e.Subjects(ctx, "writer-"+strconv.FormatInt(time.Now().UnixNano(), 36), clients)
	if err != nil {
		return Latencies{}, err
	}
	var (
		mu   sync.Mutex
		all  []time.Duration
		errs atomic.Int64
		wg   sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			for i := 0; time.Now().Before(deadline); i++ {
				in := consent.ConsentInput{Method: "api", Language: "en", NoticeHash: NoticeHash}
				if i%2 == 0 {
					in.Grant = []string{"analytics"}
				} else {
					in.Withdraw = []string{"analytics"}
				}
				t0 := time.Now()
				if _, err := e.Service.Record(ctx, benchActor, id, in); err != nil {
					errs.Add(1)
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}(ids[c])
	}
	wg.Wait()
	return summarise(all, time.Since(start), errs.Load()), nil
}
