package org

import (
	"context"
	"errors"

	"github.com/custos-privacy/custos/internal/checkpoint"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/keep"
	"github.com/custos-privacy/custos/internal/store"
)

// ActionRetention is the registry's entry for an organisation's own
// retention periods.
const ActionRetention = "org.retention"

// Retention are an organisation's own periods for the records Custos
// keeps for it; "" is the deployment's setting.
type Retention = store.OrgRetention

// WithCheckpoints tells the registry where the deployment's signed
// checkpoints go (--checkpoints): an organisation's trail is cut only at
// checkpoints read back from a file, so an audit retention is refused
// without one.
func (r *Registry) WithCheckpoints(target string) *Registry {
	c := *r
	c.checkpoints = target
	return &c
}

// SetRetention sets how long Custos keeps an organisation's request
// records, audit trail and settled messages, where its obligations differ
// from the deployment's: the first two each a period as keep.Parse reads
// it, at least the legal minimum (keep.Requests, keep.Trail), messages a
// duration as keep.ParseMessages reads it, or "" for the deployment's.
// The deployment's own organisation follows the server's settings
// (--request-retention, --audit-retention, --outbox-retention). Running servers serve the
// organisation anew with them within the poll interval.
func (r *Registry) SetRetention(ctx context.Context, a consent.Actor, id string, in Retention) (Organisation, error) {
	if id == Default {
		return Organisation{}, fault.New(fault.Invalid, "org_default_retention",
			"the deployment's own organisation keeps its records as the server is configured: --request-retention, --audit-retention, --outbox-retention").At("org_id")
	}
	for _, f := range []struct {
		value, field string
		rec          keep.Record
	}{{in.Requests, "requests", keep.Requests}, {in.Audit, "audit", keep.Trail}} {
		if f.value == "" {
			continue
		}
		p, err := keep.Parse(f.value)
		if err == nil {
			err = f.rec.Check(p)
		}
		if err != nil {
			return Organisation{}, fault.New(fault.Invalid, "invalid_retention", "%s", err.Error()).At(f.field)
		}
		if f.field == "audit" && !p.Forever && !checkpoint.Readable(r.checkpoints) {
			return Organisation{}, fault.New(fault.Invalid, "retention_needs_checkpoints",
				"the trail is cut only at a signed checkpoint, which vouches for what was cut, and this deployment's checkpoints do not go to a file (--checkpoints)").At("audit")
		}
	}
	if in.Messages != "" {
		if _, err := keep.ParseMessages(in.Messages); err != nil {
			return Organisation{}, fault.New(fault.Invalid, "invalid_retention", "%s", err.Error()).At("messages")
		}
	}
	err := r.st.SetOrganisationRetention(ctx, id, in, r.entry(a, ActionRetention, id, map[string]string{"requests": in.Requests, "audit": in.Audit, "messages": in.Messages}))
	if errors.Is(err, store.ErrNotFound) {
		return Organisation{}, errNotFound
	}
	if err != nil {
		return Organisation{}, err
	}
	return r.Get(ctx, id)
}
