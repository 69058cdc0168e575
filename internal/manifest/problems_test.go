package manifest

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const minimalPath = "testdata/minimal.yaml"

// edited returns testdata/minimal.yaml with replace applied as old, new pairs
// (each old must occur exactly once, so a drifting fixture fails loudly rather
// than silently testing the unedited file) and add appended as whole lines.
func edited(t *testing.T, replace []string, add string) string {
	t.Helper()
	data, err := os.ReadFile(minimalPath)
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	if len(replace)%2 != 0 {
		t.Fatalf("replace needs old, new pairs, got %d strings", len(replace))
	}
	for i := 0; i < len(replace); i += 2 {
		if n := strings.Count(src, replace[i]); n != 1 {
			t.Fatalf("%q occurs %d times in %s, want once", replace[i], n, minimalPath)
		}
		src = strings.Replace(src, replace[i], replace[i+1], 1)
	}
	if add != "" {
		if !strings.HasSuffix(src, "\n") {
			src += "\n"
		}
		src += add + "\n"
	}
	return src
}

// problemLines parses src and returns its problems as "LINE:COL: message".
func problemLines(t *testing.T, src string) []string {
	t.Helper()
	const name = "custos.yaml"
	m, err := Parse(name, []byte(src))
	if err == nil {
		if m == nil {
			t.Fatal("Parse returned neither a manifest nor an error")
		}
		return nil
	}
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Parse error is %T, want Problems: %v", err, err)
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		if p.File != name {
			t.Errorf("problem %d has file %q, want %q", i, p.File, name)
		}
		if want := fmt.Sprintf("%s:%d:%d: %s", name, p.Pos.Line, p.Pos.Col, p.Message); p.String() != want {
			t.Errorf("Problem.String() = %q, want %q", p.String(), want)
		}
		out[i] = fmt.Sprintf("%d:%d: %s", p.Pos.Line, p.Pos.Col, p.Message)
	}
	return out
}

func TestMinimalHasNoProblems(t *testing.T) {
	if got := problemLines(t, edited(t, nil, "")); got != nil {
		t.Fatalf("%s: %v", minimalPath, got)
	}
}

// crossBorder is a cross-border transfer appended to minimal.yaml's storage (line 43).
func crossBorder(transfer string) []string {
	return []string{"    - {id: cn, country: CN}\n", "    - {id: cn, country: CN}\n  cross_border:\n    - " + transfer + "\n"}
}

