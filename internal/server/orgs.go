package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custos-privacy/custos/internal/api"
	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/keystore"
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
	// stop ends the server's background work; nil until it runs.
	stop context.CancelFunc
	// noPolicy: not served for want of a published policy, tried again
	// as soon as one is; retryAt: not served for another reason, tried
	// again after it (or at the next change to the registry).
	noPolicy bool
	retryAt  time.Time
}

// hosting is one state of the organisations served: built whole, then
// swapped in at once, so that no request sees half of a change.
type hosting struct {
	orgs []*orgServer
	// hosts are the handlers of each host's organisation, in the order
	// of the deployment's routing table.
	hosts map[string][]http.Handler
}

// orgRegistry is what the deployment's own server keeps of the others.
type orgRegistry struct {
	current atomic.Pointer[hosting]
	// dirty is set by a change to the registry seen on the audit trail
	// (any instance's); wake tells the watcher at once.
	dirty atomic.Bool
	wake  chan struct{}

	mu sync.Mutex // one refresh at a time; guards the fields below
	// ctx is the serving context the organisations' background work
	// runs under; nil until Serve.
	ctx     context.Context
	closing bool
	// said is what the log last said of each organisation, so that a
	// state is told once, not at every retry; links are what each
	// rights service was last linked to.
	said  map[string]string
	links map[string]string
	opts  options
}

// retryUnserved is how long an organisation that could not be served for
// a reason other than a missing policy waits before being tried again,
// if the registry does not change before.
const retryUnserved = time.Minute

// addOrganisations assembles a server for every other organisation in the
// registry, routes their hosts to them, and from then on follows the
// registry's changes (watchOrganisations).
func (s *Server) addOrganisations(ctx context.Context) error {
	s.orgs.wake = make(chan struct{}, 1)
	s.orgs.current.Store(&hosting{})
	s.http.Handler = s.routing.serve(s.byHost)
	s.svc.OnChange(func(c consent.Change) {
		if strings.HasPrefix(c.Action, "org.") || strings.HasPrefix(c.Action, "entrustment.") {
			s.orgs.dirty.Store(true)
			select {
			case s.orgs.wake <- struct{}{}:
			default:
			}
		}
	})
	return s.refreshOrganisations(ctx)
}

// refreshOrganisations brings the organisations served in line with the
// registry: a new or re-enabled organisation is served once it has its
// secrets and a published policy, a disabled one stops being served (its
// hosts answer every path as one that does not exist), hosts move, and every rights
// service is linked anew to its group and entrustments. An organisation
// that cannot be served is logged once and tried again later; it never
// stops the others.
func (s *Server) refreshOrganisations(ctx context.Context) error {
	s.orgs.mu.Lock()
	defer s.orgs.mu.Unlock()
	if s.orgs.closing {
		return nil
	}
	orgs, err := s.st.Organisations(ctx)
	if err != nil {
		return err
	}
	ents, err := s.st.Entrustments(ctx, "")
	if err != nil {
		return err
	}
	if s.orgs.said == nil {
		s.orgs.said, s.orgs.links = map[string]string{}, map[string]string{}
	}
	before := map[string]*orgServer{}
	for _, o := range s.orgs.current.Load().orgs {
		before[o.org.ID] = o
	}
	next := &hosting{hosts: map[string][]http.Handler{}}
	gone := s.routing.gone()
	var started []*orgServer
	for _, og := range orgs {
		if og.ID == store.DefaultOrg {
			continue
		}
		o := &orgServer{org: og}
		// A server goes on serving until its organisation is disabled or
		// its retention changes, which its background work was set up
		// with.
		if prev := before[og.ID]; prev != nil && og.Status == store.OrgActive && prev.srv != nil && prev.org.Retention == og.Retention {
			o.srv, o.stop = prev.srv, prev.stop
			delete(before, og.ID)
		}
		next.orgs = append(next.orgs, o)
		switch {
		case og.Status != store.OrgActive:
			s.say(og.ID, "disabled", func() { s.log.Info("organisation disabled: its hosts answer 404", "org", og.ID) })
		case o.srv == nil:
			if err := s.serveOrg(ctx, o); err != nil {
				s.say(og.ID, "unserved: "+err.Error(), func() {
					s.log.Warn("organisation not served: its hosts answer 404 until this is mended", "org", og.ID, "err", err)
				})
				break
			}
			started = append(started, o)
			s.say(og.ID, "served", func() { s.log.Info("serving organisation", "org", og.ID, "hosts", og.Hosts) })
		}
		h := gone
		if o.srv != nil {
			h = o.srv.routing.alignedTo(s.routing)
		}
		for _, host := range og.Hosts {
			next.hosts[host] = h
		}
	}
	// New servers are linked before anyone can reach them; those that
	// served already are relinked only when their links change.
	s.linkOrganisations(orgs, ents, next)
	for _, o := range started {
		s.startOrg(o)
	}
	s.orgs.current.Store(next)
	// What is no longer served stops, once requests cannot reach it.
	for id, o := range before {
		if o.srv != nil {
			delete(s.orgs.links, id)
			o.retire()
		}
	}
	return nil
}

// say logs what log tells once for state, until the organisation's state
// changes.
func (s *Server) say(id, state string, log func()) {
	if s.orgs.said[id] != state {
		s.orgs.said[id] = state
		log()
	}
}

