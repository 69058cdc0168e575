package audit_test

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/audit"
)

// rotated is a trail of three entries under k1, a transition to k2 and two
// entries under k2, built as the store builds it.
func rotated(k1, k2 []byte, mutate func(r *audit.Rotation)) ([]audit.Entry, audit.Chain) {
	entries, head := trail(k1, 3)
	c := audit.Chain{Seq: head.Seq, Hash: head.Hash, Key: k1}
	r := audit.NewRotation(k1, k2, head.Hash, 7)
	if mutate != nil {
		mutate(&r)
	}
	tr := audit.Entry{At: start, Actor: "cli:root", Role: "admin", Action: audit.ActionKeyRotate, Object: "identity-key", Outcome: audit.OutcomeOK, Detail: r.Detail()}
	c.Link(&tr)
	entries = append(entries, tr)
	c.Key = k2
	for i := range 2 {
		e := audit.Entry{At: start, Actor: "key_1", Role: "admin", Action: "consent.grant", Object: "subject:after-" + string(rune('a'+i)), Outcome: audit.OutcomeOK, Detail: "{}"}
		c.Link(&e)
		entries = append(entries, e)
	}
	return entries, audit.Chain{Seq: c.Seq, Hash: c.Hash}
}

func TestVerifyRotation(t *testing.T) {
	k1 := []byte("first-key-0123456789abcdef012345")
	k2 := []byte("second-key-123456789abcdef012345")
	k3 := []byte("third-key-0123456789abcdef012345")
	tests := []struct {
		name   string
		key    []byte
		prior  [][]byte
		build  func() ([]audit.Entry, audit.Chain)
		want   []problem
		ledger []audit.Epoch
	}{
		{"rotated, both keys", k2, [][]byte{k1}, func() ([]audit.Entry, audit.Chain) { return rotated(k1, k2, nil) }, []problem{},
			[]audit.Epoch{{After: math.MinInt64, Key: k1}, {After: 7, Key: k2}}},
		{"never rotated, started under the newest key", k2, [][]byte{k1}, func() ([]audit.Entry, audit.Chain) { return trail(k2, 3) }, []problem{},
			[]audit.Epoch{{After: math.MinInt64, Key: k2}}},
		{"rewritten from scratch under the leaked old key", k2, [][]byte{k1}, func() ([]audit.Entry, audit.Chain) { return trail(k1, 6) },
			[]problem{{6, "stale_key"}}, nil},
		{"rotated without the older key", k2, nil, func() ([]audit.Entry, audit.Chain) { return rotated(k1, k2, nil) },
			[]problem{{1, "edited"}, {2, "edited"}, {3, "edited"}, {4, "edited"}}, nil},
		{"rotated to a key not given", k3, [][]byte{k1}, func() ([]audit.Entry, audit.Chain) { return rotated(k1, k2, nil) },
			[]problem{{4, "key_unknown"}}, nil},
		{"a transition without the new key's proof", k2, [][]byte{k1}, func() ([]audit.Entry, audit.Chain) {
			return rotated(k1, k2, func(r *audit.Rotation) { r.Proof = "00" })
		}, []problem{{4, "rotation_invalid"}}, nil},
		{"a transition naming another old key", k2, [][]byte{k1}, func() ([]audit.Entry, audit.Chain) {
			return rotated(k1, k2, func(r *audit.Rotation) { r.From = "0011223344556677" })
		}, []problem{{4, "rotation_invalid"}, {4, "rotation_invalid"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, head := tt.build()
			v := audit.Verifier{Key: tt.key, Prior: tt.prior}
			for i := range entries {
				v.Add(&entries[i])
			}
			r := v.Finish(head)
			if diff := cmp.Diff(tt.want, kinds(r)); diff != "" {
				t.Errorf("problems (-want +got):\n%s\n%v", diff, r.Problems)
			}
			if tt.ledger != nil {
				if diff := cmp.Diff(tt.ledger, v.LedgerEpochs()); diff != "" {
					t.Errorf("ledger epochs (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestKeyFor(t *testing.T) {
	k1, k2, k3 := []byte("1"), []byte("2"), []byte("3")
	epochs := []audit.Epoch{{After: math.MinInt64, Key: k1}, {After: 10, Key: k2}, {After: 20, Key: k3}}
	for seq, want := range map[int64][]byte{0: k1, 10: k1, 11: k2, 20: k2, 21: k3, 1000: k3} {
		if got := audit.KeyFor(epochs, seq); string(got) != string(want) {
			t.Errorf("KeyFor(%d) = %s, want %s", seq, got, want)
		}
	}
	if audit.KeyID(nil) != "" || audit.KeyID(k1) == audit.KeyID(k2) || len(audit.KeyID(k1)) != 16 {
		t.Errorf("KeyID: %q %q %q", audit.KeyID(nil), audit.KeyID(k1), audit.KeyID(k2))
	}
}
