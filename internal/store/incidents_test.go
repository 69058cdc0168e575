package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/notify"
)

// TestIncidentsContract: an incident is updated only from the state and
// version it was read in; its subjects are recorded once each; notices
// mark their subjects; an escalation stage is recorded, with its
// messages, once.
func TestIncidentsContract(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC)
		r := IncidentRow{ID: "in_1", State: "open", DiscoveredAt: now.Add(-time.Hour), Record: `{"a":1}`, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateIncident(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateIncident(ctx, r); !errors.Is(err, ErrConflict) {
			t.Errorf("a taken id: %v, want ErrConflict", err)
		}
		next := r
		next.State, next.Record, next.UpdatedAt = "assessed", `{"a":2}`, now.Add(time.Second)
		if err := s.UpdateIncident(ctx, next, "open", now, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateIncident(ctx, next, "open", now, nil); !errors.Is(err, ErrConflict) {
			t.Errorf("an update from a stale read: %v, want ErrConflict", err)
		}
		got, err := s.Incident(ctx, "in_1")
		if err != nil || got.State != "assessed" || got.Record != `{"a":2}` || !got.DiscoveredAt.Equal(r.DiscoveredAt) {
			t.Errorf("incident = %+v, %v", got, err)
		}
		if _, err := s.Incident(ctx, "in_none"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown incident: %v", err)
		}
		for _, f := range []struct {
			f    IncidentFilter
			want int
		}{{IncidentFilter{Open: true}, 1}, {IncidentFilter{From: now}, 0}, {IncidentFilter{To: now}, 1}} {
			if is, err := s.Incidents(ctx, f.f); err != nil || len(is) != f.want {
				t.Errorf("Incidents(%+v) = %d, %v; want %d", f.f, len(is), err, f.want)
			}
		}
		if err := s.AddIncidentSubjects(ctx, "in_1", []string{"u-2", "u-1", "u-2"}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddIncidentSubjects(ctx, "in_1", []string{"u-1"}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.CountIncidentSubjects(ctx, "in_1"); err != nil || n != 2 {
			t.Errorf("subjects = %d, %v; want 2", n, err)
		}
		d := notify.Delivery{ID: "dl_1", Channel: "email", Sealed: []byte("x"), Template: "incident_notice", Lang: "en", NextAt: now, Status: "pending", Subject: "u-1"}
		if err := s.QueueIncidentNotices(ctx, "in_1", []notify.Delivery{d}); err != nil {
			t.Fatal(err)
		}
		pending, err := s.IncidentSubjects(ctx, "in_1", "", true, 10)
		if err != nil || len(pending) != 1 || pending[0].SubjectID != "u-2" {
			t.Errorf("pending subjects = %+v, %v", pending, err)
		}
		dl, err := s.IncidentDeliveries(ctx, "in_1")
		if diff := cmp.Diff(map[string]int{"pending": 1, "none": 1}, dl); diff != "" || err != nil {
			t.Errorf("deliveries (-want +got): %v\n%s", err, diff)
		}
		// A new selection keeps the subjects already told.
		if err := s.UpdateIncident(ctx, next, "assessed", next.UpdatedAt, []TxFn{s.ClearIncidentSubjectsFn("in_1")}); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.CountIncidentSubjects(ctx, "in_1"); n != 1 {
			t.Errorf("subjects after clearing = %d, want the one told", n)
		}
		e := IncidentEscalation{Clock: "cn_regulator", Stage: "warning", SentAt: now}
		msg := notify.Delivery{ID: "dl_2", Channel: "email", Sealed: []byte("x"), Template: "incident_escalation", Lang: "en", NextAt: now, Status: "pending"}
		if err := s.RecordIncidentEscalation(ctx, "in_1", e, []notify.Delivery{msg}); err != nil {
			t.Fatal(err)
		}
		msg.ID = "dl_3"
		if err := s.RecordIncidentEscalation(ctx, "in_1", e, []notify.Delivery{msg}); !errors.Is(err, ErrConflict) {
			t.Errorf("the same stage again: %v, want ErrConflict", err)
		}
		es, err := s.IncidentEscalations(ctx, "in_1")
		if err != nil || len(es) != 1 || es[0].Deliveries != 1 {
			t.Errorf("escalations = %+v, %v", es, err)
		}
		due, err := s.Outbox().Due(ctx, now, 10)
		if err != nil || len(due) != 2 {
			t.Errorf("outbox holds %d deliveries, want the notice and one escalation", len(due))
		}
	})
}
