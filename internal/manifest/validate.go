package manifest

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	idRE      = regexp.MustCompile(`^[a-z][a-z0-9_.-]*$`)
	countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
	jurRE     = regexp.MustCompile(`^[A-Z]{2}(-[A-Z0-9]{1,3})?$`)
	syntaxRE  = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
)

func syntaxProblem(name string, err error) Problem {
	if m := syntaxRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problem{File: name, Pos: Pos{line, 1}, Message: "YAML syntax: " + m[2]}
	}
	return Problem{File: name, Pos: Pos{1, 1}, Message: "YAML syntax: " + strings.TrimPrefix(err.Error(), "yaml: ")}
}

// sections that statements may be attached to.
var statementSections = []string{"intro", "collection", "cookies", "sharing", "security", "storage", "rights", "minors", "updates", "contact", "complaints"}

// validator checks what the decoder cannot: references, cross-field rules and the law.
type validator struct {
	m        *Manifest
	pos      positions
	failed   map[string]bool // paths the decoder already reported
	file     string
	problems Problems

	langs      []string            // Text keys required ("zh", "en")
	categories map[string]Category // built-in and manifest categories
	ids        map[string]map[string]bool
}

func (v *validator) errorf(path, format string, args ...any) {
	if v.failed[path] {
		return // one report per value: the decoder's
	}
	v.problems = append(v.problems, Problem{File: v.file, Pos: v.pos.lookup(path), Message: fmt.Sprintf(format, args...)})
}

func (v *validator) run() {
	m := v.m
	if _, present := v.pos["custos"]; present && !v.failed["custos"] && m.Custos != Format {
		v.errorf("custos", "unsupported manifest format %d: this build reads format %d", m.Custos, Format)
	}
	for _, l := range m.Policy.Languages {
		v.langs = append(v.langs, TextKey(l))
	}
	v.ids = map[string]map[string]bool{}
	v.collectIDs()
	v.checkTexts()
	v.checkPolicy()
	v.checkOrganisation()
	v.checkCategories()
	v.checkServices()
	v.checkPurposes()
	v.checkCookies()
	v.checkSignals()
	v.checkSDKs()
	v.checkRecipients()
	v.checkSharing()
	v.checkStorage()
	v.checkRetention()
	v.checkVault()
	v.checkIncident()
	v.checkRights()
	v.checkMinors()
	v.checkAssessments()
	v.checkExtras()
}

// collectIDs registers every id by kind and reports duplicates and malformed ids.
func (v *validator) collectIDs() {
	m := v.m
	reg := func(kind, path, id string) {
		if id == "" {
			return
		}
		if !idRE.MatchString(id) && kind != "jurisdiction" {
			v.errorf(path, "invalid %s id %q: use lower-case letters, digits, '_', '-' and '.', starting with a letter", kind, id)
		}
		if v.ids[kind] == nil {
			v.ids[kind] = map[string]bool{}
		}
		if v.ids[kind][id] {
			v.errorf(path, "duplicate %s id %q", kind, id)
		}
		v.ids[kind][id] = true
	}
	for i, c := range m.Controllers {
		reg("controller", fmt.Sprintf("controllers[%d].id", i), c.ID)
		for j, a := range c.Affiliates {
			reg("affiliate", fmt.Sprintf("controllers[%d].affiliates[%d].id", i, j), a.ID)
		}
	}
	for i, c := range m.Contact.Channels {
		reg("channel", fmt.Sprintf("contact.channels[%d].id", i), c.ID)
	}
	for i, s := range m.Subjects {
		reg("subject", fmt.Sprintf("subjects[%d].id", i), s.ID)
	}
	for i, s := range m.Services {
		reg("service", fmt.Sprintf("services[%d].id", i), s.ID)
	}
	for i, p := range m.Purposes {
		reg("purpose", fmt.Sprintf("purposes[%d].id", i), p.ID)
	}
	for i, s := range m.SDKs {
		reg("sdk", fmt.Sprintf("sdks[%d].id", i), s.ID)
	}
	for i, r := range m.Recipients {
		reg("recipient", fmt.Sprintf("recipients[%d].id", i), r.ID)
	}
	if m.Cookies != nil {
		for i, c := range m.Cookies.Items {
			reg("cookie", fmt.Sprintf("cookies.items[%d].id", i), c.ID)
		}
	}
	for i, l := range m.Storage.Locations {
		reg("location", fmt.Sprintf("storage.locations[%d].id", i), l.ID)
	}
	for i, c := range m.Storage.CrossBorder {
		reg("transfer", fmt.Sprintf("storage.cross_border[%d].id", i), c.ID)
	}
	for i, r := range m.Retention {
		reg("retention rule", fmt.Sprintf("retention[%d].id", i), r.ID)
	}
	for i, a := range m.Assessments {
		reg("assessment", fmt.Sprintf("assessments[%d].id", i), a.ID)
	}
	for i, s := range m.Sections {
		reg("section", fmt.Sprintf("extra_sections[%d].id", i), s.ID)
	}
	for i, c := range m.Security.Certifications {
		reg("certification", fmt.Sprintf("security.certifications[%d].id", i), c.ID)
	}
	for i, j := range m.Jurisdiction {
		if !jurRE.MatchString(j.ID) {
			v.errorf(fmt.Sprintf("jurisdictions[%d].id", i), "invalid jurisdiction id %q: use an ISO 3166 code such as CN, EU or US-CA", j.ID)
		}
		reg("jurisdiction", fmt.Sprintf("jurisdictions[%d].id", i), j.ID)
	}
	v.categories = map[string]Category{}
	for _, c := range builtins().Categories {
		v.categories[c.ID] = c
	}
	for i, c := range m.Categories {
		path := fmt.Sprintf("categories[%d].id", i)
		if _, builtin := v.categories[c.ID]; builtin {
			v.errorf(path, "category %q is built in; give your category a new id and set parent: %s", c.ID, c.ID)
			continue
		}
		reg("category", path, c.ID)
		v.categories[c.ID] = c
	}
}

