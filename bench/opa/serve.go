package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/open-policy-agent/opa/v1/logging"
	"github.com/open-policy-agent/opa/v1/runtime"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/prometheus/client_golang/prometheus"
)

// readyTimeout bounds the wait for the server's first answer.
const readyTimeout = 30 * time.Second

// serve runs OPA's own HTTP server, the one `opa run --server` runs, with the
// Custos policy and the data loaded, until ctx ends. ready is called with the
// listening address once the server answers.
func serve(ctx context.Context, d *Data, addr string, ready func(addr string)) error {
	params := runtime.NewParams()
	params.Addrs = &[]string{addr}
	params.AddrSetByUser = true
	params.Logging = runtime.LoggingConfig{Level: "error", Format: "json", RequestLevel: "debug"}
	params.Output = os.Stderr
	params.EnableVersionCheck = false
	// The store is built here rather than loaded from paths, so that the
	// policy comes from this binary and the data document is the one the
	// embedded mode evaluates.
	params.StoreBuilder = func(ctx context.Context, _ logging.Logger, _ prometheus.Registerer, _ []byte, _ string) (storage.Store, error) {
		return newServerStore(ctx, d)
	}
	rt, err := runtime.NewRuntime(ctx, params)
	if err != nil {
		return fmt.Errorf("opa runtime: %w", err)
	}

	done := make(chan error, 1)
	go func() { done <- rt.Serve(ctx) }()

	listening, err := waitReady(ctx, rt, done)
	if err != nil {
		return err
	}
	ready(listening)
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("opa server: %w", err)
	}
	return nil
}

// newServerStore is the store of the embedded mode with the policy module
// added, which OPA compiles when it starts.
func newServerStore(ctx context.Context, d *Data) (storage.Store, error) {
	store, err := newOPAStore(d)
	if err != nil {
		return nil, err
	}
	err = storage.Txn(ctx, store, storage.WriteParams, func(txn storage.Transaction) error {
		return store.UpsertPolicy(ctx, txn, policyFile, []byte(policySource))
	})
	if err != nil {
		return nil, fmt.Errorf("opa store: %w", err)
	}
	return store, nil
}

// waitReady polls the server's health endpoint until it answers 200 and
// returns the address it listens on.
func waitReady(ctx context.Context, rt *runtime.Runtime, done <-chan error) (string, error) {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			if err == nil {
				err = errors.New("stopped before it answered")
			}
			return "", fmt.Errorf("opa server: %w", err)
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		addrs := rt.Addrs()
		if len(addrs) == 0 {
			continue
		}
		resp, err := client.Get("http://" + addrs[0] + "/health")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return addrs[0], nil
		}
	}
	return "", fmt.Errorf("opa server: no answer within %s", readyTimeout)
}
