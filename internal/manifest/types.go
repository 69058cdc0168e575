// Package manifest defines the privacy manifest — the machine-readable form of
// everything a privacy policy promises — and loads, validates and describes it.
//
// Struct tags drive three things at once so that they cannot drift apart:
//   - `yaml:"key"`: the key in the manifest file;
//   - `req:"true"`: the key must be present;
//   - `enum:"a,b,c"`: the closed set of values a string (or []string) may take;
//   - `doc:"…"`: the description shown by `custos schema` in editors.
package manifest

// Format is the manifest format version this build understands.
const Format = 1

// Manifest is the whole privacy manifest (custos.yaml).
type Manifest struct {
	Custos       int                 `yaml:"custos" req:"true" doc:"Manifest format version. Must be 1."`
	Policy       Policy              `yaml:"policy" req:"true" doc:"The policy document itself: identity, version, dates, languages, scope and how it changes."`
	Controllers  []Controller        `yaml:"controllers" req:"true" doc:"The organisations that decide why and how personal information is processed."`
	Contact      Contact             `yaml:"contact" req:"true" doc:"The personal-information protection department or responsible person and how to reach it."`
	Complaints   Complaints          `yaml:"complaints" doc:"Complaint channels, regulator, governing law and competent court."`
	Subjects     []SubjectCategory   `yaml:"subjects" doc:"Categories of data subjects (users, visitors, enterprise users' staff, …) for the record of processing."`
	Categories   []Category          `yaml:"categories" doc:"Personal-information categories defined by this manifest, in addition to the built-in taxonomy."`
	Services     []Service           `yaml:"services" req:"true" doc:"Services and features, each with the personal information it collects and why."`
	Purposes     []Purpose           `yaml:"purposes" req:"true" doc:"Purposes of processing with their legal basis."`
	NoConsent    []Ref               `yaml:"no_consent_cases" doc:"Statutory cases in which personal information may be processed without consent (built-in ids or {id, text})."`
	Cookies      *Cookies            `yaml:"cookies" doc:"Cookies and similar technologies."`
	Signals      []Signal            `yaml:"signals" doc:"Browser opt-out signals (Global Privacy Control, Do Not Track): for each, whether it is honoured and exactly which purposes it refuses. The rendered policy, the banner and the consent ledger all read this one statement."`
	SDKs         []SDK               `yaml:"sdks" doc:"Third-party software development kits embedded in the service."`
	Recipients   []Recipient         `yaml:"recipients" doc:"Who receives personal information: affiliates, entrusted processors, independent processors, partners, advertisers, authorities."`
	Sharing      Sharing             `yaml:"sharing" doc:"Rules for provision, transfer (merger, acquisition) and public disclosure."`
	Security     Security            `yaml:"security" doc:"Protection measures, certifications and incident notification."`
	Storage      Storage             `yaml:"storage" req:"true" doc:"Where personal information is stored, cross-border transfers, and what happens when the service ends."`
	Retention    []Retention         `yaml:"retention" req:"true" doc:"Retention rules per category or purpose."`
	LegalHolds   []Ref               `yaml:"legal_holds" doc:"Circumstances that extend retention (built-in ids or {id, text})."`
	Vault        []VaultField        `yaml:"vault" doc:"Fields of personal information the application keeps in Custos's vault, each sealed under the person's own key: who may read it in clear, for which purposes, and how everyone else sees it masked. The policy prints nothing from it."`
	Rights       Rights              `yaml:"rights" req:"true" doc:"Rights offered, how they are exercised, deadlines, fees and refusal grounds."`
	Minors       Minors              `yaml:"minors" req:"true" doc:"How minors are treated."`
	Assessments  []Assessment        `yaml:"assessments" doc:"Personal-information protection impact assessments and their outcome."`
	Definitions  []Definition        `yaml:"definitions" doc:"Terms defined in the policy's appendix."`
	Statements   map[string][]Text   `yaml:"statements" doc:"Further commitments to print at the end of a section, keyed by section id (intro, collection, cookies, sharing, security, storage, rights, minors, updates, contact, complaints)."`
	Sections     []ExtraSection      `yaml:"extra_sections" doc:"Whole sections the structured model does not cover, placed after a named section."`
	Jurisdiction []JurisdictionRules `yaml:"jurisdictions" doc:"Jurisdictions whose residents get specific rights or deadlines (e.g. CN, EU)."`
	LegalBases   []string            `yaml:"legal_bases" enum:"consent,contract,hr_management,legal_obligation,vital_interests,public_interest,news_reporting,publicly_disclosed,legitimate_interests,other_law" doc:"Legal bases the policy lists without tying them to purposes. The policy prints them as a list; purposes whose basis the policy does not state carry basis_inferred."`

	ix  *index
	src *source // where the manifest was read from; nil when built in code
}

// Text is a piece of prose in each of the manifest's languages, keyed "zh"
// (simplified Chinese), "zh-Hant" (traditional Chinese) and "en".
type Text map[string]string

// Date is a civil date written YYYY-MM-DD.
type Date string

// Ref names a built-in entry by id, or defines a custom one with its own text.
// In YAML it is either a bare id (`national_security`) or a mapping
// (`{id: backup_tapes, text: {zh: …, en: …}}`).
type Ref struct {
	ID   string `yaml:"id" req:"true" doc:"Built-in id, or a new id when text is given."`
	Text Text   `yaml:"text" doc:"Wording for a custom entry; built-in entries carry their own."`
}

