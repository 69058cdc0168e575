package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
)

// Instance opens another instance on e's database, as a second server
// sharing it would be: its own store handle (connections, writer) and
// consent service, picking up other instances' writes every poll, and at
// once on their notifications when notify is set (PostgreSQL). Serve
// serves it; Close stops it.
func (e *Env) Instance(ctx context.Context, poll time.Duration, notify bool) (*Env, error) {
	st, err := store.Open(ctx, e.DSN, store.Options{AuditKey: server.AuditKey(e.IdentityKey)})
	if err != nil {
		return nil, err
	}
	h, _ := identity.NewHasher(e.IdentityKey)
	svc, err := consent.New(ctx, st, consent.Options{Hasher: h})
	if err != nil {
		st.Close()
		return nil, err
	}
	rctx, stop := context.WithCancel(context.Background())
	var wake <-chan struct{}
	if notify {
		wake = st.Listen(rctx)
	}
	go svc.Run(rctx, poll, wake)
	return &Env{Store: st, Service: svc, DSN: e.DSN, IdentityKey: e.IdentityKey,
		cleanup: []func(){func() { st.Close() }, stop}}, nil
}

// lagJitter spreads the writes over the default poll interval: writes
// timed by the reader's last poll would each wait nearly a whole interval
// for the next one.
const lagJitter = 250 * time.Millisecond

// InstanceLag measures how long a consent written through one instance
// takes to reach another's decisions. n times, it checks analytics for
// one of subjects on the reader (so the reader holds the subject in its
// cache), grants or withdraws it through the writer (POST
// /v1/subjects/{id}/consents) and, from the writer's answer, checks on the
// reader (POST /v1/check) until the decision says so. Writes come at
// random within 250ms of the last one seen. It returns the median and the
// 99th percentile, or an error if a write is not seen within 30 seconds.
func InstanceLag(ctx context.Context, writeBase, writeKey, readBase, readKey string, subjects []string, n int) (p50, p99 time.Duration, err error) {
	if len(subjects) == 0 || n <= 0 {
		return 0, 0, errors.New("instance lag: no subjects or no writes")
	}
	c := &http.Client{Timeout: 10 * time.Second}
	lags := make([]time.Duration, 0, n)
	for i := range n {
		id := subjects[i%len(subjects)]
		before, err := reason(ctx, c, readBase, readKey, id)
		if err != nil {
			return 0, 0, err
		}
		in, want := consent.ConsentInput{Grant: []string{"analytics"}, Method: "api", Language: "en", NoticeHash: NoticeHash}, "consent"
		if before == "consent" {
			in, want = consent.ConsentInput{Withdraw: []string{"analytics"}, Method: "api", Language: "en"}, "withdrawn"
		}
		select {
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case <-time.After(rand.N(lagJitter)):
		}
		if err := post(ctx, c, writeBase+"/v1/subjects/"+id+"/consents", writeKey, in, http.StatusCreated, nil); err != nil {
			return 0, 0, err
		}
		start := time.Now()
		for {
			got, err := reason(ctx, c, readBase, readKey, id)
			if err != nil {
				return 0, 0, err
			}
			if got == want {
				break
			}
			if time.Since(start) > 30*time.Second {
				return 0, 0, fmt.Errorf("instance lag: write %d not seen by the reader in 30s", i)
			}
			time.Sleep(200 * time.Microsecond)
		}
		lags = append(lags, time.Since(start))
	}
	slices.Sort(lags)
	return lags[len(lags)/2], lags[len(lags)*99/100], nil
}

// reason is the reader's decision on analytics for subject id.
func reason(ctx context.Context, c *http.Client, base, key, id string) (string, error) {
	var res consent.CheckResult
	if err := post(ctx, c, base+"/v1/check", key, consent.CheckInput{SubjectID: id, Purposes: []string{"analytics"}}, http.StatusOK, &res); err != nil {
		return "", err
	}
	if len(res.Decisions) != 1 {
		return "", fmt.Errorf("instance lag: %d decisions for one purpose", len(res.Decisions))
	}
	return res.Decisions[0].Reason, nil
}

func post(ctx context.Context, c *http.Client, url, key string, body any, status int, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != status {
		io.Copy(io.Discard, resp.Body)
		return fmt.Errorf("POST %s answered %d, want %d", req.URL.Path, resp.StatusCode, status)
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
