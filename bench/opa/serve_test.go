package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestServe runs OPA's HTTP server on a free loopback port and requires its
// answers to match Custos's on a generated data set.
func TestServe(t *testing.T) {
	d := Generate(GenOptions{Subjects: 100, Queries: 200, Seed: 3})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, d, "127.0.0.1:0", func(a string) { addrc <- a }) }()

	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("serve stopped before it was ready: %v", err)
	case <-time.After(readyTimeout + 5*time.Second):
		t.Fatal("serve never became ready")
	}

	c := newCustosEngine(d)
	client := &http.Client{Timeout: 5 * time.Second}
	for i, q := range d.Queries {
		body, err := json.Marshal(map[string]any{"input": q})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Post("http://"+addr+"/v1/data/custos/decisions", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Result []any `json:"result"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("query %d: status %d, %v", i, resp.StatusCode, err)
		}
		got, err := decodeDecisions(out.Result)
		if err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
		if diff := cmp.Diff(c.decide(&d.Queries[i], nil), got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("query %d: server decisions (-custos +opa):\n%s", i, diff)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("serve did not stop when its context ended")
	}
}