// Policy describes the document: identity, version, dates, languages, scope and change rules.
type Policy struct {
	ID                string   `yaml:"id" req:"true" doc:"Stable identifier of this policy (not of a version)."`
	Title             Text     `yaml:"title" req:"true" doc:"Title of the policy."`
	Noun              string   `yaml:"noun" enum:"policy,statement,notice" doc:"What the document calls itself: policy (本政策, the default), statement (本声明) or notice (本通知)."`
	Version           string   `yaml:"version" req:"true" doc:"Version label, e.g. 2022.03.17 or 3.1."`
	Effective         Date     `yaml:"effective" doc:"Date this version takes effect (YYYY-MM-DD)."`
	Updated           Date     `yaml:"updated" req:"true" doc:"Date of the last update (YYYY-MM-DD)."`
	Languages         []string `yaml:"languages" req:"true" enum:"zh-CN,zh-Hant,en" doc:"Languages the policy is published in."`
	Prevailing        string   `yaml:"prevailing_language" enum:"zh-CN,zh-Hant,en" doc:"Which language version prevails in case of difference. The precedence sentence is printed only when this is set; pages default to it, else to the first language."`
	Scope             Text     `yaml:"scope" req:"true" doc:"Products and services the policy covers."`
	Exclusions        []Text   `yaml:"exclusions" doc:"What the policy does not cover, each a full sentence (\"This policy does not apply to …\")."`
	Intro             []Text   `yaml:"intro" doc:"Opening paragraphs."`
	URL               string   `yaml:"url" doc:"Where the current version is published."`
	Archive           string   `yaml:"archive_url" doc:"Where earlier versions are kept."`
	Updates           Updates  `yaml:"updates" req:"true" doc:"How the policy changes and how people are told."`
	ChildrenPolicyURL string   `yaml:"children_policy_url" doc:"Separate rules for children's personal information, if any."`
	RelatedAgreements []Text   `yaml:"related_agreements" doc:"Agreements to be read with the policy, each a name such as \"the User Agreement\"."`
}

// Updates says what counts as a material change and how users are told.
type Updates struct {
	Material        []string `yaml:"material_changes" enum:"processing,ownership,recipients,rights,contact,impact_assessment" doc:"Kinds of change that are material. Empty means the six kinds of GB/T 35273-2020 §10.1."`
	Notice          []string `yaml:"notice" req:"true" enum:"website,prominent_notice,email,sms,in_app,push,announcement" doc:"How users are told of a material change."`
	Acceptance      string   `yaml:"acceptance" enum:"express_consent,continued_use" doc:"After a material change: ask again for express consent, or take continued use as acceptance. Unset: the policy says neither."`
	NoReduction     bool     `yaml:"no_reduction_without_consent" doc:"Rights under the policy are never reduced without express consent."`
	EffectiveOnPost bool     `yaml:"effective_on_posting" doc:"A new version takes effect when posted."`
	NoticeDays      int      `yaml:"notice_days" doc:"Days of notice before a material change takes effect."`
	KeepArchive     bool     `yaml:"keep_archive" doc:"Earlier versions are archived for reference."`
}

// Controller is an organisation that determines purposes and means of processing.
type Controller struct {
	ID         string      `yaml:"id" req:"true"`
	Name       Text        `yaml:"name" req:"true"`
	Short      Text        `yaml:"short_name" doc:"How the policy refers to the controller (\"UnionTech Software\", \"we\")."`
	Role       string      `yaml:"role" req:"true" enum:"controller,joint_controller,processor" doc:"Role under PIPL/GDPR."`
	Address    Text        `yaml:"address"`
	Country    string      `yaml:"country" doc:"ISO 3166-1 alpha-2 country code."`
	Website    string      `yaml:"website"`
	Affiliates []Affiliate `yaml:"affiliates" doc:"Affiliated companies covered by the policy."`
}

// Affiliate is a company related to a controller.
type Affiliate struct {
	ID      string `yaml:"id" req:"true"`
	Name    Text   `yaml:"name" req:"true"`
	Country string `yaml:"country"`
}

// Contact is the personal-information protection function.
type Contact struct {
	Department Text      `yaml:"department" doc:"Department for personal-information protection, if the policy names one."`
	Duties     bool      `yaml:"department_duties" doc:"The policy says the department coordinates and monitors compliance with the rules on personal information."`
	Person     Text      `yaml:"responsible_person" doc:"Responsible person or DPO, if named."`
	Controller string    `yaml:"controller" doc:"Controller id the contact acts for (defaults to the first)."`
	Address    Text      `yaml:"address"`
	Channels   []Channel `yaml:"channels" req:"true" doc:"Ways to reach the department."`
	Response   *Deadline `yaml:"response" doc:"Reply time for general questions."`
	EURep      Text      `yaml:"eu_representative" doc:"Representative in the EU, if any."`
}

// Channel is one way to reach someone.
type Channel struct {
	ID     string `yaml:"id" req:"true"`
	Kind   string `yaml:"kind" req:"true" enum:"email,phone,post,web,in_app,in_app_feedback,online_form,customer_service" doc:"Kind of channel: in_app is a notice inside the app; in_app_feedback a feedback or request form inside it."`
	Value  string `yaml:"value" doc:"Address, number or URL. Leave out when the policy names the channel but gives no address: label then says what it is, and the channel cannot take requests."`
	Values Text   `yaml:"values" doc:"The value as written in each language, for a postal address that differs between them; printed instead of value."`
	Label  Text   `yaml:"label" doc:"What the channel is for, if not obvious."`
}

