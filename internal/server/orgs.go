package server

import (
	"context"
	"net/http"

	"github.com/custos-privacy/custos/internal/api"
	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/org"
	"github.com/custos-privacy/custos/internal/store"
)

// An organisation of the deployment other than its own is served by a
// Server of its own, assembled as the deployment's is but on the
// deployment's database through the organisation's handle and with the
// organisation's secrets: its own consent service, rights requests, vault,
// API keys, operators, privacy center, banner and console, none of which
// can reach another organisation's rows. One listener carries them all;
// the host a request comes to picks the organisation (org_hosts), and a
// host no organisation claims is the deployment's own.

// orgServer is one organisation served beside the deployment's own.
type orgServer struct {
	org store.Organisation
	srv *Server // nil while the organisation is disabled or cannot be served
}

// addOrganisations assembles a server for every other organisation in the
// registry and routes their hosts to them. An organisation that cannot be
// served (no secrets, no policy published) is logged and answers 404 on
// its hosts until it can, at the next start; so does a disabled one.
func (s *Server) addOrganisations(ctx context.Context, o options) error {
	orgs, err := s.st.Organisations(ctx)
	if err != nil {
		return err
	}
	for _, og := range orgs {
		if og.ID == store.DefaultOrg {
			continue
		}
		served := &orgServer{org: og}
		s.orgs = append(s.orgs, served)
		if og.Status != store.OrgActive {
			s.log.Info("organisation disabled: its hosts answer 404", "org", og.ID)
			continue
		}
		cfg, err := s.cfg.ForOrg(og.ID)
		if err == nil {
			served.srv, err = newServer(ctx, cfg, s.log.With("org", og.ID), options{now: o.now, keystore: s.keystoreOfAny()}, s.st)
		}
		if err != nil {
			s.log.Warn("organisation not served: its hosts answer 404 until this is mended and the server restarted", "org", og.ID, "err", err)
			continue
		}
		s.log.Info("serving organisation", "org", og.ID, "hosts", og.Hosts)
	}
	if len(s.orgs) > 0 {
		s.http.Handler = s.byHost(s.http.Handler)
	}
	return s.linkOrganisations(ctx, orgs)
}

// linkOrganisations tells each organisation's rights service which other
// organisations a request made there may concern: the affiliates of its
// group, and the controllers it processes for under an active
// entrustment (dsr/links.go). Only served organisations are linked.
func (s *Server) linkOrganisations(ctx context.Context, orgs []store.Organisation) error {
	ents, err := s.st.Entrustments(ctx, "")
	if err != nil {
		return err
	}
	byID := map[string]store.Organisation{}
	for _, og := range orgs {
		byID[og.ID] = og
	}
	servers := map[string]*Server{store.DefaultOrg: s}
	for _, o := range s.orgs {
		if o.srv != nil {
			servers[o.org.ID] = o.srv
		}
	}
	party := func(id string) dsr.Party {
		og := byID[id]
		p := dsr.Party{ID: id, Name: og.Name, Hosts: og.Hosts}
		if p.Name == "" {
			if _, m, _, err := servers[id].svc.Policy(); err == nil && len(m.Controllers) > 0 {
				p.Name = m.Controllers[0].Name.In("zh-CN")
			}
		}
		return p
	}
	for id, srv := range servers {
		if srv.requests == nil {
			continue
		}
		var links []dsr.Link
		if g := byID[id].Group; g != "" {
			for _, og := range orgs {
				if other := servers[og.ID]; og.ID != id && og.Group == g && other != nil && other.requests != nil {
					links = append(links, dsr.Link{Party: party(og.ID), Service: other.requests})
				}
			}
		}
		for _, e := range ents {
			other := servers[e.Controller]
			if e.Processor != id || e.State != store.EntrustmentActive || other == nil || other.requests == nil {
				continue
			}
			links = append(links, dsr.Link{Party: party(e.Controller), Entrustment: e.ID, Service: other.requests,
				Assist: calendar.Rule{Count: e.AssistCount, Unit: e.AssistUnit}})
		}
		if len(links) > 0 {
			var names []string
			for _, l := range links {
				names = append(names, l.ID+" ("+l.Role()+")")
			}
			srv.log.Info("requests reach linked organisations", "links", names)
		}
		srv.requests.SetLinks(party(id), links)
	}
	return nil
}

// byHost sends a request to the organisation whose host it came to, and
// any other to the deployment's own (next).
func (s *Server) byHost(next http.Handler) http.Handler {
	hosts := map[string]http.Handler{}
	for _, o := range s.orgs {
		h := http.Handler(orgGone)
		if o.srv != nil {
			h = o.srv.http.Handler
		}
		for _, host := range o.org.Hosts {
			hosts[host] = h
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := hosts[org.Host(r.Host)]; ok {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// orgGone answers for an organisation that is disabled or not served as
// the API does for a path that does not exist, so that its hosts tell
// nothing.
var orgGone = api.NotFound()

// Org returns the server of organisation id, or nil when it is not
// served (for tests and the deployment's tools).
func (s *Server) Org(id string) *Server {
	if id == store.DefaultOrg {
		return s
	}
	for _, o := range s.orgs {
		if o.org.ID == id {
			return o.srv
		}
	}
	return nil
}

// keystoreOfAny is a key store already open for the deployment, whose
// database the next organisation's can share: the deployment's own, or
// another organisation's (borrowed ones share the same pool).
func (s *Server) keystoreOfAny() *keystore.Store {
	if s.ks != nil {
		return s.ks
	}
	for _, o := range s.served() {
		if o.ks != nil {
			return o.ks
		}
	}
	return nil
}

// served are the servers of the organisations served besides this one.
func (s *Server) served() []*Server {
	var out []*Server
	for _, o := range s.orgs {
		if o.srv != nil {
			out = append(out, o.srv)
		}
	}
	return out
}
