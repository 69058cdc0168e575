package incident

import (
	"bytes"
	"context"
	"fmt"
	htmltemplate "html/template"
	"strings"
	"text/template"
	"time"

	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/notify"
)

// Document kinds.
const (
	KindReport       = "report"       // to the regulator
	KindAnnouncement = "announcement" // public, when individual notice is impractical
)

// Formats a document renders in.
const (
	FormatMarkdown = "md"
	FormatHTML     = "html"
)

// ContentType is the media type of a document in format.
func ContentType(format string) string {
	if format == FormatHTML {
		return "text/html; charset=utf-8"
	}
	return "text/markdown; charset=utf-8"
}

// levelNames are the severity levels as each language names them.
var levelNames = map[string][2]string{
	CNExtremelySerious:  {"特别重大", "extremely serious"},
	CNSerious:           {"重大", "serious"},
	CNRelativelySerious: {"较大", "relatively serious"},
	CNGeneral:           {"一般", "general"},
	EUHighRisk:          {"高风险", "high risk"},
	EURisk:              {"有风险", "risk"},
	EUNoRisk:            {"不太可能产生风险", "unlikely to result in a risk"},
}

var clockNames = map[string][2]string{
	ClockCNRegulator: {"向监管部门报告（中国）", "report to the regulator (CN)"},
	ClockCNSubjects:  {"告知个人（中国）", "notice to individuals (CN)"},
	ClockEUAuthority: {"向监管机构通知（欧盟）", "notification to the supervisory authority (EU)"},
	ClockEUSubjects:  {"告知数据主体（欧盟）", "communication to data subjects (EU)"},
}

// sourceNames are the clocks' legal sources as each language cites them.
var sourceNames = map[string][2]string{
	ClockCNRegulator: {"《国家网络安全事件报告管理办法》（2025）", "National Cybersecurity Incident Reporting Measures (2025)"},
	ClockCNSubjects:  {"《个人信息保护法》第五十七条", "PIPL art. 57"},
	ClockEUAuthority: {"GDPR 第 33 条第 1 款", "GDPR art. 33(1)"},
	ClockEUSubjects:  {"GDPR 第 34 条第 1 款", "GDPR art. 34(1)"},
}

var stageNames = map[string][2]string{
	StageRunning: {"计时中", "running"},
	StageWarning: {"即将届满", "deadline near"},
	StageOverdue: {"已逾期", "overdue"},
	StageMet:     {"已按时完成", "met"},
	StageLate:    {"逾期完成", "met late"},
}

var stateNames = map[string][2]string{
	StateOpen:     {"已立案", "open"},
	StateAssessed: {"已评估", "assessed"},
	StateNotified: {"已报告/告知", "notified"},
	StateClosed:   {"已结案", "closed"},
}

// Document is what the report and announcement templates read.
type Document struct {
	Lang         string
	Organisation string
	Contact      string
	Incident     Incident
	Categories   string
	Datastores   string
	Severity     []Line
	Clocks       []Line
	Counts       []Line
	Timeline     []Line
	Description  string
	Cause        string
	Harm         string
	Measures     string
	Advice       string
	Remedies     string
	BeganAt      string
	DiscoveredAt string
	ContainedAt  string
	Window       string
	State        string
	ReportedAt   string
	NotifiedAt   string
	Unwindowed   string
}

// Line is a label and its value.
type Line struct{ Label, Value string }

func pick(n [2]string, lang string) string {
	if lang == notify.LangZH {
		return n[0]
	}
	return n[1]
}

func w(lang, zh, en string) string {
	if lang == notify.LangZH {
		return zh
	}
	return en
}

