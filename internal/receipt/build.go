package receipt

import (
	"crypto/sha1"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/manifest"
)

// Event is the consent ledger event a receipt records.
type Event struct {
	ID            string    // ledger event id
	SubjectID     string    // the application's opaque subject id; never an email or phone number
	Purposes      []string  // purpose ids the event covers (usually one)
	Action        string    // ActionGrant or ActionWithdraw
	At            time.Time // when the choice was made
	Method        string    // banner, app_dialog, api, paper or guardian
	Language      string    // language the notice was shown in: zh-CN or en
	PolicyVersion string    // policy version shown; empty means the manifest's
	NoticeHash    string    // hex SHA-256 of the notice text shown
	Separate      bool      // consent was asked for on its own
}

// Build describes ev as a receipt, taking controllers, services, recipients and
// retention from m. lang chooses the language of names and texts; empty means the
// event's language.
//
// Build reads the clock nowhere: iat is the event's time and the receipt id is derived
// from the event, so issuing a receipt for the same event again gives the same receipt
// (and, Ed25519 being deterministic, the same token).
func Build(m *manifest.Manifest, ev Event, lang string) Receipt {
	if lang == "" {
		lang = ev.Language
	}
	if lang == "" {
		lang = m.DefaultLanguage()
	}
	language := ev.Language
	if language == "" {
		language = lang
	}
	policyVersion := ev.PolicyVersion
	if policyVersion == "" {
		policyVersion = m.Policy.Version
	}
	id := receiptID(m.Policy.ID, ev.ID)
	services, categories := buildServices(m, ev.Purposes, lang)

	r := Receipt{
		Version:          Version,
		ConsentTimestamp: ev.At.Unix(),
		CollectionMethod: ev.Method,
		ConsentReceiptID: id,
		Language:         language,
		PIIPrincipalID:   ev.SubjectID,
		PIIControllers:   controllers(m, lang),
		PolicyURL:        m.Policy.URL,
		Services:         services,
		IssuedAt:         ev.At.Unix(),
		JTI:              id,
		Custos: Extension{
			Event:         ev.ID,
			Action:        ev.Action,
			PolicyVersion: policyVersion,
			NoticeHash:    ev.NoticeHash,
			Separate:      ev.Separate,
			Method:        ev.Method,
		},
	}
	if len(m.Controllers) > 0 {
		r.Jurisdiction = m.Controllers[0].Country
	}
	for _, c := range categories {
		if m.Sensitive(c) {
			r.SPICat = append(r.SPICat, c)
		}
	}
	r.Sensitive = len(r.SPICat) > 0
	return r
}

// controllers lists m's controllers. The manifest has one personal-information
// protection function for the whole policy, so each controller gets its channels.
func controllers(m *manifest.Manifest, lang string) []Controller {
	email := firstChannel(m.Contact.Channels, "email")
	phone := firstChannel(m.Contact.Channels, "phone")
	contactFor := m.Contact.Controller
	if contactFor == "" && len(m.Controllers) > 0 {
		contactFor = m.Controllers[0].ID
	}
	out := []Controller{}
	for _, c := range m.Controllers {
		addr := c.Address.In(lang)
		if addr == "" && c.ID == contactFor {
			addr = m.Contact.Address.In(lang)
		}
		out = append(out, Controller{
			PIIController:    c.Name.In(lang),
			OnBehalf:         c.Role == "processor",
			Contact:          m.Contact.Department.In(lang),
			Address:          Address{StreetAddress: addr, AddressCountry: c.Country},
			Email:            email,
			Phone:            phone,
			PIIControllerURL: c.Website,
		})
	}
	return out
}

func firstChannel(chs []manifest.Channel, kind string) string {
	for _, c := range chs {
		if c.Kind == kind && c.Value != "" {
			return c.Value
		}
	}
	return ""
}

