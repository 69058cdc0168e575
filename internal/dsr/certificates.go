package dsr

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/custos-privacy/custos/internal/certificate"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/execute"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/store"
)

// erasureCertificate describes, for a certificate, what the plans of a
// request's erasure changed: per datastore and collection, the rows
// deleted, and the rows rewritten with the names of the fields rewritten.
// It is not signed yet, and names no organisation or host: the service
// adds those (issue).
//
// The plan hash is taken over the plans without their row keys: a key may
// be personal (an e-mail address as primary key), and a plain hash of a
// guessable value discloses it. Datastore, collection, deletion and the
// fields and strategies of each row, in the plans' order, are enough to
// bind the certificate to the erasure; a keyed hash of the keys would
// bind it tighter but could be checked by nobody without the key.
func erasureCertificate(requestID string, plans []execute.Plan, started, finished time.Time) (certificate.Certificate, error) {
	type target struct {
		t      certificate.Target
		fields map[string]bool
	}
	var order [][3]string
	byKey := map[[3]string]*target{}
	type change struct {
		Collection string                `json:"collection"`
		Deleted    bool                  `json:"deleted,omitempty"`
		Fields     []execute.FieldChange `json:"fields,omitempty"`
	}
	type plan struct {
		Datastore string   `json:"datastore"`
		Applied   bool     `json:"applied"`
		Changes   []change `json:"changes"`
	}
	keyless := make([]plan, len(plans))
	for i, p := range plans {
		keyless[i] = plan{Datastore: p.Datastore, Applied: p.Applied, Changes: make([]change, len(p.Changes))}
		for j, c := range p.Changes {
			keyless[i].Changes[j] = change{Collection: c.Collection, Deleted: c.Deleted, Fields: c.Fields}
			action := certificate.ActionErase
			if c.Deleted {
				action = certificate.ActionDelete
			}
			k := [3]string{p.Datastore, c.Collection, action}
			t := byKey[k]
			if t == nil {
				t = &target{t: certificate.Target{Datastore: p.Datastore, Collection: c.Collection, Action: action}, fields: map[string]bool{}}
				byKey[k] = t
				order = append(order, k)
			}
			t.t.Rows++
			for _, f := range c.Fields {
				t.fields[f.Field] = true
			}
		}
	}
	hash, err := certificate.PlanHash(keyless)
	if err != nil {
		return certificate.Certificate{}, err
	}
	c := certificate.Certificate{Kind: certificate.KindRequest, Request: requestID, PlanHash: hash,
		Started: started, Finished: finished, Targets: []certificate.Target{}}
	for _, k := range order {
		t := byKey[k]
		for f := range t.fields {
			t.t.Fields = append(t.t.Fields, f)
		}
		slices.Sort(t.t.Fields)
		if t.t.Action == certificate.ActionErase && len(t.t.Fields) == 0 {
			// A row rewritten in no field was not changed: nothing to certify.
			continue
		}
		c.Targets = append(c.Targets, t.t)
	}
	return c, nil
}

// issue signs an executor's certificate and keeps it, with an entry in the
// trail, as soon as the erasure it records is done: the evidence outlives
// a failure to close the request after. It returns the certificate's id,
// or "" when none was issued: the deployment has no receipt key to sign
// with (a certificate nobody can verify proves nothing), or signing
// failed.
func (s *Service) issue(ctx context.Context, a consent.Actor, r *store.Request, c certificate.Certificate) (string, error) {
	if s.opt.Certificates == nil {
		s.log.Warn("erasure certificate not issued: no receipt key to sign it with", "request", r.ID)
		return "", nil
	}
	if org := s.st.Org(); org != store.DefaultOrg {
		c.Org = org
	}
	c.Instance = s.opt.Instance
	signed, err := s.opt.Certificates.Sign(c)
	if err != nil {
		// The erasure is done and must not be undone or repeated for want
		// of its certificate: the request closes, the log says why none
		// was issued (the error names a field, never a value).
		s.log.Error("erasure certificate not issued", "request", r.ID, "cause", err.Error())
		return "", nil
	}
	detail := fmt.Sprintf(`{"certificate":%q,"rows":%d}`, signed.ID, signed.Rows())
	if err := s.st.PutCertificate(ctx, signed, s.entry(a, "request.certificate", r, detail)); err != nil {
		return "", err
	}
	return signed.ID, nil
}

// Certificate returns one of the organisation's erasure certificates.
func (s *Service) Certificate(ctx context.Context, id string) (certificate.Certificate, error) {
	c, err := s.st.Certificate(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return certificate.Certificate{}, fault.New(fault.NotFound, "certificate_not_found", "no such certificate")
	}
	return c, err
}

// Certificates lists the organisation's erasure certificates, newest first.
func (s *Service) Certificates(ctx context.Context, f store.CertificateFilter) ([]certificate.Certificate, error) {
	return s.st.Certificates(ctx, f)
}
