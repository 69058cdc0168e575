package center

import (
	"slices"

	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/web"
)

// codeKinds are the identity kinds a person may give to be sent a
// one-time code, with the message channel that carries the code.
var codeKinds = []struct{ kind, channel string }{{"email", "email"}, {"phone", "sms"}}

// identityForm is the identity part of the sign-in and request forms. It
// offers only the kinds a code can reach here: the rights service would
// refuse the others (no_message_channel), and a person should learn that
// before filling in a form, not after.
type identityForm struct {
	// Kinds are the kinds offered, email before phone; empty when no code
	// can be sent at all, and the form is not shown.
	Kinds []string
	// Kind is the kind checked.
	Kind string
	// Notice, when a kind cannot be offered, says which and that the
	// organisation can be reached otherwise, at Contacts.
	Notice   string
	Contacts []contactView
}

// Key is the message key base, or its variant for the one kind offered
// ("signin.intro_phone"), so a form offering only phone numbers does not
// ask for an email address.
func (f identityForm) Key(base string) string {
	if len(f.Kinds) == 1 {
		return base + "_" + f.Kinds[0]
	}
	return base
}

// Offers reports whether the form offers kind.
func (f identityForm) Offers(kind string) bool { return slices.Contains(f.Kinds, kind) }

// identityForm builds the identity fields of a form on page p, with kind
// checked if it is offered (else the first offered). The channels are the
// rights service's (dsr.Service.Delivers), which the sign-in shares;
// without that service no code is sent at all, and the pages say that
// requests and signing in are unavailable.
func (c *center) identityForm(p *web.Page, kind string) identityForm {
	var f identityForm
	if c.opt.Requests == nil {
		return f
	}
	var missing []string
	for _, k := range codeKinds {
		if c.opt.Requests.Delivers(k.channel) {
			f.Kinds = append(f.Kinds, k.kind)
		} else {
			missing = append(missing, k.kind)
		}
	}
	f.Kind = kind
	if !f.Offers(kind) && len(f.Kinds) > 0 {
		f.Kind = f.Kinds[0]
	}
	switch len(missing) {
	case 0:
		return f
	case 1:
		f.Notice = p.T("codes.no_" + missing[0])
	default:
		f.Notice = p.T("codes.none")
	}
	if m := c.manifest(); m != nil {
		f.Contacts = contacts(m, p.Lang)
	}
	return f
}

// contacts are the manifest's contact channels, as a person reads them.
func contacts(m *manifest.Manifest, lang string) []contactView {
	var out []contactView
	for _, ch := range m.Contact.Channels {
		value := ch.Values.In(lang)
		if value == "" {
			value = ch.Value
		}
		out = append(out, contactView{Kind: ch.Kind, Value: value, Label: ch.Label.In(lang)})
	}
	return out
}