func TestProblems(t *testing.T) {
	tests := []struct {
		name    string
		replace []string // old, new pairs applied to minimal.yaml
		add     string   // lines appended to minimal.yaml
		raw     bool     // the input is add alone
		want    []string
	}{
		// The file as a whole.
		{
			name:    "YAML syntax error",
			replace: []string{`  version: "1.0"`, `  version: a: b`},
			want:    []string{"5:3: YAML syntax: mapping values are not allowed in this context"},
		},
		{
			name: "empty file",
			raw:  true,
			want: []string{"1:1: empty manifest"},
		},
		{
			name: "only a comment",
			raw:  true,
			add:  "# custos: 1",
			want: []string{"1:1: empty manifest"},
		},
		{
			name: "more than one YAML document",
			add:  "---\ncustos: 1",
			want: []string{"51:1: more than one YAML document"},
		},
		{
			name: "a list at the top",
			raw:  true,
			add:  "- custos: 1",
			want: []string{"1:1: want a mapping, got a list"},
		},
		{
			name:    "unsupported format",
			replace: []string{"custos: 1", "custos: 2"},
			want:    []string{"1:9: unsupported manifest format 2: this build reads format 1"},
		},

		// Regressions: each of these was once accepted or misreported.
		{name: "null document", raw: true, add: "---", want: []string{"1:1: empty manifest"}},
		{name: "tilde document", raw: true, add: "~", want: []string{"1:1: empty manifest"}},
		{name: "format 0", replace: []string{"custos: 1", "custos: 0"}, want: []string{"1:9: unsupported manifest format 0: this build reads format 1"}},
		{name: "required section with no value", replace: []string{"minors:\n  stance: adults_only\n  unknown_age: adult", "minors:"}, want: []string{`48:1: required key "minors" has no value`}},
		{name: "empty text", replace: []string{"title: {zh: 示例隐私政策, en: Example Privacy Policy}", "title: {}"}, want: []string{"4:10: missing en text", "4:10: missing zh text"}},
		{name: "null inside a text", replace: []string{"title: {zh: 示例隐私政策,", "title: {zh: ~,"}, want: []string{"4:10: missing zh text"}},
		{name: "alias inside a text", replace: []string{"title: {zh: 示例隐私政策, en: Example Privacy Policy}", "title: {zh: &t 示例, en: *t}"}, want: nil},
		{name: "broken second document", add: "---\nfoo: [", want: []string{"52:1: YAML syntax: did not find expected node content"}},
		{name: "a quoted count is reported once", replace: []string{"{count: 15, unit: working_days}", `{count: "15", unit: working_days}`}, want: []string{`46:15: want an integer, got string "15"`}},
		{name: "singular unit", replace: []string{"{count: 15, unit: working_days}", "{count: 0, unit: working_days}"}, want: []string{"46:15: deadline must be at least 1 working day, got 0"}},
		{name: "unknown statements section points at the key", add: "statements:\n  cookie: [{zh: 二, en: two}]", want: []string{`52:3: unknown section "cookie": want one of intro, collection, cookies, sharing, security, storage, rights, minors, updates, contact, complaints`}},
		{name: "overlapping deadlines", replace: []string{"    - {count: 15, unit: working_days}", "    - {count: 15, unit: working_days}\n    - {count: 20, unit: working_days}"}, want: []string{"47:7: this deadline and the one on line 46 both set the deadline for every right in every jurisdiction"}},
		{name: "empty required list", replace: []string{"  deadlines:\n    - {count: 15, unit: working_days}", "  deadlines: []"}, want: []string{`44:7: right "access" has no response deadline`, `45:14: "deadlines" needs at least one entry`}},

		// Keys.
		{
			name:    "unknown key with did-you-mean",
			replace: []string{"  updated: 2026-01-01\n", "  updated: 2026-01-01\n  efective: 2026-01-01\n"},
			want:    []string{`7:3: unknown key "efective" (did you mean "effective"?)`},
		},
		{
			name:    "misspelt required key",
			replace: []string{`  version: "1.0"`, `  verison: "1.0"`},
			want: []string{
				`3:3: missing required key "version"`,
				`5:3: unknown key "verison" (did you mean "version"?)`,
			},
		},
		{
			name: "unknown key without suggestion",
			add:  "frobnicate: true",
			want: []string{`51:1: unknown key "frobnicate"`},
		},
		{
			name:    "duplicate key",
			replace: []string{"  id: acme-privacy\n", "  id: acme-privacy\n  id: acme-privacy-2\n"},
			want:    []string{`4:3: duplicate key "id"`},
		},
		{
			name:    "missing required key",
			replace: []string{"    basis: contract\n", ""},
			want:    []string{`31:5: missing required key "basis"`},
		},
		{
			name:    "missing required section",
			replace: []string{"minors:\n  stance: adults_only\n  unknown_age: adult\n", ""},
			want:    []string{`1:1: missing required key "minors"`},
		},

		// Types.
		{
			name:    "list where a mapping is wanted",
			replace: []string{"fees: {policy: free}", "fees: [free]"},
			want:    []string{"47:9: want a mapping, got a list"},
		},
		{
			name:    "mapping where a list is wanted",
			replace: []string{"  offered:\n    - {right: access, channels: [mail]}\n", "  offered: {right: access, channels: [mail]}\n"},
			want:    []string{"43:12: want a list, got a mapping"},
		},
		{
			name:    "string where a list is wanted",
			replace: []string{"languages: [zh-CN, en]", "languages: zh-CN"},
			want:    []string{`7:14: want a list, got string "zh-CN"`},
		},
		{
			name:    "string where an integer is wanted",
			replace: []string{"custos: 1", "custos: one"},
			want:    []string{`1:9: want an integer, got string "one"`},
		},
		{
			name:    "YAML 1.1 yes where a bool is wanted",
			replace: []string{"    acceptance: express_consent\n", "    acceptance: express_consent\n    keep_archive: yes\n"},
			want:    []string{`13:19: want true or false, got string "yes"`},
		},
		{
			name:    "bad enum value",
			replace: []string{"necessity: required", "necessity: mandatory"},
			want:    []string{`28:20: unknown value "mandatory": want one of required, optional`},
		},
		{
			name:    "bad enum value in a list",
			replace: []string{"sources: [user]", "sources: [user, app]"},
			want:    []string{`29:25: unknown value "app": want one of user, device, automatic, third_party, social_login, other_users, public, credit_agency, partner`},
		},
		{
			name:    "malformed date",
			replace: []string{"updated: 2026-01-01", "updated: 2026-1-1"},
			want:    []string{`6:12: invalid date "2026-1-1": want YYYY-MM-DD`},
		},
		{
			name:    "impossible date",
			replace: []string{"updated: 2026-01-01", "updated: 2026-02-30"},
			want:    []string{`6:12: invalid date "2026-02-30": no such day`},
		},

		// Text.
		{
			name:    "Text given as a string",
			replace: []string{"title: {zh: 示例隐私政策, en: Example Privacy Policy}", "title: Example Privacy Policy"},
			want:    []string{`4:10: want text in each language ({zh: …, en: …}), got string "Example Privacy Policy"`},
		},
		{
			name:    "Text missing a language",
			replace: []string{"scope: {zh: 示例应用, en: the Example app}", "scope: {zh: 示例应用}"},
			want:    []string{"9:10: missing en text"},
		},
		{
			name:    "unknown Text language",
			replace: []string{"scope: {zh: 示例应用, en: the Example app}", "scope: {zh: 示例应用, en: the Example app, fr: l'appli}"},
			want:    []string{`9:42: unknown language "fr": want zh, zh-Hant or en`},
		},
		{
			name:    "duplicate Text language",
			replace: []string{"scope: {zh: 示例应用, en: the Example app}", "scope: {zh: 示例应用, en: the Example app, zh: 又一个}"},
			want:    []string{`9:42: duplicate key "zh"`},
		},

		// Ids and references.
		{
			name:    "duplicate id",
			replace: []string{"value: privacy@example.com}\n", "value: privacy@example.com}\n    - {id: mail, kind: phone, value: \"+86 10 1234 5678\"}\n"},
			want:    []string{`22:12: duplicate channel id "mail"`},
		},
		{
			name:    "malformed id",
			replace: []string{"  - id: acme\n", "  - id: Acme\n"},
			want:    []string{`14:9: invalid controller id "Acme": use lower-case letters, digits, '_', '-' and '.', starting with a letter`},
		},
		{
			name:    "dangling purpose reference",
			replace: []string{"        purposes: [registration]", "        purposes: [registration, marketing]"},
			want:    []string{`27:34: purpose "marketing" is not defined`},
		},
		{
			name:    "dangling channel reference",
			replace: []string{"channels: [mail]", "channels: [mail, phone]"},
			want:    []string{`44:40: channel "phone" is not defined`},
		},
		{
			name:    "cancellation term on an undefined channel",
			replace: []string{"    - {right: access, channels: [mail]}\n", "    - {right: access, channels: [mail]}\n    - {right: cancel_account, channels: [mail]}\n  account_cancellation:\n    terms:\n" + "      - {channel: post, count: 30, unit: working_days}\n"},
			want:    []string{`48:19: channel "post" is not defined`},
		},
		{
			name:    "cancellation term at once with a unit, and one without",
			replace: []string{"    - {right: access, channels: [mail]}\n", "    - {right: access, channels: [mail]}\n    - {right: cancel_account, channels: [mail]}\n  account_cancellation:\n    terms:\n" + "      - {channel: mail, unit: working_days}\n      - {channel: mail, count: 30}\n"},
			want: []string{
				`48:31: a cancellation that takes effect at once (count 0) has no unit`,
				`49:19: channel "mail" has two terms`,
				`49:32: count 30 needs a unit`,
			},
		},
		{
			name:    "cancellation term for self-service without a path",
			replace: []string{"    - {right: access, channels: [mail]}\n", "    - {right: access, channels: [mail]}\n    - {right: cancel_account, channels: [mail]}\n  account_cancellation:\n    terms:\n" + "      - {channel: self_service}\n"},
			want:    []string{`48:19: a term for self_service needs account_cancellation.self_service, the path the user takes`},
		},
		{
			name:    "a right's limit that is not a built-in ground",
			replace: []string{"    - {right: access, channels: [mail]}\n", "    - {right: access, channels: [mail], limit_grounds: [trade_secrets]}\n"},
			want:    []string{`44:57: unknown refusal ground "trade_secrets": limit_grounds name built-in grounds`},
		},
		{
			name:    "unknown category with suggestion",
			replace: []string{"[basic.phone]", "[basic.phnoe]"},
			want:    []string{`26:22: unknown category "basic.phnoe" (did you mean "basic.phone"?)`},
		},
		{
			name:    "unknown category without suggestion",
			replace: []string{"[basic.phone]", "[loyalty.points]"},
			want:    []string{`26:22: unknown category "loyalty.points": not built in and not defined under categories`},
		},
		{
			name: "category redefining a built-in id",
			add:  "categories:\n  - {id: basic.phone, name: {zh: 电话, en: phone}}",
			want: []string{`52:10: category "basic.phone" is built in; give your category a new id and set parent: basic.phone`},
		},
		{
			name:    "Ref mapping without id",
			replace: []string{"  fees: {policy: free}\n", "  fees: {policy: free}\n  refusal_grounds: [{text: {zh: 其他, en: other}}]\n"},
			want:    []string{`48:21: missing required key "id"`},
		},
		{
			name:    "unknown refusal grounds",
			replace: []string{"  fees: {policy: free}\n", "  fees: {policy: free}\n  refusal_grounds: [bad_faith, trade_secrets, moon_phase]\n"},
			want: []string{
				`48:32: unknown refusal ground "trade_secrets" (did you mean "trade_secret"?); a custom one needs text`,
				`48:47: unknown refusal ground "moon_phase": use a built-in id or give text`,
			},
		},

		// Collection and purposes.
		{
			name: "sensitive category on consent without separate consent",
			replace: []string{
				"[basic.phone]", "[basic.phone, identity.id_card]",
				"basis: contract", "basis: consent",
			},
			want: []string{`26:35: sensitive category "identity.id_card" is collected for purpose "registration" on consent without separate consent: set separate_consent or use another basis`},
		},
		{
			name:    "optional collection without if_refused",
			replace: []string{"necessity: required", "necessity: optional"},
			want:    []string{"26:9: optional collection must say what refusing it costs (if_refused)"},
		},
		{
			name:    "third_party source without source_detail",
			replace: []string{"sources: [user]", "sources: [user, third_party]"},
			want:    []string{`29:18: source "third_party" needs source_detail naming it`},
		},
		{
			name:    "purpose with no retention rule",
			replace: []string{"    purposes: [registration]\n    until:", "    categories: [basic.phone]\n    until:"},
			want:    []string{`31:5: purpose "registration" has no retention rule`},
		},
		{
			name: "purpose never used",
			replace: []string{
				"    basis: contract\n", "    basis: contract\n  - {id: analytics, name: {zh: 分析, en: analytics}, basis: contract}\n",
				"    purposes: [registration]\n    until:", "    purposes: [registration, analytics]\n    until:",
			},
			want: []string{`34:5: purpose "analytics" is never used by a service, SDK, cookie or recipient`},
		},
		{
			name:    "legitimate_interests without legitimate_interest",
			replace: []string{"basis: contract", "basis: legitimate_interests"},
			want:    []string{`33:12: purpose "registration" rests on legitimate interests but does not state them (legitimate_interest)`, `33:12: purpose "registration" rests on legitimate interests, which PIPL art. 13 does not know, and the manifest applies in CN: give its basis there (bases: {CN: …}) and keep legitimate interests for the jurisdictions that have them`},
		},

		{
			name:    "automation without automated_decision",
			replace: []string{"    basis: contract\n", "    basis: contract\n    automation: {logic: {zh: 规则, en: rules}, significance: {zh: 影响, en: effect}, human_review: {zh: 人工复核, en: ask us}}\n"},
			want:    []string{`34:17: purpose "registration" declares how its automated decisions work but not that it makes any (automated_decision: true)`},
		},
		{
			name:    "automation without its logic",
			replace: []string{"    basis: contract\n", "    basis: contract\n    automated_decision: true\n    automation: {significance: {zh: 影响, en: effect}, human_review: {zh: 人工复核, en: ask us}}\n"},
			want:    []string{`35:17: missing required key "logic"`},
		},
		{
			name:    "automation declared",
			replace: []string{"    basis: contract\n", "    basis: contract\n    automated_decision: true\n    automation: {logic: {zh: 规则, en: rules}, significance: {zh: 影响, en: effect}, human_review: {zh: 人工复核, en: ask us}}\n"},
		},

		// Storage and cross-border transfers.
		{
			name:    "cross-border transfer missing mechanism",
			replace: crossBorder("{id: to-sg, to: [SG], categories: [basic.phone], purposes: [registration]}"),
			want:    []string{`43:7: missing required key "mechanism"`},
		},
		{
			name: "cross-border transfer for a consent purpose without separate consent",
			replace: append(crossBorder("{id: to-sg, to: [SG], categories: [basic.phone], purposes: [registration], mechanism: standard_contract}"),
				"basis: contract", "basis: consent"),
			want: []string{`43:7: cross-border transfer "to-sg" serves consent-based purpose "registration": it needs separate consent (separate_consent: true)`},
		},
		{
			name:    "cross-border transfer resting on consent that is not separate",
			replace: crossBorder("{id: to-sg, to: [SG], categories: [basic.phone], purposes: [registration], mechanism: consent}"),
			want:    []string{`43:93: cross-border transfer "to-sg" rests on consent, which must be separate`},
		},
		{
			name:    "transfer to the same country",
			replace: crossBorder("{id: to-cn, to: [CN], categories: [basic.phone], purposes: [registration], mechanism: standard_contract}"),
			want:    []string{"43:24: a transfer from CN to CN does not cross a border"},
		},
		{
			name:    "transfer thresholds out of order",
			replace: []string{"    - {id: cn, country: CN}\n", "    - {id: cn, country: CN}\n  transfer_thresholds: {contract_from: 5000, assessment_above: 400}\n"},
			want:    []string{"42:64: assessment_above (400) is below contract_from (5000)"},
		},
		{
			name:    "a negative transfer threshold",
			replace: []string{"    - {id: cn, country: CN}\n", "    - {id: cn, country: CN}\n  transfer_thresholds: {sensitive_assessment_from: -1}\n"},
			want:    []string{"42:52: a number of people cannot be negative"},
		},

		// Rights.
		{
			name:    "deadline of 200 calendar days",
			replace: []string{"{count: 15, unit: working_days}", "{count: 200, unit: calendar_days}"},
			want:    []string{"46:15: deadline of 200 calendar days is longer than any law allows (at most 90)"},
		},
		{
			name:    "2 months extended by 2 months",
			replace: []string{"{count: 15, unit: working_days}", "{count: 2, unit: months, extension: {count: 2, unit: months}}"},
			want:    []string{"46:51: a deadline of 2 months extended by 2 exceeds three months in all"},
		},
		{
			name:    "right with no deadline",
			replace: []string{"{count: 15, unit: working_days}", "{rights: [deletion], count: 15, unit: working_days}"},
			want:    []string{`44:7: right "access" has no response deadline`},
		},
		{
			name:    "right with no way to exercise it",
			replace: []string{"{right: access, channels: [mail]}", "{right: access}"},
			want:    []string{`44:7: right "access" says nowhere how to exercise it (self_service, channels or how)`},
		},
		{
			name:    "repeated count without window",
			replace: []string{"fees: {policy: free}", "fees: {policy: free_except_repeated, repeated_count: 3}"},
			want:    []string{"47:9: repeated_window and repeated_count go together: give both or neither"},
		},

		// Policy and minors.
		{
			name:    "prevailing language not among languages",
			replace: []string{"languages: [zh-CN, en]", "languages: [zh-CN]", "prevailing_language: zh-CN", "prevailing_language: en"},
			want:    []string{`8:24: prevailing language "en" is not one of the policy's languages`},
		},
		{
			name:    "guardian_consent without age_threshold",
			replace: []string{"  stance: adults_only\n", "  stance: guardian_consent\n  guardian_consent: true\n"},
			want:    []string{"49:3: guardian consent needs age_threshold"},
		},
		{
			name:    "age threshold 30",
			replace: []string{"  stance: adults_only\n", "  stance: not_directed\n  age_threshold: 30\n"},
			want:    []string{"50:18: age threshold 30 is not a legal age of consent (expected 6 to 18)"},
		},
		{
			name:    "unknown age rule missing",
			replace: []string{"  unknown_age: adult\n", ""},
			want:    []string{"49:3: minors.unknown_age is required with stance adults_only: say how a person whose age is not known is treated (adult, minor or ask); the policy states it"},
		},
		{
			name:    "delete_if_discovered without an age rule",
			replace: []string{"  stance: adults_only\n", "  stance: not_directed\n  delete_if_discovered: true\n"},
			want:    []string{"50:25: delete_if_discovered needs a stance with an age threshold (guardian_consent or adults_only): nothing else tells who is a minor"},
		},
		{
			name:    "minors rule for an unknown jurisdiction",
			replace: []string{"  unknown_age: adult\n", "  unknown_age: adult\n  jurisdictions:\n    - {jurisdiction: EU, age_threshold: 16}\n"},
			want:    []string{`52:22: unknown jurisdiction "EU": the manifest declares no jurisdictions (add it under jurisdictions)`},
		},

		// Legal bases per jurisdiction.
		{
			name:    "legitimate interests where PIPL applies",
			replace: []string{"    basis: contract\n", "    basis: legitimate_interests\n    legitimate_interest: {zh: 改进服务, en: improving the service}\n"},
			want:    []string{`33:12: purpose "registration" rests on legitimate interests, which PIPL art. 13 does not know, and the manifest applies in CN: give its basis there (bases: {CN: …}) and keep legitimate interests for the jurisdictions that have them`},
		},
		{
			name:    "basis for a jurisdiction the manifest does not declare",
			replace: []string{"    basis: contract\n", "    basis: contract\n    bases: {EU: consent}\n"},
			want:    []string{`34:13: purpose "registration" gives a basis for jurisdiction "EU", but the manifest declares no jurisdictions (add it under jurisdictions)`},
		},
		{
			name:    "basis for an unknown jurisdiction",
			replace: []string{"    basis: contract\n", "    basis: contract\n    bases: {US: consent}\n"},
			add:     "jurisdictions:\n  - {id: CN, name: {zh: 中国, en: China}}\n  - {id: EU, name: {zh: 欧盟, en: the EU}}\n",
			want:    []string{`34:13: purpose "registration" gives a basis for unknown jurisdiction "US": want one of CN, EU`},
		},
		{
			name:    "legitimate interests named for CN",
			replace: []string{"    basis: contract\n", "    basis: contract\n    bases: {CN: legitimate_interests, EU: legitimate_interests}\n    legitimate_interest: {zh: 改进服务, en: improving the service}\n"},
			add:     "jurisdictions:\n  - {id: CN, name: {zh: 中国, en: China}}\n  - {id: EU, name: {zh: 欧盟, en: the EU}}\n",
			want:    []string{`34:17: purpose "registration" cannot rest on legitimate interests in CN: PIPL art. 13 does not know that basis`},
		},
		{
			name:    "legitimate interests for the EU only",
			replace: []string{"    basis: contract\n", "    basis: contract\n    bases: {EU: legitimate_interests}\n    legitimate_interest: {zh: 改进服务, en: improving the service}\n"},
			add:     "jurisdictions:\n  - {id: CN, name: {zh: 中国, en: China}}\n  - {id: EU, name: {zh: 欧盟, en: the EU}}\n",
			want:    nil,
		},
		{
			name:    "legitimate interests without the interest",
			replace: []string{"    basis: contract\n", "    basis: contract\n    bases: {EU: legitimate_interests}\n"},
			add:     "jurisdictions:\n  - {id: CN, name: {zh: 中国, en: China}}\n  - {id: EU, name: {zh: 欧盟, en: the EU}}\n",
			want:    []string{`33:12: purpose "registration" rests on legitimate interests but does not state them (legitimate_interest)`},
		},

		// Browser signals.
		{
			name: "honoured signal without purposes",
			add:  "signals:\n  - {signal: gpc, stance: honour}\n",
			want: []string{`52:27: an honoured gpc signal must list the purposes it refuses (refuses)`},
		},
		{
			name: "signal refusing a contract purpose",
			add:  "signals:\n  - {signal: gpc, stance: honour, refuses: [registration]}\n",
			want: []string{`52:45: purpose "registration" rests on contract: a browser signal can only refuse processing on consent (withdrawn) or on legitimate interests or a public task (objected to)`},
		},
		{
			name: "ignored signal refusing something",
			add:  "signals:\n  - {signal: dnt, stance: ignore, refuses: [registration]}\n",
			want: []string{`52:44: a dnt signal that is not honoured refuses nothing: remove refuses or set stance: honour`, `52:45: purpose "registration" rests on contract: a browser signal can only refuse processing on consent (withdrawn) or on legitimate interests or a public task (objected to)`},
		},
		{
			name: "signal described twice",
			add:  "signals:\n  - {signal: dnt, stance: ignore}\n  - {signal: dnt, stance: ignore}\n",
			want: []string{`53:14: signal "dnt" is described twice`},
		},
		{
			name: "browser-specific signal without a note",
			add:  "signals:\n  - {signal: dnt, stance: browser_specific}\n",
			want: []string{`52:5: a browser-specific stance needs a note explaining it`},
		},

		// The vault.
		{
			name: "vault field read in clear for its purpose",
			add:  "vault:\n  - field: mobile_number\n    category: basic.phone\n    mask: phone\n    clear: [{purpose: registration, roles: [service, operator]}]\n    retention: {zh: 注销账号后删除, en: deleted with the account}\n",
			want: nil,
		},
		{
			name: "vault field of an unknown category",
			add:  "vault:\n  - {field: mobile_number, category: basic.phon, mask: phone}\n",
			want: []string{`52:38: unknown category "basic.phon" (did you mean "basic.phone"?)`},
		},
		{
			name: "vault field of a category no service collects",
			add:  "vault:\n  - {field: email, category: basic.email, mask: email}\n",
			want: []string{`52:30: category "basic.email" is collected by no service: the vault keeps only what services[].collects declares`},
		},
		{
			name: "vault field read for a purpose its category is not collected for",
			replace: []string{
				"        sources: [user]\n", "        sources: [user]\n      - {categories: [basic.email], purposes: [support], necessity: required, sources: [user]}\n",
				"    basis: contract\n", "    basis: contract\n  - {id: support, name: {zh: 客服, en: support}, basis: contract}\n",
				"    purposes: [registration]\n    until", "    purposes: [registration, support]\n    until",
			},
			add:  "vault:\n  - field: mobile_number\n    category: basic.phone\n    mask: phone\n    clear:\n      - {purpose: support, roles: [service]}\n      - {purpose: marketing, roles: [service]}\n",
			want: []string{`58:19: category "basic.phone" is not collected for purpose "support": want one of registration`, `59:19: purpose "marketing" is not defined`},
		},
		{
			name: "vault field read in clear by an unknown role",
			add:  "vault:\n  - field: mobile_number\n    category: basic.phone\n    mask: phone\n    clear: [{purpose: registration, roles: [auditor]}]\n",
			want: []string{`55:45: unknown value "auditor": want one of admin, operator, service`},
		},
		{
			name: "vault field declared twice, badly named, with an unknown mask",
			add:  "vault:\n  - {field: mobile_number, category: basic.phone, mask: phone}\n  - {field: mobile_number, category: basic.phone, mask: stars}\n  - {field: Mobile-Number, category: basic.phone, mask: last4}\n",
			want: []string{`53:13: vault field "mobile_number" is declared twice`, `53:57: unknown value "stars": want one of phone, email, id_number, name, last4, hidden`, `54:13: invalid vault field "Mobile-Number": use 1 to 64 lower-case letters, digits and _`},
		},
		{
			name: "vault purpose listed twice",
			add:  "vault:\n  - field: mobile_number\n    category: basic.phone\n    mask: phone\n    clear:\n      - {purpose: registration, roles: [service]}\n      - {purpose: registration, roles: [admin]}\n",
			want: []string{`57:19: purpose "registration" is listed twice: give all its roles in one entry`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.add
			if !tc.raw {
				src = edited(t, tc.replace, tc.add)
			}
			got := problemLines(t, src)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("problems (-want +got):\n%s\ninput:\n%s", d, src)
			}
		})
	}
}