// ref reports a reference to an id of kind that is not defined.
func (v *validator) ref(kind, path, id string) bool {
	if id == "" {
		return false
	}
	if kind == "category" {
		if _, ok := v.categories[id]; ok {
			return true
		}
		if s := closest(id, keys(v.categories)); s != "" {
			v.errorf(path, "unknown category %q (did you mean %q?)", id, s)
		} else {
			v.errorf(path, "unknown category %q: not built in and not defined under categories", id)
		}
		return false
	}
	if v.ids[kind][id] {
		return true
	}
	v.errorf(path, "%s %q is not defined", kind, id)
	return false
}

func (v *validator) refs(kind, path string, ids []string) {
	seen := map[string]bool{}
	for i, id := range ids {
		p := fmt.Sprintf("%s[%d]", path, i)
		if seen[id] {
			v.errorf(p, "%s %q listed twice", kind, id)
			continue
		}
		seen[id] = true
		v.ref(kind, p, id)
	}
}

// builtinRefs checks refs against a built-in list; custom entries need text.
func (v *validator) builtinRefs(kind, path string, refs []Ref, list []Ref) {
	known := map[string]bool{}
	for _, r := range list {
		known[r.ID] = true
	}
	seen := map[string]bool{}
	for i, r := range refs {
		p := fmt.Sprintf("%s[%d]", path, i)
		if seen[r.ID] {
			v.errorf(p, "%s %q listed twice", kind, r.ID)
		}
		seen[r.ID] = true
		if len(r.Text) == 0 && !known[r.ID] {
			ids := make([]string, 0, len(list))
			for _, b := range list {
				ids = append(ids, b.ID)
			}
			if s := closest(r.ID, ids); s != "" {
				v.errorf(p, "unknown %s %q (did you mean %q?); a custom one needs text", kind, r.ID, s)
			} else {
				v.errorf(p, "unknown %s %q: use a built-in id or give text", kind, r.ID)
			}
		}
	}
}

func (v *validator) country(path, c string) {
	if c != "" && !countryRE.MatchString(c) {
		v.errorf(path, "invalid country %q: use an ISO 3166-1 alpha-2 code such as CN", c)
	}
}

func (v *validator) checkPolicy() {
	p := v.m.Policy
	if p.Prevailing != "" && len(p.Languages) > 0 && !contains(p.Languages, p.Prevailing) {
		v.errorf("policy.prevailing_language", "prevailing language %q is not one of the policy's languages", p.Prevailing)
	}
	seen := map[string]bool{}
	for i, l := range p.Languages {
		if seen[l] {
			v.errorf(fmt.Sprintf("policy.languages[%d]", i), "language %q listed twice", l)
		}
		seen[l] = true
	}
	u := p.Updates
	if u.NoticeDays < 0 {
		v.errorf("policy.updates.notice_days", "notice_days must not be negative")
	}
	if u.Acceptance == "continued_use" {
		for _, pur := range v.m.Purposes {
			if pur.SeparateConsent {
				v.errorf("policy.updates.acceptance", "continued use cannot stand for consent to purposes that need separate consent (e.g. %q)", pur.ID)
				break
			}
		}
	}
}