// Complaints are where a dissatisfied person can turn.
type Complaints struct {
	Channels     []string `yaml:"channels" doc:"Contact channel ids that take complaints."`
	Regulators   []Text   `yaml:"regulators" doc:"Supervisory authorities a complaint may be lodged with."`
	Court        Text     `yaml:"court" doc:"Competent court for lawsuits."`
	Arbitration  Text     `yaml:"arbitration" doc:"Arbitration body, if disputes go to arbitration."`
	GoverningLaw Text     `yaml:"governing_law" doc:"Law that governs the policy."`
}

// SubjectCategory is a kind of person whose data is processed.
type SubjectCategory struct {
	ID   string `yaml:"id" req:"true"`
	Name Text   `yaml:"name" req:"true"`
}

// Category is a personal-information category.
type Category struct {
	ID        string `yaml:"id" req:"true" doc:"Category id; built-in ids look like contact.phone."`
	Name      Text   `yaml:"name" req:"true"`
	Parent    string `yaml:"parent" doc:"Broader category (built-in or manifest)."`
	Sensitive bool   `yaml:"sensitive" doc:"Sensitive personal information (PIPL art. 28, GB/T 35273 Annex B)."`
	Examples  Text   `yaml:"examples" doc:"Examples of what falls in the category."`
}

// Service is a product, service or feature that collects personal information.
type Service struct {
	ID          string       `yaml:"id" req:"true"`
	Name        Text         `yaml:"name" req:"true"`
	PartOf      string       `yaml:"part_of" doc:"Parent service id, for features within a service."`
	Description Text         `yaml:"description"`
	Subjects    []string     `yaml:"subjects" doc:"Subject category ids this service concerns."`
	Collects    []Collection `yaml:"collects" doc:"What the service collects and why."`
	Permissions []Permission `yaml:"permissions" doc:"Device permissions the service asks for."`
	Revocable   bool         `yaml:"permissions_revocable" doc:"The policy says each permission can be turned off in the device's settings, and that collection through it then stops."`
}

// Collection is one collection of personal information within a service.
type Collection struct {
	Categories      []string `yaml:"categories" req:"true" doc:"Category ids collected together."`
	Alternatives    bool     `yaml:"alternatives" doc:"Any one of the categories suffices (\"your phone number or email address\")."`
	Purposes        []string `yaml:"purposes" req:"true" doc:"Purpose ids the collection serves."`
	Necessity       string   `yaml:"necessity" req:"true" enum:"required,optional" doc:"Necessary for the service, or optional."`
	IfRefused       Text     `yaml:"if_refused" doc:"What refusing costs the user: a sentence, or a clause completing \"If you do not provide it, …\"."`
	Sources         []string `yaml:"sources" req:"true" enum:"user,device,automatic,third_party,social_login,other_users,public,credit_agency,partner" doc:"Where the information comes from."`
	SourceDetail    Text     `yaml:"source_detail" doc:"Which third party or public source, if any."`
	Condition       Text     `yaml:"condition" doc:"When the collection happens, if not always."`
	When            Text     `yaml:"when" doc:"The user action that triggers it (\"when you register\")."`
	SeparateConsent bool     `yaml:"separate_consent" doc:"Separate consent is asked for this collection."`
	Note            Text     `yaml:"note"`
}

// Permission is a device permission.
type Permission struct {
	Permission string `yaml:"permission" req:"true" enum:"camera,microphone,location,storage,contacts,phone,sms,calendar,bluetooth,wifi,notifications,photos,sensors,nfc,clipboard,install_apps,network" doc:"Device permission."`
	Purpose    Text   `yaml:"purpose" req:"true" doc:"Why the permission is needed."`
	Optional   *bool  `yaml:"optional" doc:"true: the service works without it; false: the feature needs it. Unset: the policy does not say."`
}

// Purpose is a purpose of processing with its legal basis.
type Purpose struct {
	ID                 string            `yaml:"id" req:"true"`
	Name               Text              `yaml:"name" req:"true"`
	Description        Text              `yaml:"description"`
	Basis              string            `yaml:"basis" req:"true" enum:"consent,contract,hr_management,legal_obligation,vital_interests,public_interest,news_reporting,publicly_disclosed,legitimate_interests,other_law" doc:"Legal basis (PIPL art. 13 / GDPR art. 6), in every jurisdiction that bases does not name."`
	Bases              map[string]string `yaml:"bases" enum:"consent,contract,hr_management,legal_obligation,vital_interests,public_interest,news_reporting,publicly_disclosed,legitimate_interests,other_law" doc:"Legal basis per jurisdiction id where it differs from basis, e.g. {EU: legitimate_interests}. PIPL knows no legitimate interests: a purpose that applies in CN cannot rest on them there."`
	BasisInferred      bool              `yaml:"basis_inferred" doc:"The policy does not tie this purpose to a legal basis: basis is the organisation's working assumption for the decision point and is not printed as the policy's words."`
	LegitimateInterest Text              `yaml:"legitimate_interest" doc:"The interest pursued, required when the basis is legitimate_interests in some jurisdiction."`
	SeparateConsent    bool              `yaml:"separate_consent" doc:"Consent for this purpose is asked separately."`
	DirectMarketing    bool              `yaml:"direct_marketing" doc:"Direct marketing: an objection to it is absolute (GDPR art. 21(3)); no compelling grounds override it."`
	AutomatedDecision  bool              `yaml:"automated_decision" doc:"Decisions are made by automated means."`
	Automation         *Automation       `yaml:"automation" doc:"How the automated decisions work, as the organisation declares it (PIPL art. 24, GDPR art. 13(2)(f) and 22): printed with the purpose, and given to whoever asks for an explanation of an automated decision, with the operator's words on their case. Needs automated_decision."`
	OptOut             Text              `yaml:"opt_out" doc:"How to opt out."`
}

