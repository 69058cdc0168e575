package manifest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestLoadMinimal(t *testing.T) {
	m, err := Load(minimalPath)
	if err != nil {
		t.Fatal(err)
	}
	want := &Manifest{
		Custos: 1,
		Policy: Policy{
			ID:         "acme-privacy",
			Title:      Text{"zh": "示例隐私政策", "en": "Example Privacy Policy"},
			Version:    "1.0",
			Updated:    "2026-01-01",
			Languages:  []string{"zh-CN", "en"},
			Prevailing: "zh-CN",
			Scope:      Text{"zh": "示例应用", "en": "the Example app"},
			Updates:    Updates{Notice: []string{"website"}, Acceptance: "express_consent"},
		},
		Controllers: []Controller{{
			ID:      "acme",
			Name:    Text{"zh": "示例有限公司", "en": "Example Ltd."},
			Role:    "controller",
			Country: "CN",
		}},
		Contact: Contact{
			Department: Text{"zh": "个人信息保护部", "en": "Personal Information Protection Department"},
			Channels:   []Channel{{ID: "mail", Kind: "email", Value: "privacy@example.com"}},
		},
		Services: []Service{{
			ID:   "account",
			Name: Text{"zh": "账号", "en": "Account"},
			Collects: []Collection{{
				Categories: []string{"basic.phone"},
				Purposes:   []string{"registration"},
				Necessity:  "required",
				Sources:    []string{"user"},
			}},
		}},
		Purposes: []Purpose{{
			ID:    "registration",
			Name:  Text{"zh": "注册账号", "en": "account registration"},
			Basis: "contract",
		}},
		Retention: []Retention{{
			ID:       "account",
			Purposes: []string{"registration"},
			Until:    "account_deletion",
			After:    "delete",
		}},
		Storage: Storage{Locations: []Location{{ID: "cn", Country: "CN"}}},
		Rights: Rights{
			Offered:   []Right{{Right: "access", Channels: []string{"mail"}}},
			Deadlines: []Deadline{{Count: 15, Unit: "working_days"}},
			Fees:      &Fees{Policy: "free"},
		},
		Minors: Minors{Stance: "adults_only", UnknownAge: "adult"},
	}
	if d := cmp.Diff(want, m, cmpopts.IgnoreUnexported(Manifest{})); d != "" {
		t.Errorf("Load(%s) (-want +got):\n%s", minimalPath, d)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(strings.Repeat("#", MaxSize+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.yaml")
	if err := os.WriteFile(broken, []byte("custos: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		path     string
		notExist bool
		problems []Problem
	}{
		{name: "missing file", path: filepath.Join(dir, "nope.yaml"), notExist: true},
		{
			name:     "too large",
			path:     big,
			problems: []Problem{{File: big, Pos: Pos{1, 1}, Message: "manifest larger than 8388608 bytes"}},
		},
		{
			// Problems carry the path they were loaded from.
			name: "problems name the file",
			path: broken,
			problems: []Problem{
				{File: broken, Pos: Pos{1, 1}, Message: `missing required key "contact"`},
				{File: broken, Pos: Pos{1, 1}, Message: `missing required key "controllers"`},
				{File: broken, Pos: Pos{1, 1}, Message: `missing required key "minors"`},
				{File: broken, Pos: Pos{1, 1}, Message: `missing required key "policy"`},
				{File: broken, Pos: Pos{1, 1}, Message: `missing required key "purposes"`},
				{File: broken, Pos: Pos{1, 1}, Message: `missing required key "retention"`},
				{File: broken, Pos: Pos{1, 1}, Message: `missing required key "rights"`},
				{File: broken, Pos: Pos{1, 1}, Message: `missing required key "services"`},
				{File: broken, Pos: Pos{1, 1}, Message: `missing required key "storage"`},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Load(tc.path)
			if m != nil {
				t.Errorf("Load returned a manifest for %s", tc.path)
			}
			if err == nil {
				t.Fatal("Load returned no error")
			}
			if got := errors.Is(err, fs.ErrNotExist); got != tc.notExist {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v, want %v (err: %v)", got, tc.notExist, err)
			}
			var ps Problems
			errors.As(err, &ps)
			if d := cmp.Diff(tc.problems, []Problem(ps)); d != "" {
				t.Errorf("problems (-want +got):\n%s", d)
			}
		})
	}
}

func TestAccessors(t *testing.T) {
	src := edited(t, nil, "categories:\n  - {id: acme.loyalty, parent: financial, sensitive: true, name: {zh: 积分, en: loyalty points}}")
	m, err := Parse("custos.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	builtinPhone := Category{ID: "basic.phone", Parent: "basic", Name: Text{"zh": "手机号码", "zh-Hant": "手機號碼", "en": "mobile phone number"}}
	loyalty := Category{ID: "acme.loyalty", Parent: "financial", Sensitive: true, Name: Text{"zh": "积分", "en": "loyalty points"}}

	categories := []struct {
		id        string
		want      Category
		ok        bool
		sensitive bool
	}{
		{id: "basic.phone", want: builtinPhone, ok: true},
		{id: "acme.loyalty", want: loyalty, ok: true, sensitive: true},
		{id: "identity.id_card", want: Category{ID: "identity.id_card", Parent: "identity", Sensitive: true, Name: Text{"zh": "身份证号码", "zh-Hant": "身份證號碼", "en": "resident ID card number"}}, ok: true, sensitive: true},
		{id: "location.precise", want: Category{ID: "location.precise", Parent: "location", Sensitive: true, Name: Text{"zh": "精准定位信息", "zh-Hant": "精準定位信息", "en": "precise location"}}, ok: true, sensitive: true},
		{id: "basic.phnoe"},
		{id: ""},
	}
	for _, tc := range categories {
		t.Run("Category/"+tc.id, func(t *testing.T) {
			got, ok := m.Category(tc.id)
			if ok != tc.ok {
				t.Errorf("Category(%q) ok = %v, want %v", tc.id, ok, tc.ok)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Category(%q) (-want +got):\n%s", tc.id, d)
			}
			if got := m.Sensitive(tc.id); got != tc.sensitive {
				t.Errorf("Sensitive(%q) = %v, want %v", tc.id, got, tc.sensitive)
			}
		})
	}

	t.Run("Purpose", func(t *testing.T) {
		p, ok := m.Purpose("registration")
		want := Purpose{ID: "registration", Name: Text{"zh": "注册账号", "en": "account registration"}, Basis: "contract"}
		if d := cmp.Diff(want, p); !ok || d != "" {
			t.Errorf("Purpose(registration) = ok %v, (-want +got):\n%s", ok, d)
		}
		if _, ok := m.Purpose("account"); ok {
			t.Errorf("Purpose(account) found a purpose; account is a service")
		}
	})
	t.Run("Service, Channel, Recipient", func(t *testing.T) {
		if s, ok := m.Service("account"); !ok || s.Name["en"] != "Account" {
			t.Errorf("Service(account) = %+v, %v", s, ok)
		}
		if c, ok := m.Channel("mail"); !ok || c.Value != "privacy@example.com" {
			t.Errorf("Channel(mail) = %+v, %v", c, ok)
		}
		if r, ok := m.Recipient("mail"); ok {
			t.Errorf("Recipient(mail) = %+v, want none", r)
		}
	})
	t.Run("unindexed manifest", func(t *testing.T) {
		// A Manifest built in code rather than parsed still sees the built-ins.
		var bare Manifest
		if got, ok := bare.Category("basic.phone"); !ok || cmp.Diff(builtinPhone, got) != "" {
			t.Errorf("Category(basic.phone) on a bare manifest = %+v, %v", got, ok)
		}
	})
}

func TestResolveRef(t *testing.T) {
	grounds := BuiltinVocabulary().RefusalGrounds
	own := Text{"zh": "自定义", "en": "custom"}
	tests := []struct {
		name string
		ref  Ref
		want Text
	}{
		{name: "built-in id", ref: Ref{ID: "trade_secret"}, want: Text{"zh": "涉及商业秘密的", "zh-Hant": "涉及商業秘密的", "en": "it involves trade secrets"}},
		{name: "own text wins", ref: Ref{ID: "trade_secret", Text: own}, want: own},
		{name: "custom entry", ref: Ref{ID: "backup_tapes", Text: own}, want: own},
		{name: "unknown id", ref: Ref{ID: "trade_secrets"}, want: nil},
		{name: "id from another list", ref: Ref{ID: "court_order"}, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, ResolveRef(tc.ref, grounds)); d != "" {
				t.Errorf("ResolveRef(%+v) (-want +got):\n%s", tc.ref, d)
			}
		})
	}
}

func TestBuiltinVocabulary(t *testing.T) {
	b := BuiltinVocabulary()
	if n := len(b.Categories); n <= 60 {
		t.Errorf("%d built-in categories, want more than 60", n)
	}
	byID := map[string]Category{}
	for _, c := range b.Categories {
		if _, dup := byID[c.ID]; dup {
			t.Errorf("category %q defined twice", c.ID)
		}
		byID[c.ID] = c
		if !idRE.MatchString(c.ID) {
			t.Errorf("category id %q is malformed", c.ID)
		}
		if c.Name["zh"] == "" || c.Name["en"] == "" {
			t.Errorf("category %q lacks a zh or en name: %v", c.ID, c.Name)
		}
	}
	for _, c := range b.Categories {
		if c.Parent == "" {
			if strings.Contains(c.ID, ".") {
				t.Errorf("category %q has no parent", c.ID)
			}
			continue
		}
		if _, ok := byID[c.Parent]; !ok {
			t.Errorf("category %q has unknown parent %q", c.ID, c.Parent)
		}
		if want := c.ID[:strings.LastIndex(c.ID, ".")]; c.Parent != want {
			t.Errorf("category %q has parent %q, want %q", c.ID, c.Parent, want)
		}
	}

	var sensitive []string
	for _, id := range []string{"identity", "biometric", "health", "financial", "location.precise", "basic.phone", "location.coarse", "device.id"} {
		if byID[id].Sensitive {
			sensitive = append(sensitive, id)
		}
	}
	if d := cmp.Diff([]string{"identity", "biometric", "health", "financial", "location.precise"}, sensitive); d != "" {
		t.Errorf("sensitive among sampled categories (-want +got):\n%s", d)
	}
	// Every member of the identity, biometric and health classes is sensitive (GB/T 35273 Annex B).
	for _, c := range b.Categories {
		if (c.Parent == "identity" || c.Parent == "biometric" || c.Parent == "health") && !c.Sensitive {
			t.Errorf("category %q is in a sensitive class but not marked sensitive", c.ID)
		}
	}

	lists := []struct {
		name string
		refs []Ref
		min  int
	}{
		{"no_consent_cases", b.NoConsentCases, 10},
		{"refusal_grounds", b.RefusalGrounds, 8},
		{"legal_holds", b.LegalHolds, 3},
		{"sharing_exceptions", b.SharingExceptions, 6},
	}
	for _, l := range lists {
		t.Run(l.name, func(t *testing.T) {
			if len(l.refs) < l.min {
				t.Errorf("%d entries, want at least %d", len(l.refs), l.min)
			}
			seen := map[string]bool{}
			for _, r := range l.refs {
				if seen[r.ID] {
					t.Errorf("id %q listed twice", r.ID)
				}
				seen[r.ID] = true
				if !idRE.MatchString(r.ID) {
					t.Errorf("id %q is malformed", r.ID)
				}
				if r.Text["zh"] == "" || r.Text["en"] == "" {
					t.Errorf("%q lacks zh or en text", r.ID)
				}
			}
		})
	}
}

// A file with thousands of problems reports the first ones in file order and
// says how many more there are, last.
func TestProblemsAreCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("custos: 1\n")
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, "unknown_%d: x\n", i)
	}
	_, err := Parse("flood.yaml", []byte(b.String()))
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Parse: got %v, want Problems", err)
	}
	if len(ps) != maxProblems+1 {
		t.Fatalf("got %d problems, want %d", len(ps), maxProblems+1)
	}
	if got := ps[0].String(); got != "flood.yaml:1:1: missing required key \"contact\"" {
		t.Errorf("first problem = %q", got)
	}
	if last := ps[len(ps)-1]; !strings.HasPrefix(last.Message, "too many problems: ") {
		t.Errorf("last problem = %q, want the cut-off notice", last.Message)
	}
	if !sort.SliceIsSorted(ps[:maxProblems], func(i, j int) bool { return ps[i].Pos.Line < ps[j].Pos.Line }) {
		t.Error("reported problems are not in file order")
	}
}
