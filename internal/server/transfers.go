package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/transfer"
)

// transferKey keys the hashes that stand for people in the counts of
// cross-border transfers: derived, so that every instance of the
// organisation agrees and no new secret is needed.
func transferKey(auditKey []byte) []byte {
	return deriveKey(auditKey, "custos transfer person v1")
}

// openTransfers starts the counts of cross-border transfers of the
// policy in force. Served, it hooks onto the decision point and the
// ledger's commits, alerts the organisation's contact through the outbox
// and exports its numbers as metrics.
func openTransfers(st *store.Store, svc *consent.Service, keys Keys, ks *keystore.Store, reg *prometheus.Registry, log *slog.Logger, now func() time.Time, served bool) (*transfer.Service, func(), error) {
	if len(keys.AuditKey) == 0 {
		return nil, func() {}, nil
	}
	manifestOf := func() (*manifest.Manifest, error) {
		_, m, _, err := svc.Policy()
		return m, err
	}
	opt := transfer.Options{Key: transferKey(keys.AuditKey), Manifest: manifestOf, Logger: log, Now: now}
	if !served {
		opt.EvaluateEvery = -1
	}
	if served && reg != nil {
		people := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "custos_transfer_people",
			Help: "People whose personal information went abroad this calendar year (China time), per transfer flow; sensitive says whether it was sensitive personal information."},
			[]string{"flow", "sensitive"})
		projected := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "custos_transfer_projected_people",
			Help: "custos_transfer_people projected to 31 December at the year's rate so far."},
			[]string{"flow", "sensitive"})
		reg.MustRegister(people, projected)
		opt.Observe = func(flow string, sensitive bool, n, p int64) {
			s := fmt.Sprint(sensitive)
			people.WithLabelValues(flow, s).Set(float64(n))
			projected.WithLabelValues(flow, s).Set(float64(p))
		}
	}
	if served && ks != nil {
		opt.Alert = func(ctx context.Context, a transfer.Alert) error {
			m, err := manifestOf()
			if err != nil {
				return err
			}
			return alertContact(ctx, st, ks, m, a)
		}
	}
	ts, err := transfer.New(st, opt)
	if err != nil {
		return nil, nil, err
	}
	if !served {
		return ts, func() {}, nil
	}
	svc.OnAllowed(ts.Decided)
	unhook := st.OnApply(ts.ConsentsCommitted)
	return ts, func() {
		svc.OnAllowed(nil)
		unhook()
	}, nil
}

// alertContact queues the alert to the personal-information protection
// contact's email channels.
func alertContact(ctx context.Context, st *store.Store, ks *keystore.Store, m *manifest.Manifest, a transfer.Alert) error {
	lang := notify.LangZH
	if m.DefaultLanguage() == notify.LangEN {
		lang = notify.LangEN
	}
	data := map[string]string{"year": fmt.Sprint(a.Year), "people": fmt.Sprint(a.People), "projected": fmt.Sprint(a.Projected),
		"threshold": fmt.Sprint(a.Threshold), "kind": a.Kind, "mechanism": transfer.MechanismName(a.Mechanism, lang), "flows": strings.Join(a.Flows, ", ")}
	var errs []error
	sent := 0
	for _, c := range m.Contact.Channels {
		if c.Kind != "email" || c.Value == "" {
			continue
		}
		d, err := notify.NewDelivery(ctx, ks, notify.ChannelEmail, c.Value, "transfer_threshold", lang, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := st.Outbox().Enqueue(ctx, d); err != nil {
			errs = append(errs, err)
			continue
		}
		sent++
	}
	if sent == 0 && len(errs) == 0 {
		return errors.New("the manifest's contact has no email channel to alert")
	}
	return errors.Join(errs...)
}

// OpenTransfers returns the counts of cross-border transfers for a
// command that does not serve: the register is read from m, or from the
// policy published in st when m is nil. Close it before the store.
func OpenTransfers(ctx context.Context, st *store.Store, keys Keys, m *manifest.Manifest) (*transfer.Service, error) {
	if len(keys.AuditKey) == 0 {
		return nil, errors.New("the counts of cross-border transfers need the identity key: set CUSTOS_IDENTITY_KEY_FILE or --secrets-dir")
	}
	if m == nil {
		var err error
		if m, err = CurrentManifest(ctx, st); err != nil {
			return nil, err
		}
	}
	return transfer.New(st, transfer.Options{Key: transferKey(keys.AuditKey), Manifest: func() (*manifest.Manifest, error) { return m, nil }, EvaluateEvery: -1})
}

// CurrentManifest is the manifest of the policy version in force, for the
// commands that read it from the database when no --manifest is given.
func CurrentManifest(ctx context.Context, st *store.Store) (*manifest.Manifest, error) {
	pv, err := st.CurrentPolicy(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errors.New("no policy is published: publish one with custos policy publish, or give --manifest")
	}
	if err != nil {
		return nil, err
	}
	return manifest.Parse("policy "+pv.Version, []byte(pv.Manifest))
}