func (v *validator) checkOrganisation() {
	m := v.m
	for i, c := range m.Controllers {
		v.country(fmt.Sprintf("controllers[%d].country", i), c.Country)
		for j, a := range c.Affiliates {
			v.country(fmt.Sprintf("controllers[%d].affiliates[%d].country", i, j), a.Country)
		}
	}
	if len(m.Controllers) > 0 && m.Controllers[0].Role == "processor" {
		v.errorf("controllers[0].role", "the first controller must decide purposes and means: role controller or joint_controller")
	}
	v.ref("controller", "contact.controller", m.Contact.Controller)
	if _, present := v.pos["contact.channels"]; present && len(m.Contact.Channels) == 0 {
		v.errorf("contact.channels", "the protection department needs at least one channel")
	}
	for i, c := range m.Contact.Channels {
		p := fmt.Sprintf("contact.channels[%d].value", i)
		if c.Value == "" && len(c.Values) == 0 {
			if len(c.Label) == 0 {
				v.errorf(fmt.Sprintf("contact.channels[%d]", i), "channel %q has no value: give it, or a label naming the channel as the policy does", c.ID)
			}
			continue
		}
		switch c.Kind {
		case "email":
			if !strings.Contains(c.Value, "@") {
				v.errorf(p, "email channel %q has no '@'", c.Value)
			}
		case "web", "online_form":
			if !strings.HasPrefix(c.Value, "https://") && !strings.HasPrefix(c.Value, "http://") {
				v.errorf(p, "web channel %q must be an http(s) URL", c.Value)
			}
		}
	}
	if d := m.Contact.Response; d != nil {
		v.deadline("contact.response", *d)
	}
	v.refs("channel", "complaints.channels", m.Complaints.Channels)
}

func (v *validator) checkCategories() {
	for i, c := range v.m.Categories {
		if c.Parent == "" {
			continue
		}
		path := fmt.Sprintf("categories[%d].parent", i)
		if c.Parent == c.ID {
			v.errorf(path, "category %q is its own parent", c.ID)
			continue
		}
		if v.ref("category", path, c.Parent) && v.categories[c.Parent].Sensitive && !c.Sensitive {
			v.errorf(fmt.Sprintf("categories[%d]", i), "category %q must be sensitive: its parent %q is", c.ID, c.Parent)
		}
	}
	// Parent cycles among manifest categories.
	for i, c := range v.m.Categories {
		seen := map[string]bool{c.ID: true}
		for p := c.Parent; p != ""; p = v.categories[p].Parent {
			if seen[p] {
				v.errorf(fmt.Sprintf("categories[%d].parent", i), "category %q has a parent cycle through %q", c.ID, p)
				break
			}
			seen[p] = true
		}
	}
}

func (v *validator) checkServices() {
	m := v.m
	purposes := v.purposeMap()
	for i, s := range m.Services {
		base := fmt.Sprintf("services[%d]", i)
		if s.PartOf == s.ID && s.ID != "" {
			v.errorf(base+".part_of", "service %q is part of itself", s.ID)
		} else if s.PartOf != "" && v.ref("service", base+".part_of", s.PartOf) {
			for _, o := range m.Services {
				if o.ID == s.PartOf && o.PartOf != "" {
					v.errorf(base+".part_of", "service %q is part of %q, which is itself part of %q: nest one level only", s.ID, s.PartOf, o.PartOf)
				}
			}
		}
		v.refs("subject", base+".subjects", s.Subjects)
		if len(s.Collects) == 0 && s.PartOf != "" {
			v.errorf(base, "feature %q collects nothing: give it collects, or drop it", s.ID)
		}
		for j, c := range s.Collects {
			cp := fmt.Sprintf("%s.collects[%d]", base, j)
			v.refs("category", cp+".categories", c.Categories)
			v.refs("purpose", cp+".purposes", c.Purposes)
			if c.Necessity == "optional" && len(c.IfRefused) == 0 {
				v.errorf(cp, "optional collection must say what refusing it costs (if_refused)")
			}
			for _, src := range c.Sources {
				if (src == "third_party" || src == "social_login" || src == "public" || src == "credit_agency" || src == "partner") && len(c.SourceDetail) == 0 {
					v.errorf(cp+".sources", "source %q needs source_detail naming it", src)
					break
				}
			}
			// Sensitive information needs separate consent when consent is the basis (PIPL art. 29).
			for k, cat := range c.Categories {
				if !v.categories[cat].Sensitive {
					continue
				}
				for _, pid := range c.Purposes {
					p, ok := purposes[pid]
					if ok && p.Basis == "consent" && !p.SeparateConsent && !c.SeparateConsent {
						v.errorf(fmt.Sprintf("%s.categories[%d]", cp, k), "sensitive category %q is collected for purpose %q on consent without separate consent: set separate_consent or use another basis", cat, pid)
					}
				}
			}
		}
		for j, p := range s.Permissions {
			if len(p.Purpose) == 0 {
				v.errorf(fmt.Sprintf("%s.permissions[%d]", base, j), "permission %q needs a purpose", p.Permission)
			}
		}
	}
}

func (v *validator) purposeMap() map[string]Purpose {
	out := make(map[string]Purpose, len(v.m.Purposes))
	for _, p := range v.m.Purposes {
		out[p.ID] = p
	}
	return out
}

