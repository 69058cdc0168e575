package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"github.com/custos-privacy/custos/internal/api"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/store"
)

// Demo is what demo mode set up.
type Demo struct {
	AdminKey string
}

// seedDemo adds a few fictional subjects with consents (once) and a fresh
// admin key (each start; it is printed, so it is not kept between runs).
func seedDemo(ctx context.Context, st *store.Store, svc *consent.Service, a consent.Actor) (*Demo, error) {
	k, err := api.CreateKey(ctx, st, a, "demo admin", api.RoleAdmin)
	if err != nil {
		return nil, err
	}
	_, m, pol, err := svc.Policy()
	if err != nil {
		return nil, err
	}
	var consentPurposes []string
	for _, p := range m.Purposes {
		if r, ok := pol.Rule(p.ID); ok && r.Consent && !r.Separate {
			consentPurposes = append(consentPurposes, p.ID)
		}
	}
	notice := sha256.Sum256([]byte("demo notice"))
	subjects := []consent.SubjectInput{
		{ID: "demo-1001", Identities: []consent.IdentityInput{{Kind: "email", Value: "lin.wei@example.com", Keep: true}, {Kind: "phone", Value: "13800138000", Keep: true}}, BirthDate: "1990-04-12"},
		{ID: "demo-1002", Identities: []consent.IdentityInput{{Kind: "email", Value: "alex.chen@example.org", Keep: true}}, AgeBand: "adult"},
		{ID: "demo-1003", Identities: []consent.IdentityInput{{Kind: "phone", Value: "13900139000", Keep: true}}, BirthDate: "2015-09-01", GuardianID: "demo-1001"},
	}
	for i, in := range subjects {
		_, err := svc.CreateSubject(ctx, a, in)
		if fe, ok := fault.As(err); ok && fe.Code == "subject_conflict" {
			continue // seeded on an earlier run
		}
		if err != nil {
			return nil, err
		}
		if len(consentPurposes) == 0 || i == 2 {
			continue
		}
		grant := consentPurposes
		if i == 1 {
			grant = consentPurposes[:1]
		}
		if _, err := svc.Record(ctx, a, in.ID, consent.ConsentInput{Grant: grant, Method: "banner", Language: "zh-CN", NoticeHash: hex.EncodeToString(notice[:])}); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	return &Demo{AdminKey: k.Secret}, nil
}
