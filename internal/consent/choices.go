package consent

import (
	"context"
	"errors"
	"github.com/custos-privacy/custos/internal/policy"
	"strings"

	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
)

// Choices is one subject's current choices under the policy in force, as
// a page shows them: what they consented to, what they objected to, and
// the acts that ask for their own separate consent.
type Choices struct {
	Subject string
	// Minor is the policy's answer for the subject; Guardian is whether a
	// guardian agrees for them (a guardian_consent stance), NotServed
	// whether the service is for adults only.
	Minor, Guardian, NotServed bool
	Ordinary                   []Choice // consent purposes, asked together
	Separate                   []Choice // consents asked each on its own: purposes and acts
	Objectable                 []Choice // purposes on legitimate interests or a public task
	// Accept is the version in force when processing waits for it to be
	// accepted (after a material change under express consent, or, for a
	// minor in a guardian's care, the guardian's acceptance), with the
	// purposes that wait; empty otherwise.
	Accept         string
	AcceptPurposes []string
}

// Choice is one ledger key's state.
type Choice struct {
	Key         string // the ledger key a form names: a purpose id, recipient:<id>, transfer:<id>, disclosure
	Name        string
	Description string
	Separate    bool
	// RefusedBy is a browser signal the request carried that refuses it.
	RefusedBy  string
	Granted    bool
	ByGuardian bool
	// Stale is a grant made before a material change: it no longer counts.
	Stale bool
	// Objected, Overridden and DirectMarketing describe an objectable purpose.
	Objected, Overridden, DirectMarketing bool
}

// Choices reads a subject's choices from the ledger, in lang, marking what
// the request's browser signals refuse.
func (s *Service) Choices(ctx context.Context, subjectID, lang string, signals []string) (Choices, error) {
	_, m, pol, err := s.Policy()
	if err != nil {
		return Choices{}, err
	}
	sub, states, err := s.st.SubjectState(ctx, subjectID)
	if errors.Is(err, store.ErrNotFound) {
		return Choices{}, errSubjectNotFound
	}
	if err != nil {
		return Choices{}, err
	}
	snap := snapshotOf(sub, states, pol)
	jur := snap.Jurisdiction
	stance, _ := pol.Stance(jur)
	c := Choices{Subject: subjectID, Minor: pol.MinorStatus(snap, s.now()) == check.IsMinor}
	c.Guardian = c.Minor && stance == manifest.StanceGuardianConsent
	c.NotServed = c.Minor && stance == manifest.StanceAdultsOnly
	refusedBy := func(r *check.Rule) string {
		for _, sig := range signals {
			if r.RefusedBySignal(sig) {
				return sig
			}
		}
		return ""
	}
	for _, mp := range m.Purposes {
		r, ok := pol.Rule(mp.ID)
		if !ok {
			continue
		}
		ch := Choice{Key: mp.ID, Name: mp.Name.In(lang), Description: mp.Description.In(lang), RefusedBy: refusedBy(r), DirectMarketing: mp.DirectMarketing}
		switch {
		case r.ConsentIn(jur):
			st := snap.Consents[mp.ID]
			ch.Separate, ch.Granted, ch.ByGuardian = r.Separate, st.Granted(), st.ByGuardian
			ch.Stale = ch.Granted && st.VersionSeq < r.Epoch
			if ch.Separate {
				c.Separate = append(c.Separate, ch)
			} else {
				c.Ordinary = append(c.Ordinary, ch)
			}
		case r.ObjectableIn(jur):
			switch snap.Consents[check.ObjectionKey(mp.ID)].Action {
			case check.ActionObject:
				ch.Objected = true
			case check.ActionOverride:
				ch.Objected, ch.Overridden = !mp.DirectMarketing, !mp.DirectMarketing
			}
			c.Objectable = append(c.Objectable, ch)
		}
	}
	// What waits for an acceptance is what the decision point says waits.
	now := s.now()
	for _, mp := range m.Purposes {
		r, ok := pol.Rule(mp.ID)
		if !ok || r.ConsentIn(jur) {
			continue
		}
		switch pol.Decide(snap, mp.ID, now).Reason {
		case check.ReasonAcceptance, check.ReasonGuardian:
			c.AcceptPurposes = append(c.AcceptPurposes, mp.Name.In(lang))
		}
	}
	if len(c.AcceptPurposes) > 0 {
		c.Accept = pol.Version
	}
	for _, a := range separateActs(m, pol) {
		st := snap.Consents[a.key]
		c.Separate = append(c.Separate, Choice{Key: a.key, Name: a.name.In(lang), Description: a.description.In(lang), Separate: true,
			Granted: st.Granted(), ByGuardian: st.ByGuardian})
	}
	return c, nil
}

type actView struct {
	key               string
	name, description manifest.Text
}

// separateActs lists the acts with a separate consent of their own, with
// the words a page names them by.
func separateActs(m *manifest.Manifest, pol *check.Policy) []actView {
	var out []actView
	add := func(act check.Act, description manifest.Text) {
		if pol.ActSeparate(act) {
			key := check.ActKey(act)
			name := policy.ActName(m, key)
			// A page lists the act as an item of its own: a capital in English.
			if en := name["en"]; en != "" {
				name = manifest.Text{"zh": name["zh"], "en": strings.ToUpper(en[:1]) + en[1:]}
			}
			out = append(out, actView{key, name, description})
		}
	}
	for _, r := range m.Recipients {
		add(check.Act{Kind: check.ActRecipient, ID: r.ID}, r.Description)
	}
	for _, x := range m.Storage.CrossBorder {
		add(check.Act{Kind: check.ActTransfer, ID: x.ID}, x.Description)
	}
	add(check.Act{Kind: check.ActDisclosure}, nil)
	return out
}

// Wards lists the subjects in guardianID's care who are minors under the
// policy in force: a guardian decides only for those.
func (s *Service) Wards(ctx context.Context, guardianID string) ([]string, error) {
	ids, err := s.st.Wards(ctx, guardianID)
	if err != nil {
		return nil, err
	}
	_, _, pol, err := s.Policy()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ids {
		sub, err := s.st.Subject(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue // erased meanwhile
		}
		if err != nil {
			return nil, err
		}
		if st, _ := s.minorStatus(sub, pol); st == check.IsMinor {
			out = append(out, id)
		}
	}
	return out, nil
}
