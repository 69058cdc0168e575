package transfer

import (
	"fmt"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store/storetest"
)

// TestRememberBoundsMemory: the set of people remembered as counted never
// grows past Remember, however many people are decided about.
func TestRememberBoundsMemory(t *testing.T) {
	m, err := manifest.Load("../../examples/starter/custos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(storetest.SQLite(t), Options{Key: []byte("k"), Manifest: func() (*manifest.Manifest, error) { return m, nil },
		FlushEvery: time.Hour, EvaluateEvery: -1, Remember: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	flows := 0
	for i := range 100 {
		s.Decided(fmt.Sprintf("u-%03d", i), "sync_acceleration", check.Act{})
		s.mu.Lock()
		if n := len(s.seen); n > 10 {
			t.Fatalf("after %d people %d remembered, want at most 10", i+1, n)
		}
		flows = max(flows, len(s.queue))
		s.mu.Unlock()
	}
	if flows == 0 {
		t.Fatal("sync_acceleration goes abroad in the starter: nothing was queued")
	}
}
