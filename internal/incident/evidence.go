package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/store"
)

// evidenceRecord is an incident as the evidence archive keeps it: the
// record, its clocks when archived and its notices' delivery counts.
type evidenceRecord struct {
	Incident
	Clocks     []Clock        `json:"clocks"`
	Deliveries map[string]int `json:"deliveries"`
}

// EvidenceFiles returns, for the incidents discovered in [from, to), the
// files the incidents part of a compliance archive keeps, by relative
// path: incidents.json (every record with its clocks and delivery counts)
// and each incident's regulator report in Markdown and both languages
// (<id>-report.<lang>.md). Nothing in them names a
// person.
func (s *Service) EvidenceFiles(ctx context.Context, from, to time.Time) (map[string][]byte, error) {
	is, err := s.list(ctx, store.IncidentFilter{From: from, To: to, Limit: 100000})
	if err != nil {
		return nil, err
	}
	m, err := s.policy(ctx)
	if err != nil {
		return nil, err
	}
	set, now := SettingsOf(m), s.opt.Now()
	files := map[string][]byte{}
	recs := make([]evidenceRecord, 0, len(is))
	for k := len(is) - 1; k >= 0; k-- { // oldest first
		i := is[k]
		dl, err := s.st.IncidentDeliveries(ctx, i.ID)
		if err != nil {
			return nil, err
		}
		clocks := Clocks(i, set, now)
		recs = append(recs, evidenceRecord{Incident: i, Clocks: clocks, Deliveries: dl})
		for _, lang := range notify.Languages() {
			b, err := Render(NewDocument(i, m, clocks, dl, lang), KindReport, FormatMarkdown)
			if err != nil {
				return nil, err
			}
			files[fmt.Sprintf("%s-report.%s.md", i.ID, lang)] = b
		}
	}
	b, err := json.MarshalIndent(map[string]any{"from": from.UTC(), "to": to.UTC(), "incidents": recs}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("incident: evidence: %w", err)
	}
	files["incidents.json"] = append(b, '\n')
	return files, nil
}