func (v *validator) checkPurposes() {
	used := map[string]bool{}
	for _, s := range v.m.Services {
		for _, c := range s.Collects {
			for _, p := range c.Purposes {
				used[p] = true
			}
		}
	}
	for _, s := range v.m.SDKs {
		for _, p := range s.Purposes {
			used[p] = true
		}
	}
	if v.m.Cookies != nil {
		for _, c := range v.m.Cookies.Items {
			for _, p := range c.Purposes {
				used[p] = true
			}
		}
	}
	for _, r := range v.m.Recipients {
		for _, p := range r.Purposes {
			used[p] = true
		}
	}
	retained := map[string]bool{}
	for _, r := range v.m.Retention {
		for _, p := range r.Purposes {
			retained[p] = true
		}
	}
	inCN := v.m.AppliesIn("CN")
	for i, p := range v.m.Purposes {
		base := fmt.Sprintf("purposes[%d]", i)
		v.checkBases(base, p, inCN)
		bases := p.AllBases()
		if slices.Contains(bases, "legitimate_interests") && len(p.LegitimateInterest) == 0 {
			v.errorf(base+".basis", "purpose %q rests on legitimate interests but does not state them (legitimate_interest)", p.ID)
		}
		for _, b := range bases {
			if p.SeparateConsent && b != "consent" {
				v.errorf(base+".separate_consent", "purpose %q asks for separate consent but its basis is %s, not consent", p.ID, b)
				break
			}
			if p.DirectMarketing && b != "consent" && b != "legitimate_interests" {
				v.errorf(base+".direct_marketing", "direct marketing purpose %q must rest on consent or legitimate interests, not %s", p.ID, b)
				break
			}
		}
		if p.Automation != nil && !p.AutomatedDecision {
			v.errorf(base+".automation", "purpose %q declares how its automated decisions work but not that it makes any (automated_decision: true)", p.ID)
		}
		if p.ID != "" && !used[p.ID] {
			v.errorf(base, "purpose %q is never used by a service, SDK, cookie or recipient", p.ID)
		}
		if p.ID != "" && !retained[p.ID] {
			v.errorf(base, "purpose %q has no retention rule", p.ID)
		}
	}
}

// checkBases checks a purpose's per-jurisdiction bases: each names a
// jurisdiction the manifest declares, and none is legitimate interests
// where PIPL applies (PIPL art. 13 has no such basis).
func (v *validator) checkBases(base string, p Purpose, inCN bool) {
	declared := v.m.JurisdictionIDs()
	for j, b := range p.Bases {
		if !slices.Contains(declared, j) {
			if len(declared) == 0 {
				v.errorf(base+".bases."+j+"@key", "purpose %q gives a basis for jurisdiction %q, but the manifest declares no jurisdictions (add it under jurisdictions)", p.ID, j)
			} else {
				v.errorf(base+".bases."+j+"@key", "purpose %q gives a basis for unknown jurisdiction %q: want one of %s", p.ID, j, strings.Join(declared, ", "))
			}
		}
		if j == "CN" && b == "legitimate_interests" {
			v.errorf(base+".bases.CN", "purpose %q cannot rest on legitimate interests in CN: PIPL art. 13 does not know that basis", p.ID)
		}
	}
	if _, cn := p.Bases["CN"]; inCN && !cn && p.Basis == "legitimate_interests" {
		v.errorf(base+".basis", "purpose %q rests on legitimate interests, which PIPL art. 13 does not know, and the manifest applies in CN: give its basis there (bases: {CN: …}) and keep legitimate interests for the jurisdictions that have them", p.ID)
	}
}

func (v *validator) checkCookies() {
	c := v.m.Cookies
	if c == nil {
		return
	}
	for i, it := range c.Items {
		base := fmt.Sprintf("cookies.items[%d]", i)
		v.refs("purpose", base+".purposes", it.Purposes)
		v.ref("recipient", base+".provider", it.Provider)
	}
}

func (v *validator) checkSDKs() {
	purposes := v.purposeMap()
	for i, s := range v.m.SDKs {
		base := fmt.Sprintf("sdks[%d]", i)
		v.refs("purpose", base+".purposes", s.Purposes)
		v.refs("category", base+".collects", s.Collects)
		v.country(base+".country", s.Country)
		if s.AutoStart != nil && *s.AutoStart && len(s.AutoReason) == 0 {
			v.errorf(base+".auto_start", "SDK %q starts itself: say why (auto_start_reason)", s.ID)
		}
		if !strings.HasPrefix(s.PolicyURL, "https://") && !strings.HasPrefix(s.PolicyURL, "http://") && s.PolicyURL != "" {
			v.errorf(base+".policy_url", "policy_url %q must be an http(s) URL", s.PolicyURL)
		}
		for k, cat := range s.Collects {
			if !v.categories[cat].Sensitive {
				continue
			}
			for _, pid := range s.Purposes {
				if p, ok := purposes[pid]; ok && p.Basis == "consent" && !p.SeparateConsent {
					v.errorf(fmt.Sprintf("%s.collects[%d]", base, k), "SDK %q receives sensitive category %q for purpose %q on consent without separate consent", s.ID, cat, pid)
				}
			}
		}
	}
}

