package store

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTransferPeople(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		p := func(flow, person string, sensitive bool) TransferPerson {
			return TransferPerson{Year: 2026, Flow: flow, Person: person, Sensitive: sensitive, Ordinary: !sensitive, Source: "api", At: at}
		}
		steps := []struct {
			name   string
			people []TransferPerson
			added  int64
		}{
			{"first", []TransferPerson{p("a", "h1", false), p("a", "h2", false), p("b", "h1", true)}, 3},
			{"again, and in one batch twice", []TransferPerson{p("a", "h1", false), p("a", "h3", false), p("a", "h3", false)}, 1},
			{"another year", []TransferPerson{{Year: 2025, Flow: "a", Person: "h9", Ordinary: true, Source: "api", At: at}}, 1},
		}
		for _, st := range steps {
			added, err := s.RecordTransfers(ctx, st.people)
			if err != nil || added != st.added {
				t.Errorf("%s: added %d, %v; want %d", st.name, added, err, st.added)
			}
		}
		counts, err := s.TransferCounts(ctx, 2026)
		want := []TransferCount{{Flow: "a", People: 3, Ordinary: 3}, {Flow: "b", People: 1, Sensitive: 1}}
		if d := cmp.Diff(want, counts); err != nil || d != "" {
			t.Errorf("counts (-want +got), %v:\n%s", err, d)
		}
		total, err := s.TransferTotal(ctx, 2026)
		if d := cmp.Diff(TransferCount{People: 3, Sensitive: 1, Ordinary: 3}, total); err != nil || d != "" {
			t.Errorf("total (-want +got), %v:\n%s", err, d)
		}
		a := TransferAlert{Year: 2026, Level: "standard_contract", Kind: "projected", People: 80000, At: at}
		for i, want := range []bool{true, false} {
			if sent, err := s.RecordTransferAlert(ctx, a); err != nil || sent != want {
				t.Errorf("alert %d: sent %v, %v; want %v", i, sent, err, want)
			}
		}
		if as, err := s.TransferAlerts(ctx, 2026); err != nil || len(as) != 1 || as[0] != a {
			t.Errorf("alerts = %+v, %v", as, err)
		}
	})
}