// serveOrg assembles o's server, on the deployment's database with the
// organisation's secrets.
func (s *Server) serveOrg(ctx context.Context, o *orgServer) error {
	id := o.org.ID
	cfg, err := s.cfg.ForOrg(id)
	if err == nil {
		cfg, err = OwnRetention(cfg, o.org)
	}
	if err == nil {
		// Asked first, and cheaply: the watcher tries again when one is
		// published.
		if _, err = s.st.ForOrg(id).CurrentPolicy(ctx); errors.Is(err, store.ErrNotFound) {
			o.noPolicy = true
			return fmt.Errorf("no policy is published: publish one with custos policy publish --org %s", id)
		}
	}
	if err == nil {
		o.srv, err = newServer(ctx, cfg, s.log.With("org", id), options{now: s.orgs.opts.now, keystore: s.keystoreOfAny(), passwords: s.orgs.opts.passwords}, s.st)
	}
	if err != nil {
		o.retryAt = time.Now().Add(retryUnserved)
	}
	return err
}

// startOrg starts o's background work, when the deployment's runs.
func (s *Server) startOrg(o *orgServer) {
	if s.orgs.ctx == nil || o.srv == nil || o.stop != nil {
		return
	}
	ctx, stop := context.WithCancel(s.orgs.ctx)
	o.stop = stop
	o.srv.run(ctx)
}

// runOrganisations starts the background work of the organisations
// served, under ctx, and of those served later.
func (s *Server) runOrganisations(ctx context.Context) {
	s.orgs.mu.Lock()
	defer s.orgs.mu.Unlock()
	s.orgs.ctx = ctx
	if h := s.orgs.current.Load(); h != nil {
		for _, o := range h.orgs {
			s.startOrg(o)
		}
	}
}

// stopOrganisations ends the following of the registry, at shutdown:
// what is served stays so until the server closes.
func (s *Server) stopOrganisations() {
	s.orgs.mu.Lock()
	defer s.orgs.mu.Unlock()
	s.orgs.closing = true
}

// watchOrganisations refreshes the organisations served when the registry
// changed (a change on the audit trail, made by this instance or another)
// and when one waiting to be served may be now: within the poll interval.
func (s *Server) watchOrganisations(ctx context.Context) {
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.orgs.wake:
		}
		if !s.orgs.dirty.Swap(false) && !s.waitingReady(ctx) {
			continue
		}
		if err := s.refreshOrganisations(ctx); err != nil && ctx.Err() == nil {
			s.orgs.dirty.Store(true)
			s.log.Warn("organisations: following the registry failed; trying again", "err", err)
		}
	}
}

// waitingReady reports whether an active organisation not served yet may
// be servable now: its policy is published, or its retry time came.
func (s *Server) waitingReady(ctx context.Context) bool {
	for _, o := range s.orgs.current.Load().orgs {
		if o.srv != nil || o.org.Status != store.OrgActive {
			continue
		}
		if o.noPolicy {
			if _, err := s.st.ForOrg(o.org.ID).CurrentPolicy(ctx); err == nil {
				return true
			}
			continue
		}
		if time.Now().After(o.retryAt) {
			return true
		}
	}
	return false
}

// retire releases what an organisation's server holds once it is no
// longer served: its background work ends, its queued codes go out and
// their worker ends, its transfer counts are written, a last checkpoint is
// made, and its services leave the shared writer. The deployment's store
// stays open.
func (o *orgServer) retire() {
	srv := o.srv
	if o.stop != nil {
		o.stop()
		if !srv.waitLoops(srv.cfg.ShutdownTimeout) {
			srv.log.Warn("organisation no longer served: its background work did not end within the shutdown timeout")
		}
	}
	srv.closeCodes()
	srv.closeTransfers()
	srv.finalCheckpoint()
	srv.svc.Close()
	for _, d := range srv.datastores {
		d.DB.Close()
	}
	srv.log.Info("organisation no longer served")
}

// linkOrganisations tells each organisation's rights service which other
// organisations a request made there may concern: the affiliates of its
// group, and the controllers it processes for under an active
// entrustment (dsr/links.go). Only served organisations are linked.
func (s *Server) linkOrganisations(orgs []store.Organisation, ents []store.Entrustment, h *hosting) {
	byID := map[string]store.Organisation{}
	for _, og := range orgs {
		byID[og.ID] = og
	}
	servers := map[string]*Server{store.DefaultOrg: s}
	for _, o := range h.orgs {
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
	type relink struct {
		srv   *Server
		self  dsr.Party
		links []dsr.Link
		names []string
		tell  bool
	}
	var changed []relink
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
		self := party(id)
		key := fmt.Sprintf("%p %+v %+v", srv.requests, self, links)
		if s.orgs.links[id] == key {
			continue
		}
		_, linkedBefore := s.orgs.links[id]
		s.orgs.links[id] = key
		var names []string
		for _, l := range links {
			names = append(names, l.ID+" ("+l.Role()+")")
		}
		changed = append(changed, relink{srv, self, links, names, len(links) > 0 || linkedBefore})
	}
	if len(changed) == 0 {
		return
	}
	// A service in use takes its new links whole (dsr.Service.SetLinks):
	// a request reads them once at each step.
	for _, c := range changed {
		c.srv.requests.SetLinks(c.self, c.links)
		if c.tell {
			c.srv.log.Info("requests reach linked organisations", "links", c.names)
		}
	}
}

// OwnRetention is cfg, an organisation's configuration (config.ForOrg),
// with the periods o keeps its records for where it set its own (custos
// orgs retention): what a server serving o and a command run for it both
// delete by.
func OwnRetention(cfg config.Config, o store.Organisation) (config.Config, error) {
	r := o.Retention
	return cfg.WithRetention(r.Requests, r.Audit, r.Messages)
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
	if h := s.orgs.current.Load(); h != nil {
		for _, o := range h.orgs {
			if o.org.ID == id {
				return o.srv
			}
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
	if h := s.orgs.current.Load(); h != nil {
		for _, o := range h.orgs {
			if o.srv != nil {
				out = append(out, o.srv)
			}
		}
	}
	return out
}
