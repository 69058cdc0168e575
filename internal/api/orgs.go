package api

import (
	"context"
	"net/http"
	"time"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/org"
)

// The registry of the deployment's organisations is the deployment's
// operator's: its routes answer on the deployment's own organisation (the
// API given Options.Orgs) to its admin keys, and on every other
// organisation's hosts as paths that do not exist.
func (a *API) orgRoutes() []route {
	admin := []string{RoleAdmin}
	return []route{
		{"GET", "/v1/orgs", admin, "The deployment's organisations (the deployment's own organisation only)", "listOrgs", "", "Orgs", 200, a.listOrgs},
		{"POST", "/v1/orgs", admin, "Register an organisation; its secrets are made with custos secrets init DIR/orgs/ID", "createOrg", "OrgInput", "Org", 201, a.createOrg},
		{"GET", "/v1/orgs/{org_id}", admin, "One organisation of the deployment", "getOrg", "", "Org", 200, a.getOrg},
		{"PUT", "/v1/orgs/{org_id}/retention", admin, "Set how long an organisation's request records, audit trail and settled messages are kept, where they differ from the deployment's (running servers follow within the poll interval)", "setOrgRetention", "OrgRetention", "Org", 200, a.setOrgRetention},
		{"PUT", "/v1/orgs/{org_id}/hosts", admin, "Replace the host names an organisation answers on (running servers follow within the poll interval)", "setOrgHosts", "OrgHostsInput", "Org", 200, a.setOrgHosts},
		{"POST", "/v1/orgs/{org_id}/disable", admin, "Disable an organisation: running servers stop serving it within the poll interval; its data stays. Refused while rights requests are open (org_open_requests) unless ?force=true", "disableOrg", "", "Org", 200, a.disableOrg},
		{"POST", "/v1/orgs/{org_id}/enable", admin, "Enable a disabled organisation: running servers serve it again within the poll interval", "enableOrg", "", "Org", 200, a.enableOrg},
	}
}

// Org is an organisation of the deployment.
type Org struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	Hosts     []string  `json:"hosts"`
	CreatedAt time.Time `json:"created_at"`
	// Retention are its own periods, when it has any.
	Retention *OrgRetention `json:"retention,omitempty"`
}

// OrgRetention are an organisation's own periods for the records Custos
// keeps for it (docs/retention.md): for requests and the audit trail
// "5 years" or "forever", for settled messages a duration such as "72h",
// or "" (or absent) for the deployment's.
type OrgRetention struct {
	Requests string `json:"requests,omitempty"`
	Audit    string `json:"audit,omitempty"`
	Messages string `json:"messages,omitempty"`
}

// OrgInput registers an organisation.
type OrgInput struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Hosts []string `json:"hosts,omitempty"`
}

// OrgHostsInput replaces an organisation's hosts.
type OrgHostsInput struct {
	Hosts []string `json:"hosts"`
}

func orgView(o org.Organisation) Org {
	hosts := o.Hosts
	if hosts == nil {
		hosts = []string{}
	}
	v := Org{ID: o.ID, Name: o.Name, Status: o.Status, Hosts: hosts, CreatedAt: o.CreatedAt}
	if o.Retention != (org.Retention{}) {
		v.Retention = &OrgRetention{Requests: o.Retention.Requests, Audit: o.Retention.Audit, Messages: o.Retention.Messages}
	}
	return v
}

// registry is the deployment's registry, or errNoRoute off the
// deployment's own organisation.
func (a *API) registry() (*org.Registry, error) {
	if a.opt.Orgs == nil {
		return nil, errNoRoute
	}
	return a.opt.Orgs, nil
}

func (a *API) listOrgs(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	reg, err := a.registry()
	if err != nil {
		return err
	}
	all, err := reg.List(r.Context())
	if err != nil {
		return err
	}
	out := make([]Org, len(all))
	for i, o := range all {
		out[i] = orgView(o)
	}
	return writeJSON(w, 200, map[string]any{"orgs": out})
}

func (a *API) createOrg(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	reg, err := a.registry()
	if err != nil {
		return err
	}
	var in OrgInput
	if err := decode(r, &in); err != nil {
		return err
	}
	o, err := reg.Create(r.Context(), who, in.ID, in.Name, in.Hosts...)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/orgs/"+o.ID)
	return writeJSON(w, 201, orgView(o))
}

func (a *API) getOrg(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	reg, err := a.registry()
	if err != nil {
		return err
	}
	o, err := reg.Get(r.Context(), r.PathValue("org_id"))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, orgView(o))
}

func (a *API) setOrgHosts(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	reg, err := a.registry()
	if err != nil {
		return err
	}
	var in OrgHostsInput
	if err := decode(r, &in); err != nil {
		return err
	}
	o, err := reg.SetHosts(r.Context(), who, r.PathValue("org_id"), in.Hosts)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, orgView(o))
}

func (a *API) setOrgRetention(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	reg, err := a.registry()
	if err != nil {
		return err
	}
	var in OrgRetention
	if err := decode(r, &in); err != nil {
		return err
	}
	o, err := reg.SetRetention(r.Context(), who, r.PathValue("org_id"), org.Retention{Requests: in.Requests, Audit: in.Audit, Messages: in.Messages})
	if err != nil {
		return err
	}
	return writeJSON(w, 200, orgView(o))
}

func (a *API) disableOrg(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	force, err := boolParam("force", r.URL.Query().Get("force"))
	if err != nil {
		return err
	}
	return a.setOrgStatus(w, r, who, func(reg *org.Registry, ctx context.Context, who consent.Actor, id string) (org.Organisation, bool, error) {
		return reg.Disable(ctx, who, id, force)
	})
}

func (a *API) enableOrg(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	return a.setOrgStatus(w, r, who, (*org.Registry).Enable)
}

func (a *API) setOrgStatus(w http.ResponseWriter, r *http.Request, who consent.Actor,
	change func(*org.Registry, context.Context, consent.Actor, string) (org.Organisation, bool, error)) error {
	reg, err := a.registry()
	if err != nil {
		return err
	}
	o, _, err := change(reg, r.Context(), who, r.PathValue("org_id"))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, orgView(o))
}
