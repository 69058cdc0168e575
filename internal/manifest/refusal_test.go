package manifest

import (
	"slices"
	"testing"
)

// TestStatutoryRefusalGrounds: every ground a jurisdiction's law gives is a
// built-in ground worded in every language the built-ins speak.
func TestStatutoryRefusalGrounds(t *testing.T) {
	b := builtins()
	if len(b.StatutoryRefusalGrounds) == 0 {
		t.Fatal("no statutory refusal grounds")
	}
	for _, sg := range b.StatutoryRefusalGrounds {
		for _, lang := range []string{"zh", "zh-Hant", "en"} {
			if sg.Law[lang] == "" {
				t.Errorf("%s: law has no %s words", sg.Jurisdiction, lang)
			}
		}
		for _, id := range sg.Grounds {
			i := slices.IndexFunc(b.RefusalGrounds, func(r Ref) bool { return r.ID == id })
			if i < 0 {
				t.Errorf("%s: ground %q is not a built-in refusal ground", sg.Jurisdiction, id)
				continue
			}
			for _, lang := range []string{"zh", "zh-Hant", "en"} {
				if b.RefusalGrounds[i].Text[lang] == "" {
					t.Errorf("ground %q has no %s words", id, lang)
				}
			}
		}
	}
}

// TestRefusalGroundsFor: a request may be refused on the policy's own
// grounds, on the limits the right's conditions state where the right
// applies, and on those of the law of its jurisdiction, not on another
// jurisdiction's.
func TestRefusalGroundsFor(t *testing.T) {
	m := &Manifest{
		Jurisdiction: []JurisdictionRules{{ID: "CN"}, {ID: "EU"}},
		Rights: Rights{
			Offered: []Right{
				{Right: "access"},
				{Right: "portability", Jurisdictions: []string{"EU"}, LimitGrounds: []string{"trade_secret"}},
			},
			RefusalGrounds: []Ref{{ID: "own", Text: Text{"zh": "自有", "en": "our own"}}},
			LimitGrounds:   []string{"impractical"},
		},
	}
	tests := []struct {
		right, jurisdiction, ground string
		ok                          bool
		en                          string
	}{
		{"access", "CN", "own", true, "our own"},
		{"access", "EU", "impractical", true, "the request is highly impractical"},
		{"access", "CN", "trade_secret", true, "it involves trade secrets"},
		{"access", "EU", "manifestly_excessive", true, "the request is manifestly excessive, in particular because of its repetitive character"},
		{"access", "CN", "manifestly_excessive", false, ""},
		{"access", "EU", "trade_secret", false, ""},
		// A jurisdiction the policy does not declare brings no law.
		{"access", "US-CA", "trade_secret", false, ""},
		{"access", "", "trade_secret", false, ""},
		// A right's own stated limit, where the right applies.
		{"portability", "EU", "trade_secret", true, "it involves trade secrets"},
		{"portability", "CN", "manifestly_excessive", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.right+"/"+tt.jurisdiction+"/"+tt.ground, func(t *testing.T) {
			text, ok := m.RefusalGround(tt.right, tt.jurisdiction, tt.ground)
			if ok != tt.ok || text["en"] != tt.en {
				t.Errorf("RefusalGround(%q, %q, %q) = %q, %v; want %q, %v", tt.right, tt.jurisdiction, tt.ground, text["en"], ok, tt.en, tt.ok)
			}
		})
	}
}

// TestRefusalGroundsWithoutJurisdictions: a policy that declares no
// jurisdictions is under the law of its controllers' countries.
func TestRefusalGroundsWithoutJurisdictions(t *testing.T) {
	tests := []struct {
		name      string
		countries []string
		ground    string
		ok        bool
	}{
		{"a CN controller: PIPL and GB/T 35273", []string{"CN"}, "trade_secret", true},
		{"a CN controller: not the GDPR's", []string{"CN"}, "manifestly_excessive", false},
		{"a German controller: the GDPR's", []string{"de"}, "manifestly_excessive", true},
		{"a controller of no stated country", []string{""}, "trade_secret", false},
		{"a country with no built-in law", []string{"US"}, "trade_secret", false},
		{"controllers in CN and FR", []string{"CN", "FR"}, "manifestly_excessive", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Manifest{}
			for _, c := range tt.countries {
				m.Controllers = append(m.Controllers, Controller{ID: "c", Country: c})
			}
			if _, ok := m.RefusalGround("access", "", tt.ground); ok != tt.ok {
				t.Errorf("ground %s: %v, want %v", tt.ground, ok, tt.ok)
			}
		})
	}
}