func (v *validator) checkRecipients() {
	purposes := v.purposeMap()
	for i, r := range v.m.Recipients {
		base := fmt.Sprintf("recipients[%d]", i)
		v.refs("category", base+".categories", r.Categories)
		v.refs("purpose", base+".purposes", r.Purposes)
		v.country(base+".country", r.Country)
		// Provision to another processor on the basis of consent needs separate consent (PIPL art. 23);
		// entrusted processing and de-identified statistics do not.
		independent := r.Kind == "independent_controller" || r.Kind == "partner" || r.Kind == "advertiser"
		if independent && !r.Deidentified && !r.SeparateConsent {
			for _, pid := range r.Purposes {
				if p, ok := purposes[pid]; ok && p.Basis == "consent" {
					v.errorf(base, "recipient %q is an independent processor receiving information on consent (purpose %q): provision needs separate consent (separate_consent: true)", r.ID, pid)
					break
				}
			}
		}
		if r.Endpoint != "" && !strings.HasPrefix(r.Endpoint, "https://") && !strings.HasPrefix(r.Endpoint, "http://") {
			v.errorf(base+".endpoint", "endpoint %q must be an http(s) URL", r.Endpoint)
		}
	}
}

func (v *validator) checkSharing() {
	s := v.m.Sharing
	v.builtinRefs("sharing exception", "sharing.exceptions", s.Exceptions, builtins().SharingExceptions)
	v.builtinRefs("no-consent case", "no_consent_cases", v.m.NoConsent, builtins().NoConsentCases)
	if pd := s.PublicDisclosure; pd != nil && !pd.Never && !pd.SeparateConsent && len(pd.Cases) > 0 {
		v.errorf("sharing.public_disclosure", "public disclosure needs separate consent (PIPL art. 25): set separate_consent or never")
	}
}

func (v *validator) checkStorage() {
	m := v.m
	if _, present := v.pos["storage.locations"]; present && len(m.Storage.Locations) == 0 {
		v.errorf("storage.locations", "at least one storage location is required")
	}
	for i, l := range m.Storage.Locations {
		base := fmt.Sprintf("storage.locations[%d]", i)
		v.country(base+".country", l.Country)
		if l.Country == "" && len(l.Where) == 0 {
			v.errorf(base, "storage location %q says nowhere: give country, or where as the policy words it", l.ID)
		}
		if l.Abroad && l.Country != "" {
			v.errorf(base+".abroad", "storage location %q names its country: abroad is for a place the policy does not name", l.ID)
		}
		v.refs("category", base+".categories", l.Categories)
	}
	if t := m.Storage.Thresholds; t != nil {
		for _, f := range []struct {
			key string
			n   int
		}{{"contract_from", t.ContractFrom}, {"assessment_above", t.AssessmentAbove}, {"sensitive_assessment_from", t.SensitiveAssessmentFrom}} {
			if f.n < 0 {
				v.errorf("storage.transfer_thresholds."+f.key, "a number of people cannot be negative")
			}
		}
		if t.ContractFrom > 0 && t.AssessmentAbove > 0 && t.AssessmentAbove < t.ContractFrom {
			v.errorf("storage.transfer_thresholds.assessment_above", "assessment_above (%d) is below contract_from (%d)", t.AssessmentAbove, t.ContractFrom)
		}
	}
	purposes := v.purposeMap()
	for i, c := range m.Storage.CrossBorder {
		base := fmt.Sprintf("storage.cross_border[%d]", i)
		v.country(base+".from", c.From)
		for j, to := range c.To {
			v.country(fmt.Sprintf("%s.to[%d]", base, j), to)
			from := c.From
			if from == "" {
				from = "CN"
			}
			if to == from {
				v.errorf(fmt.Sprintf("%s.to[%d]", base, j), "a transfer from %s to %s does not cross a border", from, to)
			}
		}
		if len(c.To) == 0 && len(c.ToText) == 0 {
			v.errorf(base, "cross-border transfer %q goes nowhere: give to, or to_text as the policy words it", c.ID)
		}
		v.refs("category", base+".categories", c.Categories)
		v.refs("purpose", base+".purposes", c.Purposes)
		v.ref("recipient", base+".recipient", c.Recipient)
		if c.Mechanism == "" {
			continue // reported as a missing key
		}
		// Export of personal information on the basis of consent needs separate consent (PIPL art. 39).
		if !c.SeparateConsent {
			for _, pid := range c.Purposes {
				if p, ok := purposes[pid]; ok && p.Basis == "consent" {
					v.errorf(base, "cross-border transfer %q serves consent-based purpose %q: it needs separate consent (separate_consent: true)", c.ID, pid)
					break
				}
			}
		}
		if c.Mechanism == "consent" && !c.SeparateConsent {
			v.errorf(base+".mechanism", "cross-border transfer %q rests on consent, which must be separate", c.ID)
		}
	}
}