// Automation declares the automated decision-making of a purpose.
type Automation struct {
	Logic        Text `yaml:"logic" req:"true" doc:"The logic involved, in words a person understands: what the system looks at and how it decides."`
	Significance Text `yaml:"significance" req:"true" doc:"What the decisions mean for the person."`
	Effects      Text `yaml:"effects" doc:"The consequences the person can expect."`
	HumanReview  Text `yaml:"human_review" req:"true" doc:"How to have a decision looked at again by a person, or refuse one made solely by automated means."`
}

// AutomationPart is one part of an automation declaration with the words
// that introduce it, as the policy prints it and an explanation gives it.
type AutomationPart struct {
	Label Text
	Text  Text
}

// Parts lists the parts a declares, in order, with their labels.
func (a Automation) Parts() []AutomationPart {
	all := []AutomationPart{
		{Text{KeyZH: "决策机制", KeyZHHant: "決策機制", KeyEN: "how it decides"}, a.Logic},
		{Text{KeyZH: "对您的影响", KeyZHHant: "對您的影響", KeyEN: "what it means for you"}, a.Significance},
		{Text{KeyZH: "可能的后果", KeyZHHant: "可能的後果", KeyEN: "what may follow"}, a.Effects},
		{Text{KeyZH: "人工复核", KeyZHHant: "人工複核", KeyEN: "review by a person"}, a.HumanReview},
	}
	var out []AutomationPart
	for _, p := range all {
		if len(p.Text) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// Cookies describes cookies and similar technologies.
type Cookies struct {
	Items      []Cookie `yaml:"items" req:"true"`
	Management Text     `yaml:"management" doc:"How to manage or clear cookies."`
	IfRefused  Text     `yaml:"if_refused" doc:"What refusing cookies costs."`
}

// Signal is what the service does with one browser opt-out signal.
type Signal struct {
	Signal string `yaml:"signal" req:"true" enum:"gpc,dnt" doc:"gpc: Global Privacy Control (Sec-GPC: 1); dnt: Do Not Track (DNT: 1)."`
	Stance string `yaml:"stance" req:"true" enum:"honour,ignore,browser_specific" doc:"honour: the signal refuses the purposes listed in refuses; ignore: the policy says processing does not change; browser_specific: the policy only describes a browser's feature (say which in note)."`
	// Refuses lists the purposes the signal refuses when honoured. A
	// consent purpose is withdrawn; a purpose on legitimate interests or a
	// public task is objected to; other bases cannot be refused.
	Refuses []string `yaml:"refuses" doc:"Purpose ids the signal refuses, when honoured: consent purposes are withdrawn, purposes on legitimate interests or a public task are objected to."`
	Note    Text     `yaml:"note" doc:"What the policy says about the signal, printed after the rule."`
}

// Cookie is one cookie or similar technology.
type Cookie struct {
	ID          string   `yaml:"id" req:"true"`
	Name        Text     `yaml:"name" req:"true"`
	Kind        string   `yaml:"kind" req:"true" enum:"cookie,local_storage,web_beacon,pixel,anonymous_id,sdk_identifier,plugin" doc:"Kind of technology."`
	Category    string   `yaml:"category" req:"true" enum:"necessary,security,functional,analytics,advertising" doc:"Consent category."`
	Purposes    []string `yaml:"purposes" req:"true"`
	Provider    string   `yaml:"provider" doc:"Recipient id of a third-party provider; empty for first-party."`
	Duration    Text     `yaml:"duration"`
	Description Text     `yaml:"description"`
}

// SDK is a third-party software development kit.
type SDK struct {
	ID          string   `yaml:"id" req:"true"`
	Name        Text     `yaml:"name" req:"true"`
	Company     Text     `yaml:"company" req:"true"`
	Function    Text     `yaml:"function" req:"true" doc:"What the SDK does for the service."`
	Purposes    []string `yaml:"purposes" req:"true"`
	Collects    []string `yaml:"collects" req:"true" doc:"Category ids the SDK collects."`
	Scope       Text     `yaml:"scope" doc:"Where and when the SDK runs (which feature, which platform)."`
	Platforms   []string `yaml:"platforms" enum:"android,ios,harmonyos,web,desktop,server" doc:"Platforms it runs on."`
	PolicyURL   string   `yaml:"policy_url" req:"true"`
	Permissions []string `yaml:"permissions" enum:"none,camera,microphone,location,storage,contacts,phone,sms,calendar,bluetooth,wifi,notifications,photos,sensors,nfc,clipboard,install_apps,network" doc:"Device permissions it uses; [none] when the policy says it uses none. Unset: the policy does not say."`
	AutoStart   *bool    `yaml:"auto_start" doc:"Starts itself or is woken in the background. Unset: the policy does not say."`
	AutoReason  Text     `yaml:"auto_start_reason" doc:"Why it auto-starts; required when auto_start is true."`
	Country     string   `yaml:"country" doc:"Where the SDK provider processes the data (ISO 3166-1 alpha-2)."`
	Basis       string   `yaml:"basis" enum:"consent,contract,hr_management,legal_obligation,vital_interests,public_interest,news_reporting,publicly_disclosed,legitimate_interests,other_law" doc:"Legal basis of the provision; defaults to that of its purposes."`
}

// Recipient receives personal information from the controller.
type Recipient struct {
	ID              string   `yaml:"id" req:"true"`
	Name            Text     `yaml:"name" req:"true"`
	Kind            string   `yaml:"kind" req:"true" enum:"affiliate,entrusted_processor,independent_controller,partner,advertiser,authority,professional_adviser,user_directed" doc:"Relationship to the controller."`
	Categories      []string `yaml:"categories" req:"true"`
	Purposes        []string `yaml:"purposes" req:"true"`
	Description     Text     `yaml:"description"`
	Country         string   `yaml:"country" doc:"Where the recipient processes the data (ISO 3166-1 alpha-2)."`
	SeparateConsent bool     `yaml:"separate_consent" doc:"Separate consent is asked before provision."`
	Safeguards      Text     `yaml:"safeguards" doc:"Contractual or technical safeguards."`
	Deidentified    bool     `yaml:"deidentified" doc:"Receives only de-identified or statistical data."`
	Endpoint        string   `yaml:"endpoint" doc:"Webhook URL for erasure and correction notices."`
	NoticeEmail     string   `yaml:"notice_email" doc:"Address for notices when there is no endpoint."`
}

// Sharing holds the rules for provision, transfer and public disclosure.
type Sharing struct {
	Principles       []Text            `yaml:"principles" doc:"General rules for provision to third parties."`
	Exceptions       []Ref             `yaml:"exceptions" doc:"Cases where provision, transfer or disclosure needs no consent (built-in ids)."`
	Transfer         *Transfer         `yaml:"transfer" doc:"Transfer on merger, acquisition, division or bankruptcy."`
	PublicDisclosure *PublicDisclosure `yaml:"public_disclosure"`
	ThirdPartyLinks  Text              `yaml:"third_party_links" doc:"Statement on services provided directly by third parties."`
	EntrustingTerms  bool              `yaml:"entrusting_terms" doc:"The policy states the terms of entrusted processing (PIPL art. 21): agreed purpose, period, manner and measures, supervision, no other use."`
	IndependentTerms bool              `yaml:"independent_terms" doc:"The policy says independent recipients must ask for consent again if they change the purpose or manner of processing (PIPL art. 23)."`
	SDKChecks        bool              `yaml:"sdk_checks" doc:"The policy says SDK providers are tested for security and bound by contract."`
}

// Transfer describes what happens to personal information on a merger or similar event.
type Transfer struct {
	NewHolderBound bool `yaml:"new_holder_bound" doc:"The new holder is bound by the policy or must ask for consent again."`
	Notify         bool `yaml:"notify" doc:"Subjects are told the new holder's name and contact."`
	Text           Text `yaml:"text"`
}

// PublicDisclosure describes when personal information is disclosed publicly.
type PublicDisclosure struct {
	Never           bool   `yaml:"never" doc:"Personal information is never publicly disclosed except as the law requires."`
	SeparateConsent bool   `yaml:"separate_consent" doc:"Public disclosure needs separate consent."`
	Cases           []Text `yaml:"cases" doc:"Cases in which disclosure happens."`
}

// Security describes protection measures, certifications and incident handling.
type Security struct {
	Measures       []Measure       `yaml:"measures"`
	Certifications []Certification `yaml:"certifications"`
	Incident       *Incident       `yaml:"incident"`
	Liability      Text            `yaml:"liability" doc:"What the controller answers for if its safeguards fail."`
}

// Measure is one protection measure.
type Measure struct {
	Kind string `yaml:"kind" req:"true" enum:"encryption,access_control,de_identification,minimisation,audit_logging,training,vendor_management,backup,intrusion_prevention,incident_response,physical,organisational,other"`
	Text Text   `yaml:"text" req:"true"`
}

// Certification is a security or privacy certification held.
type Certification struct {
	ID    string `yaml:"id" req:"true" doc:"E.g. mlps_level_3, iso27001, iso27701."`
	Name  Text   `yaml:"name" req:"true"`
	Scope Text   `yaml:"scope"`
}

// Incident describes how people are told of a security incident.
type Incident struct {
	Channels           []string `yaml:"channels" req:"true" enum:"email,sms,phone,push,in_app,letter,announcement" doc:"How affected people are told."`
	Contents           []string `yaml:"contents" enum:"what_happened,impact,measures,self_protection,remedies" doc:"What the notice tells them, as the policy lists it (PIPL art. 57): what happened, its possible impact, the measures taken, how they can protect themselves, the remedies. Unset: the policy lists nothing."`
	PublicAnnouncement bool     `yaml:"public_announcement" doc:"Announce publicly when individual notice is impractical."`
	ReportRegulator    bool     `yaml:"report_regulator" doc:"Report to the regulator."`
	ResponseTeam       bool     `yaml:"response_team" doc:"A dedicated response team and plan exist."`
	NoticeWithin       string   `yaml:"notice_within" doc:"How soon after an incident is discovered the affected people are told (PIPL art. 57 \"promptly\", GDPR art. 34 \"without undue delay\"): a duration in hours or minutes such as 24h or 90m, at most 720h. Unset: 24h. Custos counts it down; the policy does not print it."`
	CriticalInfra      bool     `yaml:"critical_infrastructure" doc:"The controller operates critical information infrastructure: an incident rated relatively serious or graver is reported to the CN regulator within 1 hour instead of 4."`
	Escalate           []string `yaml:"escalate" doc:"Email addresses of the operators told when an incident's clock enters its warning window or passes its deadline, once per clock and stage. The policy does not print them."`
}

// Storage says where data lives and how it crosses borders.
type Storage struct {
	Locations       []Location    `yaml:"locations" doc:"Where personal information is stored; leave out when the policy does not say."`
	CrossBorder     []CrossBorder `yaml:"cross_border"`
	Discontinuation Text          `yaml:"discontinuation" doc:"What happens to personal information when the service ends."`
	Shortest        bool          `yaml:"shortest_necessary" doc:"The policy says personal information is kept only for the shortest time the purpose needs."`
	ExpiryClause    bool          `yaml:"expiry_clause" doc:"The policy says that at the end of retention information is deleted or anonymised, and that processing stops, but for storage and security, where deletion is technically difficult."`
	TransferTerms   bool          `yaml:"transfer_safeguards" doc:"The policy says recipients abroad must protect personal information to the standard of PRC law, and that people are told the recipient's details."`
	Thresholds      *Thresholds   `yaml:"transfer_thresholds" doc:"Yearly numbers of people whose information goes abroad at which a transfer from CN needs a stronger legal mechanism. Leave out for the CAC Provisions on Promoting and Regulating Cross-Border Data Flows (2024); the policy prints nothing from it."`
}

// Thresholds are the yearly numbers of people, counted from 1 January
// (China time), at which exports of personal information from CN need a
// stronger mechanism. Zero fields take the defaults of the CAC
// Provisions on Promoting and Regulating Cross-Border Data Flows (2024).
type Thresholds struct {
	ContractFrom            int `yaml:"contract_from" doc:"People whose personal information other than sensitive goes abroad in a year from which a standard contract (or certification) is needed; below it, and with no sensitive information, the export is exempt. Default 100000."`
	AssessmentAbove         int `yaml:"assessment_above" doc:"People whose personal information other than sensitive goes abroad in a year above which a security assessment is needed. Default 1000000."`
	SensitiveAssessmentFrom int `yaml:"sensitive_assessment_from" doc:"People whose sensitive personal information goes abroad in a year from which a security assessment is needed; below it, a standard contract (or certification). Default 10000."`
}

// Location is a storage location.
type Location struct {
	ID         string   `yaml:"id" req:"true"`
	Country    string   `yaml:"country" doc:"ISO 3166-1 alpha-2 country code; leave out, and give where, when the policy names no country."`
	Where      Text     `yaml:"where" doc:"The place as the policy words it (\"the servers of our cloud provider\"), when it names no country."`
	Abroad     bool     `yaml:"abroad" doc:"With where: the place is outside the country where the information is collected, though the policy names no country."`
	Region     Text     `yaml:"region"`
	Categories []string `yaml:"categories" doc:"Category ids stored there; empty means all."`
	Encrypted  bool     `yaml:"encrypted" doc:"Stored encrypted."`
}

// CrossBorder is a transfer of personal information out of the country of collection.
type CrossBorder struct {
	ID              string   `yaml:"id" req:"true"`
	From            string   `yaml:"from" doc:"Country of collection (ISO 3166-1 alpha-2); defaults to CN."`
	To              []string `yaml:"to" doc:"Destination countries (ISO 3166-1 alpha-2); leave out, and give to_text, when the policy names none."`
	ToText          Text     `yaml:"to_text" doc:"The destination as the policy words it, when it names no country."`
	Categories      []string `yaml:"categories" req:"true"`
	Purposes        []string `yaml:"purposes" req:"true"`
	Recipient       string   `yaml:"recipient" doc:"Recipient id, if a named recipient."`
	Mechanism       string   `yaml:"mechanism" req:"true" enum:"security_assessment,standard_contract,certification,adequacy,eu_scc,bcr,consent,de_identified,exemption" doc:"Legal mechanism of the transfer."`
	SeparateConsent bool     `yaml:"separate_consent" doc:"Separate consent is asked for the transfer."`
	Description     Text     `yaml:"description"`
}

// Retention is a retention rule.
type Retention struct {
	ID         string   `yaml:"id" req:"true"`
	Categories []string `yaml:"categories" doc:"Category ids the rule covers."`
	Purposes   []string `yaml:"purposes" doc:"Purpose ids the rule covers."`
	Period     *Period  `yaml:"period" doc:"Fixed period, counted from the event in 'from'."`
	Until      string   `yaml:"until" enum:"account_deletion,purpose_fulfilled,consent_withdrawn,service_end,legal_minimum" doc:"Event that ends retention, when there is no fixed period."`
	From       string   `yaml:"from" enum:"collection,account_deletion,last_activity,contract_end,transaction" doc:"Event from which a fixed period is counted."`
	After      string   `yaml:"after" req:"true" enum:"delete,anonymise,restrict" doc:"What happens when retention ends."`
	Reason     Text     `yaml:"reason" doc:"Why this period (law, contract, …)."`
}

// VaultField is a field of personal information kept in the vault.
type VaultField struct {
	Field     string       `yaml:"field" req:"true" doc:"The field's name in the API (PUT /v1/subjects/{subject_id}/vault/{field}): lower-case letters, digits and _."`
	Category  string       `yaml:"category" req:"true" doc:"Category id of the value (built-in or manifest). Some service must collect it: a read names one of the purposes services[].collects[] lists for it."`
	Mask      string       `yaml:"mask" req:"true" enum:"phone,email,id_number,name,last4,hidden" doc:"How a read not allowed in clear shows the value: phone +86138****8000; email a***@example.com; id_number first and last character; name the first character; last4 the last four characters; hidden nothing."`
	Clear     []VaultClear `yaml:"clear" doc:"Who reads the value in clear, and for which purposes; every other allowed read is masked. Empty: every read is masked."`
	Retention Text         `yaml:"retention" doc:"How long the value is kept, in words, for operators. What deletes it is the retention rules on the field's category: a fixed period from collection deletes each value once that period has passed since it was last written (the longest, when several rules name the category); otherwise the value goes when the person is erased or it is deleted."`
}

// VaultClear lets roles read a vault field in clear for one purpose.
type VaultClear struct {
	Purpose string   `yaml:"purpose" req:"true" doc:"Purpose id: one the field's category is collected for."`
	Roles   []string `yaml:"roles" req:"true" enum:"admin,operator,service" doc:"API key roles that read the value in clear for the purpose."`
}

// Period is a length of time.
type Period struct {
	Count int    `yaml:"count" req:"true"`
	Unit  string `yaml:"unit" req:"true" enum:"days,months,years"`
}

// Rights describes the rights offered and how they run.
type Rights struct {
	Offered        []Right       `yaml:"offered" req:"true"`
	Deadlines      []Deadline    `yaml:"deadlines" req:"true" doc:"Response deadlines per right and jurisdiction. A deadline without rights applies to all; without jurisdictions, to every jurisdiction."`
	Verification   Text          `yaml:"verification" doc:"How identity is verified before a request is answered."`
	Cancellation   *Cancellation `yaml:"account_cancellation"`
	Fees           *Fees         `yaml:"fees" doc:"Fee policy for requests, if the policy states one."`
	RefusalGrounds []Ref         `yaml:"refusal_grounds" doc:"Statutory grounds on which a request may be refused (built-in ids or {id, text})."`
	Restrictions   []Text        `yaml:"limits" doc:"Other limits on rights (e.g. requests needing disproportionate effort), in the policy's words."`
	LimitGrounds   []string      `yaml:"limit_grounds" enum:"unreasonably_repeated,excessive_technical_means,risk_to_others,impractical" doc:"The grounds the limits text states, as built-in refusal grounds: the rights workflow offers them when refusing a request. The policy prints the limits text, not these."`
	Deceased       *Deceased     `yaml:"deceased" doc:"Rights of close relatives of a deceased person."`
	RefusalNotice  bool          `yaml:"refusal_notice" doc:"The policy promises to tell the requester when a request is refused, and why."`
	WithdrawEffect Text          `yaml:"withdrawal_effect" doc:"What withdrawing consent does and does not affect."`
}

// Right is one right and how it is exercised.
type Right struct {
	Right         string   `yaml:"right" req:"true" enum:"access,copy,portability,correction,deletion,withdraw_consent,cancel_account,restriction,objection,explain_automated_decision,explain_rules,complaint,deceased" doc:"Which right."`
	Jurisdictions []string `yaml:"jurisdictions" doc:"Jurisdiction ids where it applies; empty means everywhere."`
	SelfService   Text     `yaml:"self_service" doc:"Where in the product the user can do it alone."`
	Channels      []string `yaml:"channels" doc:"Contact channel ids that accept the request."`
	How           Text     `yaml:"how" doc:"Further instructions."`
	Conditions    Text     `yaml:"conditions" doc:"Conditions or limits specific to this right."`
	LimitGrounds  []string `yaml:"limit_grounds" doc:"The grounds this right's conditions state, as built-in refusal ground ids: a request of this right may be refused on them where the right applies. The policy prints the conditions, not these."`
}

// Deadline is a response deadline.
type Deadline struct {
	ID            string     `yaml:"id" doc:"Optional name of the deadline."`
	Rights        []string   `yaml:"rights" enum:"access,copy,portability,correction,deletion,withdraw_consent,cancel_account,restriction,objection,explain_automated_decision,explain_rules,complaint,deceased"`
	Jurisdictions []string   `yaml:"jurisdictions"`
	Count         int        `yaml:"count" req:"true"`
	Unit          string     `yaml:"unit" req:"true" enum:"calendar_days,working_days,months" doc:"working_days count on the PRC working-day calendar."`
	Extension     *Extension `yaml:"extension" doc:"Extension allowed for complex or numerous requests."`
	Clock         string     `yaml:"clock" enum:"pause,restart,run" doc:"What waiting on the subject (e.g. for identity verification) does to the clock; the policy states it. Unset: the clock runs, as the policy then promises the period from receipt."`
}

// Extension is how far a deadline may be extended.
type Extension struct {
	Count                   int    `yaml:"count" req:"true"`
	Unit                    string `yaml:"unit" req:"true" enum:"calendar_days,working_days,months"`
	NoticeWithinFirstPeriod bool   `yaml:"notice_within_first_period" doc:"The subject is told of the extension and its reason within the first period."`
}

// Cancellation describes account cancellation.
type Cancellation struct {
	CoolingOffDays int  `yaml:"cooling_off_days" doc:"Days before cancellation takes effect."`
	Withdrawable   bool `yaml:"withdrawable" doc:"The policy says a cancellation can be withdrawn until it takes effect."`
	SelfService    Text `yaml:"self_service"`
	Effect         Text `yaml:"effect" doc:"What cancellation does to the user's information."`
	// Terms are the policy's terms for a cancellation that comes through
	// a given channel, where they differ by channel.
	Terms []CancellationTerm `yaml:"terms" doc:"Per-channel terms: how long a cancellation applied for through a channel takes (e.g. immediate in the app, 30 working days by email). A request that names the channel it came through (via) is due by its term instead of rights.deadlines."`
}

// SelfServiceChannel names the product's own cancellation (account_cancellation.self_service) in a term.
const SelfServiceChannel = "self_service"

// CancellationTerm is how long an account cancellation applied for
// through one channel takes.
type CancellationTerm struct {
	Channel string `yaml:"channel" req:"true" doc:"A contact channel id (contact.channels), or self_service for the product's own cancellation."`
	Count   int    `yaml:"count" doc:"Within how many units the cancellation is completed; 0 (the default) means it takes effect at once, with no unit."`
	Unit    string `yaml:"unit" enum:"calendar_days,working_days,months" doc:"Unit of count; required when count is above 0."`
}

// Fees is the fee policy for requests.
type Fees struct {
	Policy         string  `yaml:"policy" req:"true" enum:"free,free_except_repeated,conditional,cost_based" doc:"free; free except a cost-based fee for repeated requests (repeated_window and repeated_count say which); conditional: a fee may be charged in cases the text describes; always cost-based."`
	RepeatedWindow *Period `yaml:"repeated_window" doc:"Window in which requests count as repeated."`
	RepeatedCount  int     `yaml:"repeated_count" doc:"Requests in the window above which a request counts as repeated."`
	Text           Text    `yaml:"text"`
}

// Deceased describes requests by close relatives of a deceased person.
type Deceased struct {
	Allowed bool `yaml:"allowed" req:"true"`
	Text    Text `yaml:"text"`
}

// Minors describes the treatment of minors.
type Minors struct {
	Stance          string      `yaml:"stance" req:"true" enum:"adults_only,guardian_consent,not_directed" doc:"adults_only: people under age_threshold are not served, for any purpose; guardian_consent: people under age_threshold are served only with a guardian's consent, for every purpose; not_directed: not aimed at children, no rule at run time."`
	AgeThreshold    int         `yaml:"age_threshold" doc:"Age below which the stance applies (14 under PIPL for a guardian's consent, 18 for adulthood, 13 under COPPA, 16 under GDPR). Defaults to 18 with adults_only."`
	GuardianConsent bool        `yaml:"guardian_consent" doc:"A guardian must consent for subjects under the threshold."`
	UnknownAge      string      `yaml:"unknown_age" enum:"adult,minor,ask" doc:"How a person whose age is not known is treated: adult; minor (the stance applies); ask (no processing the stance covers until the age is known). Required with adults_only and guardian_consent."`
	DeleteIfFound   bool        `yaml:"delete_if_discovered" doc:"Information collected without a guardian's consent is deleted once discovered: an erasure request is opened when a person turns out to be under the threshold without one."`
	Jurisdictions   []MinorRule `yaml:"jurisdictions" doc:"Jurisdictions whose stance, age threshold or unknown-age rule differs from the above."`
	Text            Text        `yaml:"text"`
}

// MinorRule is the treatment of minors in one jurisdiction.
type MinorRule struct {
	Jurisdiction string `yaml:"jurisdiction" req:"true" doc:"Jurisdiction id."`
	Stance       string `yaml:"stance" enum:"adults_only,guardian_consent,not_directed" doc:"Defaults to the general stance."`
	AgeThreshold int    `yaml:"age_threshold" doc:"Defaults to the general threshold."`
	UnknownAge   string `yaml:"unknown_age" enum:"adult,minor,ask" doc:"Defaults to the general rule."`
}

// Assessment is a personal-information protection impact assessment
// (PIPL art. 55–56, GB/T 39335-2020). The policy prints its date, subject
// and risk; the rest is the organisation's record of the assessment, kept
// with every version of the manifest.
type Assessment struct {
	ID      string `yaml:"id" req:"true"`
	Date    Date   `yaml:"date" req:"true"`
	Subject Text   `yaml:"subject" req:"true" doc:"What was assessed."`
	Risk    string `yaml:"risk" req:"true" enum:"low,medium,high"`
	Publish bool   `yaml:"publish" doc:"The report is published."`
	// Activities are the processing activities covered: purpose ids, or
	// PublicDisclosureActivity.
	Activities []string `yaml:"activities" doc:"Processing activities the assessment covers: purpose ids, or public_disclosure for the public disclosure of sharing.public_disclosure. An activity that needs an assessment (PIPL art. 55) is covered only by one that lists it."`
	Assessor   Text     `yaml:"assessor" doc:"Who carried out the assessment (a department or a named person)."`
	Scope      Text     `yaml:"scope" doc:"What the assessment looked at: systems, data, parties."`
	Lawfulness Text     `yaml:"lawfulness" doc:"Whether the purpose and the means of processing are lawful, legitimate and necessary (PIPL art. 56(1))."`
	Impact     Text     `yaml:"impact" doc:"The impact on people's rights and interests, and the security risks (PIPL art. 56(2))."`
	Measures   Text     `yaml:"measures" doc:"Whether the protection measures are lawful, effective and proportionate to the risk (PIPL art. 56(3))."`
	Conclusion Text     `yaml:"conclusion" doc:"The assessor's conclusion."`
	Digest     string   `yaml:"digest" doc:"Fingerprint of the covered activities' material content as assessed, written by custos pia draft (sha256:…). When the activities change materially it no longer matches, and the assessment is due for review."`
	Review     *Period  `yaml:"review_every" doc:"How often the assessment is reviewed; once this long has passed since date it is due. Unset: only a material change makes it due."`
}

// PublicDisclosureActivity names the public disclosure of personal
// information (sharing.public_disclosure) as an activity an assessment covers.
const PublicDisclosureActivity = "public_disclosure"

// Definition is a term defined in the policy.
type Definition struct {
	Term Text `yaml:"term" req:"true"`
	Text Text `yaml:"text" req:"true"`
}

// ExtraSection is a section the structured model does not cover.
type ExtraSection struct {
	ID    string `yaml:"id" req:"true"`
	After string `yaml:"after" req:"true" enum:"intro,collection,cookies,sharing,security,storage,rights,minors,updates,contact,complaints" doc:"Section after which it is placed."`
	Title Text   `yaml:"title" req:"true"`
	Body  []Text `yaml:"body" req:"true"`
}

// JurisdictionRules names a jurisdiction with its own rights or deadlines.
type JurisdictionRules struct {
	ID   string `yaml:"id" req:"true" doc:"E.g. CN, EU, US-CA."`
	Name Text   `yaml:"name" req:"true"`
	Law  Text   `yaml:"law" doc:"The law that grants the rights."`
}
