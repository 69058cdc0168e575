package bench

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/seal"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/vault"
)

// WithVault gives e a data keyset and a key store beside its SQLite
// database, where a server started on it keeps its keys too, and a vault
// for Serve.
func (e *Env) WithVault(ctx context.Context) error {
	if keystore.IsPostgres(e.DSN) {
		return errors.New("bench: the vault workload runs on SQLite")
	}
	raw, err := seal.GenerateKeyset()
	if err != nil {
		return err
	}
	kek, err := seal.New(raw)
	if err != nil {
		return err
	}
	ks, err := keystore.Open(ctx, strings.TrimSuffix(e.DSN, ".db")+"-keys.db", kek, keystore.Options{})
	if err != nil {
		return err
	}
	e.cleanup = append(e.cleanup, func() { ks.Close() })
	v, err := vault.New(e.Store, e.Service, vault.Options{Keys: ks, TokenKey: server.VaultKey(e.IdentityKey)})
	if err != nil {
		return err
	}
	e.DataKeyset, e.Vault = raw, v
	return nil
}

// vaultField and vaultPurpose are what the workload keeps and reads: the
// starter's email, which a service key reads in clear for
// account_registration (a contract purpose: every read is allowed).
const (
	vaultField   = "email"
	vaultPurpose = "account_registration"
)

// VaultData is the vault workload on subjects: n queries, each a subject
// drawn at random and the purpose its value is read for. The same queries
// serve /v1/check, so the three endpoints answer for the same people.
func VaultData(subjects []string, n int) CheckData {
	r := rand.New(rand.NewPCG(3, 4))
	d := CheckData{Subjects: subjects, Queries: make([]Query, n)}
	for i := range d.Queries {
		d.Queries[i] = Query{Subject: subjects[r.IntN(len(subjects))], Purpose: vaultPurpose}
	}
	return d
}

// EverySubject is one query per subject, in order: a pass that keeps a
// value for each.
func EverySubject(d CheckData) CheckData {
	out := CheckData{Subjects: d.Subjects}
	for _, id := range d.Subjects {
		out.Queries = append(out.Queries, Query{Subject: id, Purpose: vaultPurpose})
	}
	return out
}

func vaultPath(q Query) string { return "/v1/subjects/" + q.Subject + "/vault/" + vaultField }

// VaultWriteTarget keeps a value for the query's subject: PUT, a durable
// write with its audit entry.
func VaultWriteTarget(base, key string) HTTPTarget {
	return HTTPTarget{Name: "vault PUT", URL: base, Auth: "Bearer " + key, Method: "PUT", Path: vaultPath,
		Body: func(q Query) []byte {
			b, _ := json.Marshal(map[string]string{"value": q.Subject + "@example.com"})
			return b
		}}
}

// VaultReadTarget reads the subject's value for the query's purpose: the
// decision, the unsealing and the audit entry, written before the answer.
func VaultReadTarget(base, key string) HTTPTarget {
	return HTTPTarget{Name: "vault GET", URL: base, Auth: "Bearer " + key, Method: "GET",
		Path: func(q Query) string { return vaultPath(q) + "?purpose=" + q.Purpose }}
}

// Once sends every query's request once, over conns connections, and
// returns how many failed.
func Once(t HTTPTarget, d CheckData, conns int) int64 {
	addr, reqs := t.requests(d)
	var next atomic.Int64
	var errs atomic.Int64
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &conn{addr: addr}
			defer c.reset()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(reqs) {
					return
				}
				if err := c.do(reqs[i]); err != nil {
					errs.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return errs.Load()
}