func (v *validator) checkRetention() {
	for i, r := range v.m.Retention {
		base := fmt.Sprintf("retention[%d]", i)
		v.refs("category", base+".categories", r.Categories)
		v.refs("purpose", base+".purposes", r.Purposes)
		if len(r.Categories) == 0 && len(r.Purposes) == 0 {
			v.errorf(base, "retention rule %q covers nothing: give categories or purposes", r.ID)
		}
		switch {
		case r.Period == nil && r.Until == "":
			v.errorf(base, "retention rule %q needs a period or an until event", r.ID)
		case r.Period != nil && r.Until != "":
			v.errorf(base, "retention rule %q gives both a period and an until event: choose one", r.ID)
		case r.Period != nil:
			if r.Period.Count <= 0 {
				v.errorf(base+".period.count", "retention period must be positive, got %d", r.Period.Count)
			}
			if r.From == "" {
				v.errorf(base+".period", "retention rule %q must say when the period starts (from)", r.ID)
			}
		}
	}
	v.builtinRefs("legal hold", "legal_holds", v.m.LegalHolds, builtins().LegalHolds)
}

// Statutory ceilings on response deadlines, in their own units.
var deadlineCeilings = map[string]int{"calendar_days": 90, "working_days": 60, "months": 3}

func (v *validator) deadline(path string, d Deadline) {
	if d.Count <= 0 {
		v.errorf(path+".count", "deadline must be at least %s, got %d", units(1, d.Unit), d.Count)
	} else if ceil, ok := deadlineCeilings[d.Unit]; ok && d.Count > ceil {
		v.errorf(path+".count", "deadline of %s is longer than any law allows (at most %d)", units(d.Count, d.Unit), ceil)
	}
	if e := d.Extension; e != nil {
		if e.Count <= 0 {
			v.errorf(path+".extension.count", "extension must be at least %s, got %d", units(1, e.Unit), e.Count)
		}
		if d.Unit == "months" && e.Unit == "months" && d.Count+e.Count > 3 {
			v.errorf(path+".extension.count", "a deadline of %d months extended by %d exceeds three months in all", d.Count, e.Count)
		}
	}
}

// units names a deadline unit with its count: "1 working day", "3 months".
func units(n int, u string) string {
	w := strings.ReplaceAll(u, "_", " ")
	if n == 1 || n == -1 {
		w = strings.TrimSuffix(w, "s")
	}
	return fmt.Sprintf("%d %s", n, w)
}

