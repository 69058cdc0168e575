package api

import (
	"context"
	"net/http"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/incident"
)

// Security incidents: admins open, assess, notify and close them; staff
// and auditors read them with their clocks. Answers carry counts, never
// who was affected.
func (a *API) incidentRoutes() []route {
	admin := []string{RoleAdmin}
	read := []string{RoleAdmin, RoleOperator, RoleAuditor}
	return []route{
		{"GET", "/v1/incidents", read, "Security incidents with their clocks, the latest discovered first: those not closed, or all with ?all=true", "listIncidents", "", "Incidents", 200, a.listIncidents},
		{"POST", "/v1/incidents", admin, "Open a security incident: its clocks run from its discovery", "openIncident", "IncidentInput", "IncidentView", 201, a.openIncident},
		{"GET", "/v1/incidents/{id}", read, "One security incident with its clocks, affected count and notices' delivery", "getIncident", "", "IncidentView", 200, a.getIncident},
		{"POST", "/v1/incidents/{id}/assess", admin, "Assess an incident: its severity per jurisdiction, and the people affected selected from the datastores", "assessIncident", "IncidentAssessment", "IncidentView", 200, a.assessIncident},
		{"POST", "/v1/incidents/{id}/notify", admin, "Record the regulator's report and/or queue the notices to the people affected", "notifyIncident", "IncidentNotice", "IncidentView", 200, a.notifyIncident},
		{"POST", "/v1/incidents/{id}/close", admin, "Close an incident: its clocks stop", "closeIncident", "", "IncidentView", 200, a.closeIncident},
		{"GET", "/v1/incidents/{id}/report", read, "The regulator report (Markdown or HTML, zh-CN or en)", "incidentReport", "", "", 200, a.incidentReport},
		{"GET", "/v1/incidents/{id}/announcement", read, "The public announcement, for when individual notice is impractical (Markdown, zh-CN or en)", "incidentAnnouncement", "", "", 200, a.incidentAnnouncement},
	}
}

// IncidentView is an incident with its clocks now and its notices'
// delivery counts by outbox status.
type IncidentView struct {
	incident.Incident
	Clocks     []incident.Clock `json:"clocks"`
	Deliveries map[string]int   `json:"deliveries,omitempty"`
}

var errNoIncidents = fault.New(fault.Unavailable, "incidents_unavailable", "incidents are not served here")

func (a *API) incidents() (*incident.Service, error) {
	if a.opt.Incidents == nil {
		return nil, errNoIncidents
	}
	return a.opt.Incidents, nil
}

func incidentOperator(who consent.Actor) incident.Operator {
	return incident.Operator{ID: who.ID, Role: who.Role, Place: who.Place, Actor: who.ID}
}

func (a *API) incidentView(ctx context.Context, svc *incident.Service, i incident.Incident) (IncidentView, error) {
	dl, err := svc.Deliveries(ctx, i.ID)
	if err != nil {
		return IncidentView{}, err
	}
	return IncidentView{Incident: i, Clocks: svc.Clocks(ctx, i), Deliveries: dl}, nil
}

func (a *API) listIncidents(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	svc, err := a.incidents()
	if err != nil {
		return err
	}
	all, err := queryAll(r)
	if err != nil {
		return err
	}
	is, err := svc.List(r.Context(), all)
	if err != nil {
		return err
	}
	out := make([]IncidentView, 0, len(is))
	for _, i := range is {
		out = append(out, IncidentView{Incident: i, Clocks: svc.Clocks(r.Context(), i)})
	}
	return writeJSON(w, 200, map[string]any{"incidents": out})
}

func (a *API) openIncident(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	svc, err := a.incidents()
	if err != nil {
		return err
	}
	var in incident.OpenInput
	if err := decode(r, &in); err != nil {
		return err
	}
	i, err := svc.Open(r.Context(), incidentOperator(who), in)
	if err != nil {
		return err
	}
	v, err := a.incidentView(r.Context(), svc, i)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/incidents/"+i.ID)
	return writeJSON(w, 201, v)
}

func (a *API) getIncident(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	return a.incidentStep(w, r, func(svc *incident.Service) (incident.Incident, error) {
		return svc.Get(r.Context(), r.PathValue("id"))
	})
}

// incidentStep runs one step of an incident's life (or reads it) and
// answers the incident as it now stands.
func (a *API) incidentStep(w http.ResponseWriter, r *http.Request, step func(*incident.Service) (incident.Incident, error)) error {
	svc, err := a.incidents()
	if err != nil {
		return err
	}
	i, err := step(svc)
	if err != nil {
		return err
	}
	v, err := a.incidentView(r.Context(), svc, i)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, v)
}

func (a *API) assessIncident(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	var in incident.AssessInput
	if err := decode(r, &in); err != nil {
		return err
	}
	return a.incidentStep(w, r, func(svc *incident.Service) (incident.Incident, error) {
		return svc.Assess(r.Context(), incidentOperator(who), r.PathValue("id"), in)
	})
}

func (a *API) notifyIncident(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	var in incident.NotifyInput
	if err := decode(r, &in); err != nil {
		return err
	}
	return a.incidentStep(w, r, func(svc *incident.Service) (incident.Incident, error) {
		return svc.Notify(r.Context(), incidentOperator(who), r.PathValue("id"), in)
	})
}

func (a *API) closeIncident(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	return a.incidentStep(w, r, func(svc *incident.Service) (incident.Incident, error) {
		return svc.Close(r.Context(), incidentOperator(who), r.PathValue("id"))
	})
}

func (a *API) incidentReport(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	return a.incidentDocument(w, r, incident.KindReport)
}

func (a *API) incidentAnnouncement(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	return a.incidentDocument(w, r, incident.KindAnnouncement)
}

func (a *API) incidentDocument(w http.ResponseWriter, r *http.Request, kind string) error {
	svc, err := a.incidents()
	if err != nil {
		return err
	}
	lang, format := r.URL.Query().Get("lang"), r.URL.Query().Get("format")
	if lang == "" {
		lang = "zh-CN"
	}
	if format == "" {
		format = incident.FormatMarkdown
	}
	b, err := svc.Document(r.Context(), r.PathValue("id"), kind, lang, format)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", incident.ContentType(format))
	w.Header().Set("Content-Language", lang)
	w.WriteHeader(200)
	_, err = w.Write(b)
	return err
}