func stamp(t *time.Time, lang string) string {
	if t == nil {
		return w(lang, "未知", "not known")
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// NewDocument gathers what the documents say of the incident in lang:
// facts, counts, measures, clocks and timeline, never a person.
func NewDocument(i Incident, m *manifest.Manifest, clocks []Clock, deliveries map[string]int, lang string) Document {
	d := Document{Lang: lang, Incident: i, Contact: contactOf(m, lang), Categories: categoryNames(i.Categories, m, lang),
		Description: i.Description.In(lang), Cause: i.Cause.In(lang), Harm: i.Harm.In(lang), Measures: i.Measures.In(lang),
		Advice: i.Advice.In(lang), Remedies: i.Remedies.In(lang),
		BeganAt: stamp(i.BeganAt, lang), DiscoveredAt: stamp(&i.DiscoveredAt, lang), ContainedAt: stamp(i.ContainedAt, lang),
		State: pick(stateNames[i.State], lang)}
	if i.ContainedAt == nil {
		d.ContainedAt = w(lang, "尚未控制", "not yet contained")
	}
	if m != nil && len(m.Controllers) > 0 {
		d.Organisation = m.Controllers[0].Name.In(lang)
	}
	d.Datastores = strings.Join(i.Datastores, ", ")
	if d.Datastores == "" {
		d.Datastores = w(lang, "全部已标注的数据存储", "every annotated datastore")
	}
	from, to := w(lang, "不限", "open"), w(lang, "不限", "open")
	if i.Window.From != nil {
		from = stamp(i.Window.From, lang)
	}
	if i.Window.To != nil {
		to = stamp(i.Window.To, lang)
	}
	d.Window = from + " – " + to
	for _, j := range i.Jurisdictions {
		lv := i.Level(j)
		v := w(lang, "尚未评估", "not assessed")
		if lv != "" {
			v = pick(levelNames[lv], lang) + " (" + lv + ")"
		}
		d.Severity = append(d.Severity, Line{j, v})
	}
	for _, c := range clocks {
		v := fmt.Sprintf("%s %s; %s", w(lang, "期限", "deadline"), c.Deadline.UTC().Format("2006-01-02 15:04 UTC"), pick(stageNames[c.Stage], lang))
		if c.MetAt != nil {
			v += "; " + w(lang, "完成于", "done at") + " " + stamp(c.MetAt, lang)
		}
		if c.Provisional {
			v += w(lang, "（暂定，待评估）", " (provisional, until assessed)")
		}
		d.Clocks = append(d.Clocks, Line{pick(clockNames[c.Name], lang) + " — " + pick(sourceNames[c.Name], lang), v})
	}
	if a := i.Affected; a != nil {
		d.Counts = append(d.Counts,
			Line{w(lang, "受影响的个人（Custos 已知）", "people affected (known to Custos)"), fmt.Sprint(a.Subjects)},
			Line{w(lang, "涉及的记录行", "records concerned"), fmt.Sprint(a.Rows)},
			Line{w(lang, "无法对应到已知个人的记录行", "records not tied to a person Custos knows"), fmt.Sprint(a.Unknown)},
			Line{w(lang, "Custos 保管库中受影响的个人", "people with affected values in Custos's vault"), fmt.Sprint(a.Vault)})
		d.Unwindowed = strings.Join(a.Unwindowed, ", ")
	} else {
		d.Counts = append(d.Counts, Line{w(lang, "受影响的个人", "people affected"), w(lang, "尚未评估", "not assessed yet")})
	}
	if deliveries != nil {
		d.Counts = append(d.Counts,
			Line{w(lang, "已发送的告知", "notices sent"), fmt.Sprint(deliveries[notify.StatusSent])},
			Line{w(lang, "待发送的告知", "notices pending"), fmt.Sprint(deliveries[notify.StatusPending])},
			Line{w(lang, "发送失败的告知", "notices that failed"), fmt.Sprint(deliveries[notify.StatusDead])},
			Line{w(lang, "无联系方式或尚未告知的个人", "people without an address or not yet told"), fmt.Sprint(deliveries["none"])})
	}
	if i.ReportedAt != nil {
		d.ReportedAt = stamp(i.ReportedAt, lang)
	}
	if i.NotifiedAt != nil {
		d.NotifiedAt = stamp(i.NotifiedAt, lang)
	}
	for _, e := range i.Timeline {
		v := e.Action
		if e.Detail != "" {
			v += " — " + e.Detail
		}
		d.Timeline = append(d.Timeline, Line{e.At.UTC().Format("2006-01-02 15:04 UTC"), v})
	}
	return d
}

var mdFuncs = template.FuncMap{"w": w}

var (
	reportMD       = template.Must(template.New("report").Funcs(mdFuncs).Parse(reportMarkdown))
	announcementMD = template.Must(template.New("announcement").Funcs(mdFuncs).Parse(announcementMarkdown))
	reportHTMLT    = htmltemplate.Must(htmltemplate.New("report").Funcs(htmltemplate.FuncMap{"w": w}).Parse(reportHTML))
)

// Render renders a document (KindReport, KindAnnouncement) in a format
// (FormatMarkdown; FormatHTML for the report).
func Render(d Document, kind, format string) ([]byte, error) {
	var b bytes.Buffer
	var err error
	switch {
	case kind == KindReport && format == FormatMarkdown:
		err = reportMD.Execute(&b, d)
	case kind == KindReport && format == FormatHTML:
		err = reportHTMLT.Execute(&b, d)
	case kind == KindAnnouncement && format == FormatMarkdown:
		err = announcementMD.Execute(&b, d)
	default:
		return nil, invalid("format", "invalid_format", "a report renders as md or html, an announcement as md")
	}
	if err != nil {
		return nil, fmt.Errorf("incident: render %s: %w", kind, err)
	}
	return b.Bytes(), nil
}

// Document renders one of the incident's documents in lang and format,
// from its record, the policy in force and its notices' delivery.
func (s *Service) Document(ctx context.Context, id, kind, lang, format string) ([]byte, error) {
	if lang != notify.LangZH && lang != notify.LangEN {
		return nil, invalid("lang", "invalid_language", "documents are written in zh-CN or en")
	}
	i, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	m, err := s.policy(ctx)
	if err != nil {
		return nil, err
	}
	dl, err := s.st.IncidentDeliveries(ctx, id)
	if err != nil {
		return nil, err
	}
	return Render(NewDocument(i, m, Clocks(i, SettingsOf(m), s.opt.Now()), dl, lang), kind, format)
}

const reportMarkdown = `# {{w .Lang "个人信息安全事件报告" "Personal information security incident report"}}

{{w .Lang "报告单位" "Reported by"}}: {{.Organisation}}
{{w .Lang "事件编号" "Incident"}}: {{.Incident.ID}}
{{w .Lang "状态" "State"}}: {{.State}}

## {{w .Lang "事件经过" "What happened"}}

{{.Description}}

- {{w .Lang "原因" "Cause"}}: {{with .Cause}}{{.}}{{else}}{{w $.Lang "调查中" "under investigation"}}{{end}}
- {{w .Lang "开始时间" "Began"}}: {{.BeganAt}}
- {{w .Lang "发现时间" "Discovered"}}: {{.DiscoveredAt}}
- {{w .Lang "控制时间" "Contained"}}: {{.ContainedAt}}
- {{w .Lang "涉及的个人信息种类" "Personal information concerned"}}: {{.Categories}}
- {{w .Lang "涉及的数据存储" "Datastores concerned"}}: {{.Datastores}}
- {{w .Lang "涉及的时间范围" "Period of the data concerned"}}: {{.Window}}

## {{w .Lang "事件级别" "Severity"}}
{{range .Severity}}
- {{.Label}}: {{.Value}}
{{- end}}

## {{w .Lang "影响范围" "Scale"}}
{{range .Counts}}
- {{.Label}}: {{.Value}}
{{- end}}
{{- with .Unwindowed}}

{{w $.Lang "以下数据集合没有时间字段，其全部记录均计入" "These collections have no time field; every record of them is counted"}}: {{.}}
{{- end}}

## {{w .Lang "可能造成的危害" "Possible harm"}}

{{with .Harm}}{{.}}{{else}}{{w $.Lang "评估中" "being assessed"}}{{end}}

## {{w .Lang "已采取的措施" "Measures taken"}}

{{with .Measures}}{{.}}{{else}}{{w $.Lang "评估中" "being assessed"}}{{end}}
{{- with .Advice}}

## {{w $.Lang "建议个人采取的措施" "What the people can do"}}

{{.}}
{{- end}}

## {{w .Lang "时限" "Deadlines"}}
{{range .Clocks}}
- {{.Label}}: {{.Value}}
{{- else}}
- {{w .Lang "无" "none"}}
{{- end}}

## {{w .Lang "处置经过" "Timeline"}}
{{range .Timeline}}
- {{.Label}}: {{.Value}}
{{- end}}

## {{w .Lang "联系人" "Contact"}}

{{.Contact}}
`

const announcementMarkdown = `# {{.Organisation}}{{w .Lang "关于个人信息安全事件的公告" ": notice of a personal information security incident"}}

{{w .Lang "我们发生了一起个人信息安全事件，部分用户的个人信息可能受到影响。由于无法逐一告知每一位受影响的个人，我们特此公告。" "A security incident has occurred that may affect the personal information of some of our users. As we cannot reach each of them individually, we announce it here."}}

## {{w .Lang "发生了什么" "What happened"}}

{{.Description}}

{{w .Lang "发现时间" "Discovered"}}: {{.DiscoveredAt}}

## {{w .Lang "涉及的个人信息" "Personal information concerned"}}

{{.Categories}}
{{- with .Cause}}

## {{w $.Lang "原因" "Cause"}}

{{.}}
{{- end}}
{{- with .Harm}}

## {{w $.Lang "可能造成的危害" "Possible harm"}}

{{.}}
{{- end}}
{{- with .Measures}}

## {{w $.Lang "我们采取的措施" "What we have done"}}

{{.}}
{{- end}}
{{- with .Advice}}

## {{w $.Lang "您可以采取的措施" "What you can do"}}

{{.}}
{{- end}}
{{- with .Remedies}}

## {{w $.Lang "您的救济途径" "Your remedies"}}

{{.}}
{{- end}}

## {{w .Lang "联系我们" "Contact us"}}

{{.Contact}}

{{w .Lang "事件编号" "Incident reference"}}: {{.Incident.ID}}
`

const reportHTML = `<!DOCTYPE html>
<html lang="{{.Lang}}">
<head><meta charset="utf-8"><title>{{w .Lang "个人信息安全事件报告" "Personal information security incident report"}} {{.Incident.ID}}</title></head>
<body>
<h1>{{w .Lang "个人信息安全事件报告" "Personal information security incident report"}}</h1>
<p>{{w .Lang "报告单位" "Reported by"}}: {{.Organisation}}<br>
{{w .Lang "事件编号" "Incident"}}: {{.Incident.ID}}<br>
{{w .Lang "状态" "State"}}: {{.State}}</p>
<h2>{{w .Lang "事件经过" "What happened"}}</h2>
<p>{{.Description}}</p>
<ul>
<li>{{w .Lang "原因" "Cause"}}: {{with .Cause}}{{.}}{{else}}{{w $.Lang "调查中" "under investigation"}}{{end}}</li>
<li>{{w .Lang "开始时间" "Began"}}: {{.BeganAt}}</li>
<li>{{w .Lang "发现时间" "Discovered"}}: {{.DiscoveredAt}}</li>
<li>{{w .Lang "控制时间" "Contained"}}: {{.ContainedAt}}</li>
<li>{{w .Lang "涉及的个人信息种类" "Personal information concerned"}}: {{.Categories}}</li>
<li>{{w .Lang "涉及的数据存储" "Datastores concerned"}}: {{.Datastores}}</li>
<li>{{w .Lang "涉及的时间范围" "Period of the data concerned"}}: {{.Window}}</li>
</ul>
<h2>{{w .Lang "事件级别" "Severity"}}</h2>
<ul>{{range .Severity}}
<li>{{.Label}}: {{.Value}}</li>{{end}}
</ul>
<h2>{{w .Lang "影响范围" "Scale"}}</h2>
<ul>{{range .Counts}}
<li>{{.Label}}: {{.Value}}</li>{{end}}
</ul>{{with .Unwindowed}}
<p>{{w $.Lang "以下数据集合没有时间字段，其全部记录均计入" "These collections have no time field; every record of them is counted"}}: {{.}}</p>{{end}}
<h2>{{w .Lang "可能造成的危害" "Possible harm"}}</h2>
<p>{{with .Harm}}{{.}}{{else}}{{w $.Lang "评估中" "being assessed"}}{{end}}</p>
<h2>{{w .Lang "已采取的措施" "Measures taken"}}</h2>
<p>{{with .Measures}}{{.}}{{else}}{{w $.Lang "评估中" "being assessed"}}{{end}}</p>{{with .Advice}}
<h2>{{w $.Lang "建议个人采取的措施" "What the people can do"}}</h2>
<p>{{.}}</p>{{end}}
<h2>{{w .Lang "时限" "Deadlines"}}</h2>
<ul>{{range .Clocks}}
<li>{{.Label}}: {{.Value}}</li>{{else}}
<li>{{w .Lang "无" "none"}}</li>{{end}}
</ul>
<h2>{{w .Lang "处置经过" "Timeline"}}</h2>
<ul>{{range .Timeline}}
<li>{{.Label}}: {{.Value}}</li>{{end}}
</ul>
<h2>{{w .Lang "联系人" "Contact"}}</h2>
<p>{{.Contact}}</p>
</body>
</html>
`
