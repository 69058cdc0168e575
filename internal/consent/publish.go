package consent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/policy"
	"github.com/custos-privacy/custos/internal/store"
)

// Published is the outcome of a publication.
type Published struct {
	Version   string   `json:"version"`
	Seq       int64    `json:"seq"`
	Created   bool     `json:"created"`
	Material  bool     `json:"material"`
	Reconsent []string `json:"reconsent"`
}

// Publish records manifest source (already validated by the caller or not)
// as a new policy version. A material change to consent purposes makes
// their earlier consents stale: decisions answer reconsent_required until
// the subject consents again under the new version.
func Publish(ctx context.Context, st Store, a Actor, name string, source []byte, now func() (at audit.Entry)) (Published, error) {
	m, err := manifest.Parse(name, source)
	if err != nil {
		return Published{}, fault.New(fault.Invalid, "invalid_manifest", "%v", err)
	}
	for attempt := 0; ; attempt++ {
		cur, err := st.CurrentPolicy(ctx)
		var basedOn int64
		diff := &policy.Diff{Changes: []policy.Change{}, Reconsent: []string{}}
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return Published{}, err
		default:
			basedOn = cur.Seq
			if cur.SHA256 == sha256Hex(source) {
				return Published{Version: cur.Version, Seq: cur.Seq, Material: cur.Material, Reconsent: nonNil(cur.Reconsent)}, nil
			}
			old, err := manifest.Parse("policy "+cur.Version, []byte(cur.Manifest))
			if err != nil {
				return Published{}, fmt.Errorf("parse current policy %s: %w", cur.Version, err)
			}
			diff = policy.Compare(old, m)
		}
		diffJSON, err := json.Marshal(diff)
		if err != nil {
			return Published{}, err
		}
		e := now()
		e.Action, e.Object, e.Outcome = ActionPolicyPublish, "policy:"+m.Policy.Version, audit.OutcomeOK
		detail, _ := json.Marshal(map[string]any{"material": diff.Material, "reconsent": diff.Reconsent, "changes": len(diff.Changes)})
		e.Detail = string(detail)
		pv, created, err := st.PublishPolicy(ctx, store.PolicyVersion{Version: m.Policy.Version, SHA256: sha256Hex(source), Manifest: string(source),
			Material: diff.Material, Reconsent: diff.Reconsent, Diff: string(diffJSON)}, basedOn, e)
		switch {
		case errors.Is(err, store.ErrStalePublish) && attempt < 3:
			continue
		case errors.Is(err, store.ErrConflict):
			return Published{}, fault.New(fault.Conflict, "version_exists", "policy version %s is already published with other content; give the manifest a new policy.version", m.Policy.Version)
		case err != nil:
			return Published{}, err
		}
		return Published{Version: pv.Version, Seq: pv.Seq, Created: created, Material: pv.Material, Reconsent: nonNil(pv.Reconsent)}, nil
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Publish records a new policy version and puts it in force here at once
// (other instances pick it up on their next poll).
func (s *Service) Publish(ctx context.Context, a Actor, name string, source []byte) (Published, error) {
	p, err := Publish(ctx, s.st, a, name, source, func() audit.Entry { return s.entry(a, "", "", "", "", "") })
	if err != nil {
		return Published{}, err
	}
	if err := s.reloadPolicy(ctx); err != nil {
		return Published{}, err
	}
	s.cache.clear()
	return p, nil
}