func (v *validator) checkRights() {
	r := v.m.Rights
	jurs := map[string]bool{}
	for _, j := range v.m.Jurisdiction {
		jurs[j.ID] = true
	}
	checkJurs := func(path string, ids []string) {
		for i, j := range ids {
			if !jurs[j] {
				v.errorf(fmt.Sprintf("%s[%d]", path, i), "jurisdiction %q is not defined under jurisdictions", j)
			}
		}
	}
	type key struct{ right, jur string }
	offered := map[key]bool{}
	for i, o := range r.Offered {
		base := fmt.Sprintf("rights.offered[%d]", i)
		checkJurs(base+".jurisdictions", o.Jurisdictions)
		v.refs("channel", base+".channels", o.Channels)
		for j, id := range o.LimitGrounds {
			if !slices.ContainsFunc(builtins().RefusalGrounds, func(g Ref) bool { return g.ID == id }) {
				v.errorf(fmt.Sprintf("%s.limit_grounds[%d]", base, j), "unknown refusal ground %q: limit_grounds name built-in grounds", id)
			}
		}
		if len(o.SelfService) == 0 && len(o.Channels) == 0 && len(o.How) == 0 {
			v.errorf(base, "right %q says nowhere how to exercise it (self_service, channels or how)", o.Right)
		}
		js := o.Jurisdictions
		if len(js) == 0 {
			js = []string{""}
		}
		for _, j := range js {
			k := key{o.Right, j}
			if offered[k] {
				v.errorf(base+".right", "right %q offered twice for the same jurisdictions", o.Right)
			}
			offered[k] = true
		}
	}
	claimed := map[key]string{}
	for i, d := range r.Deadlines {
		base := fmt.Sprintf("rights.deadlines[%d]", i)
		v.deadline(base, d)
		checkJurs(base+".jurisdictions", d.Jurisdictions)
		rs, js := d.Rights, d.Jurisdictions
		if len(rs) == 0 {
			rs = []string{"*"}
		}
		if len(js) == 0 {
			js = []string{"*"}
		}
		for _, rt := range rs {
			for _, j := range js {
				k := key{rt, j}
				if prev, dup := claimed[k]; dup {
					right, jur := "every right", "every jurisdiction"
					if rt != "*" {
						right = fmt.Sprintf("right %q", rt)
					}
					if j != "*" {
						jur = fmt.Sprintf("jurisdiction %s", j)
					}
					v.errorf(base, "this deadline and the one on line %d both set the deadline for %s in %s", v.pos.lookup(prev).Line, right, jur)
				}
				claimed[k] = base
			}
		}
	}
	// Every offered right needs a deadline that applies to it.
	for i, o := range r.Offered {
		if o.Right == "complaint" {
			continue
		}
		js := o.Jurisdictions
		if len(js) == 0 {
			js = []string{"*"}
		}
		for _, j := range js {
			_, a := claimed[key{o.Right, j}]
			_, b := claimed[key{o.Right, "*"}]
			_, c := claimed[key{"*", j}]
			_, d := claimed[key{"*", "*"}]
			if !a && !b && !c && !d {
				v.errorf(fmt.Sprintf("rights.offered[%d]", i), "right %q has no response deadline", o.Right)
			}
		}
	}
	v.builtinRefs("refusal ground", "rights.refusal_grounds", r.RefusalGrounds, builtins().RefusalGrounds)
	if c := r.Cancellation; c != nil && (c.CoolingOffDays < 0 || c.CoolingOffDays > 30) {
		v.errorf("rights.account_cancellation.cooling_off_days", "cooling-off period must be between 0 and 30 days, got %d", c.CoolingOffDays)
	}
	if c := r.Cancellation; c != nil {
		seen := map[string]bool{}
		for i, t := range c.Terms {
			base := fmt.Sprintf("rights.account_cancellation.terms[%d]", i)
			switch {
			case seen[t.Channel]:
				v.errorf(base+".channel", "channel %q has two terms", t.Channel)
			case t.Channel == SelfServiceChannel:
				if len(c.SelfService) == 0 {
					v.errorf(base+".channel", "a term for self_service needs account_cancellation.self_service, the path the user takes")
				}
			default:
				v.ref("channel", base+".channel", t.Channel)
			}
			seen[t.Channel] = true
			switch {
			case t.Count < 0 || t.Count > 366:
				v.errorf(base+".count", "count must be between 0 (at once) and 366, got %d", t.Count)
			case t.Count == 0 && t.Unit != "":
				v.errorf(base+".unit", "a cancellation that takes effect at once (count 0) has no unit")
			case t.Count > 0 && t.Unit == "":
				v.errorf(base+".count", "count %d needs a unit", t.Count)
			}
		}
		if len(c.Terms) > 0 && !hasRight(r.Offered, "cancel_account") {
			v.errorf("rights.account_cancellation.terms", "cancellation terms are set but right \"cancel_account\" is not offered")
		}
	}
	if f := r.Fees; f != nil && (f.RepeatedWindow == nil) != (f.RepeatedCount <= 0) {
		v.errorf("rights.fees", "repeated_window and repeated_count go together: give both or neither")
	}
	if d := r.Deceased; d != nil && d.Allowed && !hasRight(r.Offered, "deceased") {
		v.errorf("rights.deceased", "deceased persons' relatives are allowed to act but right \"deceased\" is not offered")
	}
	if hasRight(r.Offered, "cancel_account") && r.Cancellation == nil {
		v.errorf("rights.offered", "right \"cancel_account\" is offered but account_cancellation is not described")
	}
}

func hasRight(rs []Right, name string) bool {
	for _, r := range rs {
		if r.Right == name {
			return true
		}
	}
	return false
}

func (v *validator) checkMinors() {
	mi := v.m.Minors
	switch mi.Stance {
	case "guardian_consent":
		if mi.AgeThreshold == 0 {
			v.errorf("minors", "guardian consent needs age_threshold")
		}
		if !mi.GuardianConsent {
			v.errorf("minors.stance", "stance guardian_consent but guardian_consent is false")
		}
	case "adults_only":
		if mi.GuardianConsent {
			v.errorf("minors.guardian_consent", "an adults-only service does not take guardian consent")
		}
	}
	if mi.AgeThreshold != 0 && (mi.AgeThreshold < 6 || mi.AgeThreshold > 18) {
		v.errorf("minors.age_threshold", "age threshold %d is not a legal age of consent (expected 6 to 18)", mi.AgeThreshold)
	}
	needsAge := func(stance string) bool { return stance == "guardian_consent" || stance == "adults_only" }
	if mi.UnknownAge == "" && (needsAge(mi.Stance) || slices.ContainsFunc(mi.Jurisdictions, func(r MinorRule) bool { return needsAge(r.Stance) })) {
		v.errorf("minors", "minors.unknown_age is required with stance %s: say how a person whose age is not known is treated (adult, minor or ask); the policy states it", mi.Stance)
	}
	if mi.DeleteIfFound && !needsAge(mi.Stance) {
		v.errorf("minors.delete_if_discovered", "delete_if_discovered needs a stance with an age threshold (guardian_consent or adults_only): nothing else tells who is a minor")
	}
	declared := v.m.JurisdictionIDs()
	seen := map[string]bool{}
	for i, r := range mi.Jurisdictions {
		base := fmt.Sprintf("minors.jurisdictions[%d]", i)
		switch {
		case r.Jurisdiction == "" || slices.Contains(declared, r.Jurisdiction):
		case len(declared) == 0:
			v.errorf(base+".jurisdiction", "unknown jurisdiction %q: the manifest declares no jurisdictions (add it under jurisdictions)", r.Jurisdiction)
		default:
			v.errorf(base+".jurisdiction", "unknown jurisdiction %q: want one of %s", r.Jurisdiction, strings.Join(declared, ", "))
		}
		if seen[r.Jurisdiction] {
			v.errorf(base+".jurisdiction", "jurisdiction %q has two rules for minors", r.Jurisdiction)
		}
		seen[r.Jurisdiction] = true
		if r.AgeThreshold != 0 && (r.AgeThreshold < 6 || r.AgeThreshold > 18) {
			v.errorf(base+".age_threshold", "age threshold %d is not a legal age of consent (expected 6 to 18)", r.AgeThreshold)
		}
		if r.Stance == "guardian_consent" && !mi.GuardianConsent {
			v.errorf(base+".stance", "stance guardian_consent but minors.guardian_consent is false")
		}
		if r.Stance == "guardian_consent" && r.AgeThreshold == 0 && mi.AgeThreshold == 0 {
			v.errorf(base, "stance guardian_consent needs an age threshold")
		}
	}
}