// buildServices returns a service entry for each manifest service that collects for
// one of purposes, then one entry per purpose no service collects for, and the sorted
// category ids collected across all of them.
func buildServices(m *manifest.Manifest, purposes []string, lang string) ([]Service, []string) {
	purposes = unique(purposes)
	out := []Service{}
	covered := map[string]bool{}
	var all []string
	for _, s := range m.Services {
		var ps []Purpose
		for _, pid := range purposes {
			cats, required, ok := collected(s, pid)
			if !ok {
				continue
			}
			covered[pid] = true
			all = append(all, cats...)
			ps = append(ps, purposeEntry(m, pid, cats, required, lang))
		}
		if len(ps) > 0 {
			out = append(out, Service{Service: s.Name.In(lang), Purposes: ps})
		}
	}
	for _, pid := range purposes {
		if covered[pid] {
			continue
		}
		p := purposeEntry(m, pid, []string{}, false, lang)
		out = append(out, Service{Service: p.Purpose, Purposes: []Purpose{p}})
	}
	slices.Sort(all)
	return out, slices.Compact(all)
}

// collected returns the categories s collects for purpose pid, sorted and without
// duplicates, and whether any of those collections is required for the service.
func collected(s manifest.Service, pid string) (cats []string, required, ok bool) {
	for _, c := range s.Collects {
		if !slices.Contains(c.Purposes, pid) {
			continue
		}
		ok = true
		cats = append(cats, c.Categories...)
		required = required || c.Necessity == "required"
	}
	slices.Sort(cats)
	return slices.Compact(cats), required, ok
}

func purposeEntry(m *manifest.Manifest, pid string, cats []string, required bool, lang string) Purpose {
	name, consent := pid, ""
	if p, ok := m.Purpose(pid); ok {
		if n := p.Name.In(lang); n != "" {
			name = n
		}
		consent = consentType(p.Basis)
	}
	var recipients []string
	for _, r := range m.Recipients {
		if slices.Contains(r.Purposes, pid) {
			recipients = append(recipients, r.Name.In(lang))
		}
	}
	return Purpose{
		Purpose:              name,
		PurposeCategory:      []string{pid},
		ConsentType:          consent,
		PIICategory:          cats,
		PrimaryPurpose:       required,
		Termination:          termination(m, pid),
		ThirdPartyDisclosure: len(recipients) > 0,
		ThirdPartyName:       strings.Join(recipients, ", "),
	}
}

// consentType names the authority for the processing. Kantara expects a kind of
// consent; for a purpose that rests on another legal basis, saying "EXPLICIT" would
// misstate it, so the basis itself is given.
func consentType(basis string) string {
	if basis == "consent" {
		return "EXPLICIT"
	}
	return strings.ToUpper(basis)
}

// termination describes the retention rule for purpose pid. A rule that covers the
// whole purpose wins over one limited to some of its categories.
func termination(m *manifest.Manifest, pid string) string {
	var rule *manifest.Retention
	for i, r := range m.Retention {
		if !slices.Contains(r.Purposes, pid) {
			continue
		}
		if len(r.Categories) == 0 {
			rule = &m.Retention[i]
			break
		}
		if rule == nil {
			rule = &m.Retention[i]
		}
	}
	switch {
	case rule == nil:
		return ""
	case rule.Until != "":
		return rule.Until
	case rule.Period != nil:
		unit := rule.Period.Unit
		if rule.Period.Count == 1 {
			unit = strings.TrimSuffix(unit, "s")
		}
		s := fmt.Sprintf("%d %s", rule.Period.Count, unit)
		if rule.From != "" {
			s += " from " + strings.ReplaceAll(rule.From, "_", " ")
		}
		return s
	}
	return ""
}

func unique(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// urlNamespace is the RFC 9562 name-space id for URLs and URNs.
var urlNamespace = [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// receiptID is a name-based (version 5) UUID of the event, so that the same event
// always yields the same receipt id. The policy id keeps ids from two deployments that
// number their events alike apart. SHA-1 here names, it does not protect.
func receiptID(policyID, eventID string) string {
	h := sha1.New()
	h.Write(urlNamespace[:])
	h.Write([]byte("urn:custos:" + policyID + ":event:" + eventID))
	u := h.Sum(nil)[:16]
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
