package consent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/policy"
	"github.com/custos-privacy/custos/internal/store"
)

// noticeBatch is how many subjects one committed batch of change notices covers.
const noticeBatch = 500

// SendChangeNotices keeps the promise that people are told of a material
// change: for every published version whose notices are pending, it queues
// one message per affected subject with a kept email address or phone
// number, in the subject's language, through the outbox. The scheduler
// runs it; `custos policy notify` runs it now. Batches commit with the
// cursor they reached, so a run cut short resumes where it stopped, and
// two instances running it at once send each notice once. It returns how
// many messages it queued.
func (s *Service) SendChangeNotices(ctx context.Context, progress func(version string, queued int)) (int, error) {
	if s.opt.Keys == nil {
		return 0, errors.New("change notices: no data key is configured to open kept addresses")
	}
	versions, err := s.st.PolicyVersions(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, v := range versions {
		if !v.NoticesPending {
			continue
		}
		n, err := s.sendNotices(ctx, v, progress)
		total += n
		if err != nil {
			return total, fmt.Errorf("notices of version %s: %w", v.Version, err)
		}
	}
	return total, nil
}

func (s *Service) sendNotices(ctx context.Context, v store.PolicyVersion, progress func(string, int)) (int, error) {
	m, err := s.parse(v)
	if err != nil {
		return 0, err
	}
	// What the policy_change template says, the same for everyone.
	data := map[string]string{"version": v.Version, "effective": v.EffectiveAt.In(calendar.China).Format("2006-01-02"), "accept": "no"}
	if len(v.Accept) > 0 || len(v.Reconsent) > 0 {
		data["accept"] = "yes"
	}
	if m.Policy.URL != "" {
		data["url"] = m.Policy.URL
	}
	st, keys := s.st, noticeKeys(v)
	sys := audit.System("scheduler")
	queued := 0
	for {
		cursor, pending, err := st.NoticesCursor(ctx, v.Seq)
		if err != nil || !pending {
			return queued, err
		}
		targets, err := st.NoticeTargets(ctx, cursor, noticeBatch, keys)
		if err != nil {
			return queued, err
		}
		var ds []notify.Delivery
		for _, t := range targets {
			if d, ok := s.changeNotice(ctx, data, m.DefaultLanguage(), t); ok {
				ds = append(ds, d)
			}
		}
		next, done := cursor, len(targets) < noticeBatch
		if len(targets) > 0 {
			next = targets[len(targets)-1].ID
		}
		detail, _ := json.Marshal(map[string]any{"version": v.Version, "queued": len(ds), "subjects": len(targets), "done": done})
		err = st.QueueNotices(ctx, v.Seq, cursor, next, done, ds, s.entry(sys, ActionPolicyNotices, "policy:"+v.Version, "", audit.OutcomeOK, string(detail)))
		if errors.Is(err, store.ErrConflict) {
			continue // another instance committed this batch; read where it stands
		}
		if err != nil {
			return queued, err
		}
		queued += len(ds)
		if progress != nil {
			progress(v.Version, queued)
		}
		if done {
			s.log.Info("policy change notices queued", "version", v.Version, "queued", queued)
			return queued, nil
		}
	}
}

// noticeKeys are the ledger keys whose holders a change affects, when it
// touches only consents: then only people who decided on them are told.
// Any other material change concerns everyone (nil).
func noticeKeys(v store.PolicyVersion) []string {
	var d policy.Diff
	if json.Unmarshal([]byte(v.Diff), &d) != nil || len(d.Accept) > 0 || len(d.Reconsent) == 0 {
		return nil
	}
	for _, ch := range d.Changes {
		if !ch.Material {
			continue
		}
		if len(ch.Purposes) == 0 || slices.ContainsFunc(ch.Purposes, func(p string) bool { return !slices.Contains(d.Reconsent, p) }) {
			return nil
		}
	}
	return d.Reconsent
}

// changeNotice builds the message to one subject: to their kept email
// address, else their phone, in their language.
func (s *Service) changeNotice(ctx context.Context, data map[string]string, prevailing string, t store.NoticeTarget) (notify.Delivery, bool) {
	lang := t.Language
	if lang != notify.LangZH && lang != notify.LangEN {
		lang = prevailing
	}
	for _, kind := range []string{"email", "phone"} {
		for _, idn := range t.Identities {
			if idn.Kind != kind {
				continue
			}
			raw, err := s.OpenIdentity(ctx, t.ID, kind, idn.Sealed)
			if err != nil {
				continue
			}
			ch := notify.ChannelEmail
			if kind == "phone" {
				ch = notify.ChannelSMS
			}
			d, err := notify.NewDelivery(ctx, s.opt.Keys, ch, string(raw), "policy_change", lang, data)
			if err != nil {
				s.log.Warn("change notice not queued", "subject", t.ID, "err", err)
				return notify.Delivery{}, false
			}
			d.Subject = t.ID
			return d, true
		}
	}
	return notify.Delivery{}, false
}
