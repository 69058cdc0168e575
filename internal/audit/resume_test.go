package audit_test

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/audit"
)

// TestVerifyResume: resumed after an anchor, verification reads only the
// entries after it, under the key the rotations up to it lead to, and
// reports what is wrong after it, while the entries before it are not
// checked at all.
func TestVerifyResume(t *testing.T) {
	k1 := []byte("first-key-0123456789abcdef012345")
	k2 := []byte("second-key-123456789abcdef012345")
	tests := []struct {
		name   string
		at     int64 // the anchor: entries up to it are not added
		key    []byte
		prior  [][]byte
		change func(es []audit.Entry)
		want   []problem
		ledger []audit.Epoch
	}{
		{name: "after the rotation", at: 5, key: k2, prior: [][]byte{k1}, want: []problem{},
			ledger: []audit.Epoch{{After: math.MinInt64, Key: k1}, {After: 7, Key: k2}}},
		{name: "before the rotation, which is then read", at: 2, key: k2, prior: [][]byte{k1}, want: []problem{},
			ledger: []audit.Epoch{{After: math.MinInt64, Key: k1}, {After: 7, Key: k2}}},
		{name: "at the rotation", at: 4, key: k2, prior: [][]byte{k1}, want: []problem{}},
		{name: "an entry after edited", at: 4, key: k2, prior: [][]byte{k1},
			change: func(es []audit.Entry) { es[5].Outcome = audit.OutcomeDenied }, want: []problem{{6, "edited"}}},
		{name: "an entry before edited: not read", at: 4, key: k2, prior: [][]byte{k1},
			change: func(es []audit.Entry) { es[1].Outcome = audit.OutcomeDenied }, want: []problem{}},
		{name: "the rotation before edited", at: 5, key: k2, prior: [][]byte{k1},
			change: func(es []audit.Entry) { es[3].Actor = "someone" }, want: []problem{{4, "edited"}, {6, "edited"}, {6, "stale_key"}}},
		// The rotation cannot be vouched for; the entries after it can.
		{name: "without the key the trail began under", at: 5, key: k2, want: []problem{{4, "edited"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, head := rotated(k1, k2, nil)
			if tt.change != nil {
				tt.change(entries)
			}
			v := audit.Verifier{Key: tt.key, Prior: tt.prior}
			var rotations []audit.Entry
			for _, e := range entries[:tt.at] {
				if e.Action == audit.ActionKeyRotate {
					rotations = append(rotations, e)
				}
			}
			v.Resume(audit.Chain{Seq: tt.at, Hash: entries[tt.at-1].Hash}, &entries[0], rotations)
			for i := range entries[tt.at:] {
				v.Add(&entries[int(tt.at)+i])
			}
			r := v.Finish(head)
			if diff := cmp.Diff(tt.want, kinds(r)); diff != "" {
				t.Errorf("problems (-want +got):\n%s\n%v", diff, r.Problems)
			}
			if r.Entries != int64(len(entries))-tt.at {
				t.Errorf("entries read = %d, want %d", r.Entries, int64(len(entries))-tt.at)
			}
			if tt.ledger != nil {
				if diff := cmp.Diff(tt.ledger, v.LedgerEpochs()); diff != "" {
					t.Errorf("ledger epochs (-want +got):\n%s", diff)
				}
			}
		})
	}
}
