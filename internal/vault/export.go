package vault

import (
	"context"
	"errors"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/keystore"
)

// ActionExport is the audit action of opening a subject's values for
// their own export.
const ActionExport = "vault.export"

// Exported is a vault value as the person's own export carries it: in
// clear, since it is theirs and given to them once their identity was
// verified.
type Exported struct {
	Field string `json:"field"`
	// Category is the field's category in the policy in force; "" for a
	// field the policy no longer declares, whose value is kept until
	// deleted or erased all the same.
	Category  string    `json:"category"`
	Value     string    `json:"value"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Export opens every value kept for the subject, for the rights request
// requestID (access, copy, portability), ordered by field. It asks no
// purpose of the decision point: giving a person their own information is
// the request itself, and a restriction or a withdrawn consent does not
// take it from them.
//
// A value whose key is destroyed is left out: the person's erasure
// destroyed the key and was cut short before it deleted the row, and
// nothing can open it any more. The opening is in the audit trail, with
// the request and the fields, before a value is returned.
func (s *Service) Export(ctx context.Context, a audit.Actor, subjectID, requestID string) ([]Exported, error) {
	if err := consent.ValidateSubjectID(subjectID); err != nil {
		return nil, err
	}
	rows, err := s.st.VaultValues(ctx, subjectID)
	if err != nil {
		return nil, storeErr(err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	_, m, _, err := s.d.Policy()
	if err != nil {
		return nil, err
	}
	out := make([]Exported, 0, len(rows))
	fields, lost := []string{}, []string{}
	for _, row := range rows {
		plain, err := s.keys.Open(ctx, keystore.Subject(subjectID), row.Sealed, sealAD(subjectID, row.Field))
		if errors.Is(err, keystore.ErrDestroyed) {
			lost = append(lost, row.Field)
			continue
		}
		if err != nil {
			return nil, err
		}
		v := Exported{Field: row.Field, Value: string(plain), UpdatedAt: row.UpdatedAt.UTC()}
		clear(plain)
		if f, ok := m.VaultField(row.Field); ok {
			v.Category = f.Category
		}
		out = append(out, v)
		fields = append(fields, row.Field)
	}
	detail := map[string]any{"request": requestID, "fields": fields}
	if len(lost) > 0 {
		detail["unreadable"] = lost
	}
	if err := s.st.AppendAudit(ctx, s.entry(a, ActionExport, subjectID, "rights_request", audit.OutcomeOK, detail)); err != nil {
		return nil, err
	}
	return out, nil
}