// checkSignals checks the browser-signal statements: one per signal, a
// purpose list exactly when honoured, and only purposes a refusal can
// stop (consent is withdrawn, legitimate interests or a public task are
// objected to).
func (v *validator) checkSignals() {
	seen := map[string]bool{}
	purposes := v.purposeMap()
	for i, sg := range v.m.Signals {
		base := fmt.Sprintf("signals[%d]", i)
		if seen[sg.Signal] {
			v.errorf(base+".signal", "signal %q is described twice", sg.Signal)
		}
		seen[sg.Signal] = true
		switch {
		case sg.Stance == SignalHonour && len(sg.Refuses) == 0:
			v.errorf(base+".stance", "an honoured %s signal must list the purposes it refuses (refuses)", sg.Signal)
		case sg.Stance != SignalHonour && sg.Stance != "" && len(sg.Refuses) > 0:
			v.errorf(base+".refuses", "a %s signal that is not honoured refuses nothing: remove refuses or set stance: honour", sg.Signal)
		case sg.Stance == SignalBrowserSpecific && len(sg.Note) == 0:
			v.errorf(base+".note", "a browser-specific stance needs a note explaining it")
		}
		v.refs("purpose", base+".refuses", sg.Refuses)
		for j, pid := range sg.Refuses {
			p, ok := purposes[pid]
			if !ok {
				continue
			}
			for _, b := range p.AllBases() {
				if b != "consent" && !ObjectableBasis(b) {
					v.errorf(fmt.Sprintf("%s.refuses[%d]", base, j), "purpose %q rests on %s: a browser signal can only refuse processing on consent (withdrawn) or on legitimate interests or a public task (objected to)", pid, b)
					break
				}
			}
		}
	}
}

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// checkAssessments checks the form of impact assessments: whether the
// activities that need one have one is internal/pia's to say.
func (v *validator) checkAssessments() {
	for i, a := range v.m.Assessments {
		base := fmt.Sprintf("assessments[%d]", i)
		seen := map[string]bool{}
		for j, id := range a.Activities {
			path := fmt.Sprintf("%s.activities[%d]", base, j)
			if seen[id] {
				v.errorf(path, "activity %q listed twice", id)
				continue
			}
			seen[id] = true
			if id == PublicDisclosureActivity {
				continue
			}
			if !v.ids["purpose"][id] {
				v.errorf(path, "activity %q is neither a purpose nor %s", id, PublicDisclosureActivity)
			}
		}
		if a.Digest != "" {
			if !digestRE.MatchString(a.Digest) {
				v.errorf(base+".digest", "invalid digest %q: want sha256: and 64 hexadecimal digits, as custos pia draft writes it", a.Digest)
			} else if len(a.Activities) == 0 {
				v.errorf(base+".digest", "a digest fingerprints the activities assessed: list them under activities")
			}
		}
		if a.Review != nil && a.Review.Count <= 0 {
			v.errorf(base+".review_every.count", "review period must be at least 1 %s", a.Review.Unit)
		}
	}
}

func (v *validator) checkExtras() {
	for key := range v.m.Statements {
		if !contains(statementSections, key) {
			v.errorf("statements."+key+"@key", "unknown section %q: want one of %s", key, strings.Join(statementSections, ", "))
		}
	}
}

// checkTexts reports Text values missing a language the policy is published in.
func (v *validator) checkTexts() {
	WalkTexts(v.m, func(path string, t Text) {
		for _, l := range v.langs {
			if strings.TrimSpace(t[l]) == "" {
				v.errorf(path, "missing %s text", l)
			}
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
