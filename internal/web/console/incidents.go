package console

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/incident"
	"github.com/custos-privacy/custos/internal/web"
)

// incidentRow is an incident with its clocks as the pages show them.
type incidentRow struct {
	incident.Incident
	Clocks []clockRow
}

// clockRow is a clock with its countdown in words.
type clockRow struct {
	incident.Clock
	Left string // 2h59m0s, or how long overdue
}

func (s *session) incidentOperator() incident.Operator {
	return incident.Operator{ID: s.op.ID, Role: s.op.Role, Place: s.actor.Place}
}

func (c *console) incidentService() (*incident.Service, error) {
	if c.opt.Incidents == nil {
		return nil, fault.New(fault.NotFound, "not_found", "no such page")
	}
	return c.opt.Incidents, nil
}

func countdown(secs int64) string {
	d := time.Duration(secs) * time.Second
	if d < 0 {
		d = -d
	}
	return d.Truncate(time.Minute).String()
}

func (c *console) rowOf(r *http.Request, svc *incident.Service, i incident.Incident) incidentRow {
	row := incidentRow{Incident: i}
	for _, k := range svc.Clocks(r.Context(), i) {
		row.Clocks = append(row.Clocks, clockRow{Clock: k, Left: countdown(k.SecondsLeft)})
	}
	return row
}

func (c *console) incidents(w http.ResponseWriter, r *http.Request, s *session) error {
	svc, err := c.incidentService()
	if err != nil {
		return err
	}
	all := r.URL.Query().Get("all") == "1"
	list, err := svc.List(r.Context(), all)
	if err != nil {
		return err
	}
	rows := make([]incidentRow, len(list))
	for k, i := range list {
		rows[k] = c.rowOf(r, svc, i)
	}
	return c.render(w, r, s, "incidents", "console.incidents.title", map[string]any{"Rows": rows, "All": all})
}

func (c *console) incidentPage(w http.ResponseWriter, r *http.Request, s *session) error {
	svc, err := c.incidentService()
	if err != nil {
		return err
	}
	i, err := svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	dl, err := svc.Deliveries(r.Context(), i.ID)
	if err != nil {
		return err
	}
	affected := -1
	if i.Affected != nil {
		affected = i.Affected.Subjects
	}
	type scale struct {
		Jurisdiction string
		Levels       []string
		Level        string
	}
	var scales []scale
	for _, j := range i.Jurisdictions {
		scales = append(scales, scale{Jurisdiction: j, Levels: incident.Scales[j], Level: i.Level(j)})
	}
	return c.render(w, r, s, "incident", "console.incidents.title", map[string]any{"Row": c.rowOf(r, svc, i), "Affected": affected,
		"Deliveries": dl, "Scales": scales, "Closed": i.State == incident.StateClosed,
		"TextFields": []string{"cause", "harm", "measures", "advice", "remedies"}})
}

// formTime reads a date and time field (China time, as the pages show
// times); nil when empty.
func formTime(r *http.Request, field string) (*time.Time, error) {
	v := r.PostFormValue(field)
	if v == "" {
		return nil, nil
	}
	t, err := time.ParseInLocation("2006-01-02T15:04", v, calendar.China)
	if err != nil {
		return nil, fault.New(fault.Invalid, "invalid_time", "give the time as YYYY-MM-DDTHH:MM").At(field)
	}
	return &t, nil
}

func formText(r *http.Request, field string) incident.Text {
	return incident.Text{ZH: r.PostFormValue(field + "_zh"), EN: r.PostFormValue(field + "_en")}
}

func formList(r *http.Request, field string) []string {
	var out []string
	for _, v := range strings.FieldsFunc(r.PostFormValue(field), func(c rune) bool { return c == ',' || c == ' ' || c == '\n' }) {
		out = append(out, strings.TrimSpace(v))
	}
	return out
}

func (c *console) openIncident(w http.ResponseWriter, r *http.Request, s *session) error {
	svc, err := c.incidentService()
	if err != nil {
		return err
	}
	in := incident.OpenInput{Description: formText(r, "description"), Cause: formText(r, "cause"),
		Categories: formList(r, "categories"), Datastores: formList(r, "datastores")}
	disc, err := formTime(r, "discovered_at")
	if err != nil {
		return err
	}
	if disc != nil {
		in.DiscoveredAt = *disc
	}
	if in.BeganAt, err = formTime(r, "began_at"); err != nil {
		return err
	}
	if in.Window.From, err = formDate(r, "from"); err != nil {
		return err
	}
	if in.Window.To, err = formDate(r, "to"); err != nil {
		return err
	}
	i, err := svc.Open(r.Context(), s.incidentOperator(), in)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/incidents/"+i.ID+"?done=incidentopened", http.StatusSeeOther)
	return nil
}

func (c *console) assessIncident(w http.ResponseWriter, r *http.Request, s *session) error {
	svc, err := c.incidentService()
	if err != nil {
		return err
	}
	in := incident.AssessInput{Severity: map[string]string{}, Cause: formText(r, "cause"), Harm: formText(r, "harm"),
		Measures: formText(r, "measures"), Advice: formText(r, "advice"), Remedies: formText(r, "remedies")}
	for j := range incident.Scales {
		if v := r.PostFormValue("severity_" + j); v != "" {
			in.Severity[j] = v
		}
	}
	if in.ContainedAt, err = formTime(r, "contained_at"); err != nil {
		return err
	}
	return c.incidentStep(w, r, "incidentassessed", func() (incident.Incident, error) {
		return svc.Assess(r.Context(), s.incidentOperator(), r.PathValue("id"), in)
	})
}

func (c *console) notifyIncident(w http.ResponseWriter, r *http.Request, s *session) error {
	svc, err := c.incidentService()
	if err != nil {
		return err
	}
	in := incident.NotifyInput{Regulator: r.PostFormValue("regulator") == "1", Subjects: r.PostFormValue("subjects") == "1"}
	return c.incidentStep(w, r, "incidentnotified", func() (incident.Incident, error) {
		return svc.Notify(r.Context(), s.incidentOperator(), r.PathValue("id"), in)
	})
}

func (c *console) closeIncident(w http.ResponseWriter, r *http.Request, s *session) error {
	svc, err := c.incidentService()
	if err != nil {
		return err
	}
	return c.incidentStep(w, r, "incidentclosed", func() (incident.Incident, error) {
		return svc.Close(r.Context(), s.incidentOperator(), r.PathValue("id"))
	})
}

func (c *console) incidentStep(w http.ResponseWriter, r *http.Request, done string, step func() (incident.Incident, error)) error {
	i, err := step()
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/incidents/"+i.ID+"?done="+done, http.StatusSeeOther)
	return nil
}

// incidentDocument serves the regulator report or the announcement for
// download.
func (c *console) incidentDocument(w http.ResponseWriter, r *http.Request, s *session) error {
	svc, err := c.incidentService()
	if err != nil {
		return err
	}
	kind, lang, format := r.PathValue("kind"), r.URL.Query().Get("lang"), r.URL.Query().Get("format")
	if kind != incident.KindReport && kind != incident.KindAnnouncement {
		return fault.New(fault.NotFound, "not_found", "no such page")
	}
	if lang == "" {
		lang = web.Lang(r, "zh-CN")
	}
	if format == "" {
		format = incident.FormatMarkdown
	}
	b, err := svc.Document(r.Context(), r.PathValue("id"), kind, lang, format)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", incident.ContentType(format))
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.%s.%s"`, r.PathValue("id"), kind, lang, format))
	_, err = w.Write(b)
	return err
}
