package dsr

import (
	"slices"
	"strings"

	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
)

// SDKRecipient prefixes the notice recipient id of an SDK's provider, so
// that it cannot be taken for a recipient id of the manifest.
const SDKRecipient = "sdk:"

// NoticeRecipient is a party that must be told of a deletion, correction
// or restriction concerning a person, because it received their data.
type NoticeRecipient struct {
	ID         string // the manifest's recipient id, or SDKRecipient + the SDK's id
	Name       manifest.Text
	Categories []string // sorted
	Endpoint   string   // webhook; "" for SDK providers, which are told by hand
	Email      string   // notice address when there is no endpoint
}

// NoticeRecipients is the one rule of who is told that a person's data
// must be deleted, corrected or restricted (PIPL art. 47 and GB/T 35273
// §8.4; GDPR art. 19): every party to whom that person's data went, and
// only those.
//
//   - The manifest's recipients and the providers of its SDKs that collect
//     personal information: both receive it.
//   - Not authorities: what they were given they hold under their own law,
//     and are not asked to erase it.
//   - Not recipients of de-identified data, except affiliates: an affiliate
//     shares the group's means to tell who is who, so what it gets remains
//     personal information (PIPL art. 73(3) separates de-identified from
//     anonymised data), and the manifest listing it says the data is shared.
//   - Only if a purpose it receives data for applied to this person. A
//     purpose that rests on consent in jur applied only if the person's
//     ledger holds a grant for it (withdrawn since or not: the data went
//     while it stood); one on any other basis applied to everyone. A
//     recipient that needs separate consent for the provision itself also
//     needs a grant of "recipient:<id>". An SDK's own basis, when the
//     manifest gives one, stands for its purposes'.
//
// granted is the set of ledger keys the person ever granted.
func NoticeRecipients(m *manifest.Manifest, jur string, granted map[string]bool) []NoticeRecipient {
	applied := func(purposes []string, basis string) bool {
		for _, id := range purposes {
			b := basis
			if b == "" {
				p, ok := m.Purpose(id)
				if !ok {
					continue
				}
				b = p.BasisIn(jur)
			}
			if b != "consent" || granted[id] {
				return true
			}
		}
		return false
	}
	var out []NoticeRecipient
	for _, rc := range m.Recipients {
		switch {
		case rc.Kind == "authority", len(rc.Categories) == 0:
			continue
		case rc.Deidentified && rc.Kind != "affiliate":
			continue
		case rc.SeparateConsent && !granted["recipient:"+rc.ID]:
			continue
		case !applied(rc.Purposes, ""):
			continue
		}
		out = append(out, NoticeRecipient{ID: rc.ID, Name: rc.Name, Categories: sorted(rc.Categories), Endpoint: rc.Endpoint, Email: rc.NoticeEmail})
	}
	for _, sdk := range m.SDKs {
		if len(sdk.Collects) == 0 || !applied(sdk.Purposes, sdk.Basis) {
			continue
		}
		out = append(out, NoticeRecipient{ID: SDKRecipient + sdk.ID, Name: sdk.Company, Categories: sorted(sdk.Collects)})
	}
	return out
}

// NoticeRecipientName is how the manifest m names a notice's recipient in
// lang: the recipient's name, or an SDK's provider. A third party named in
// a portability request, or a recipient since removed from the manifest,
// goes by its id.
func NoticeRecipientName(m *manifest.Manifest, id, lang string) string {
	if m != nil {
		if rc, ok := m.Recipient(id); ok {
			return rc.Name.In(lang)
		}
		if sid, ok := strings.CutPrefix(id, SDKRecipient); ok {
			for _, sdk := range m.SDKs {
				if sdk.ID == sid {
					return sdk.Company.In(lang)
				}
			}
		}
	}
	if name, ok := strings.CutPrefix(id, "third_party:"); ok {
		return name
	}
	return id
}

// progress names a task's state for the request's view.
func progress(state string) string {
	switch state {
	case "sent":
		return ProgressSent
	case "acknowledged":
		return ProgressAcknowledged
	case "dead":
		return ProgressGivenUp
	}
	return ProgressPending
}

// propagation counts notices by progress; nil without any.
func propagation(rs []RecipientState) *Propagation {
	if len(rs) == 0 {
		return nil
	}
	var p Propagation
	for _, r := range rs {
		switch r.Progress {
		case ProgressSent:
			p.Sent++
		case ProgressAcknowledged:
			p.Acknowledged++
		case ProgressGivenUp:
			p.GivenUp++
		default:
			p.Pending++
		}
	}
	p.Done = p.Pending == 0 && p.Sent == 0
	return &p
}

// grantedKeys is the set of ledger keys a subject ever granted.
func grantedKeys(events []store.ConsentEvent) map[string]bool {
	out := map[string]bool{}
	for _, e := range events {
		if e.Action == store.ActionGrant {
			out[e.Purpose] = true
		}
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
