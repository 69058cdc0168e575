// Package org holds the deployment's organisations: who they are, the rule
// for their ids, and the registry's changes with their audit entries. A
// deployment always has one, store.DefaultOrg, the organisation that runs
// it; a group's affiliates and a processor's enterprise customers are
// more. Each organisation's data is reached through its own store handle
// (store.Store.ForOrg), never across.
package org

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/store"
)

// The audit actions of the registry; they go on the trail of the
// organisation that runs the deployment.
const (
	ActionCreate  = "org.create"
	ActionDisable = "org.disable"
	ActionEnable  = "org.enable"
	ActionHosts   = "org.hosts"
)

// Default is the organisation that runs the deployment.
const Default = store.DefaultOrg

// Organisation is one organisation of the deployment.
type Organisation = store.Organisation

// idPattern: lower-case letters, digits and inner hyphens, 2 to 40 of
// them, starting with a letter. An id goes into host names, paths, file
// names and key names, so it is kept to what all of them take.
var idPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,38}[a-z0-9]$`)

// ValidateID reports whether id can name a new organisation.
func ValidateID(id string) error {
	if !idPattern.MatchString(id) || strings.Contains(id, "--") {
		return fault.New(fault.Invalid, "invalid_org_id",
			"an organisation id is 2 to 40 lower-case letters, digits and single hyphens, starting with a letter and not ending with a hyphen").At("id")
	}
	if id == Default {
		return fault.New(fault.Conflict, "org_exists", "the organisation 'default' is the deployment's own and always exists").At("id")
	}
	return nil
}

// maxName bounds an organisation's name, in characters.
const maxName = 200

// Registry creates, lists, disables and enables organisations.
type Registry struct {
	st  *store.Store
	now func() time.Time
	// checkpoints is where the deployment's signed checkpoints go
	// (WithCheckpoints).
	checkpoints string
}

// New returns the registry of the deployment whose store st is a handle
// on; its changes are audited on st's organisation's trail.
func New(st *store.Store) *Registry { return &Registry{st: st, now: time.Now} }

func (r *Registry) entry(a consent.Actor, action, id string, detail map[string]string) audit.Entry {
	d := "{}"
	if detail != nil {
		b, _ := json.Marshal(detail)
		d = string(b)
	}
	return audit.NewEntry(r.now(), a, action, "org:"+id, "", audit.OutcomeOK, d)
}

var hostLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// Host is the host name a request came to (its Host header), as the
// registry keeps host names: lower case, without a port or a final dot.
func Host(hostport string) string {
	h := strings.ToLower(hostport)
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	return strings.TrimSuffix(h, ".")
}

// normaliseHosts checks host names and returns them as the registry keeps
// them, sorted, without repeats.
func normaliseHosts(hosts []string) ([]string, error) {
	var out []string
	for _, raw := range hosts {
		h := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(raw)), ".")
		labels := strings.Split(h, ".")
		ok := len(h) <= 253 && len(labels) >= 2
		for _, l := range labels {
			ok = ok && hostLabel.MatchString(l)
		}
		if !ok {
			return nil, fault.New(fault.Invalid, "invalid_host", "a host is a domain name of two labels or more, without a scheme, port or path").At("hosts")
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Create registers an organisation, with its name (the controller's legal
// name, as its notice will name it) and the host names its pages and API
// answer on.
func (r *Registry) Create(ctx context.Context, a consent.Actor, id, name string, hosts ...string) (Organisation, error) {
	if err := ValidateID(id); err != nil {
		return Organisation{}, err
	}
	hosts, err := normaliseHosts(hosts)
	if err != nil {
		return Organisation{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxName || strings.ContainsAny(name, "\r\n\t") {
		return Organisation{}, fault.New(fault.Invalid, "invalid_org_name", "an organisation needs a name of one line, at most 200 characters").At("name")
	}
	o, err := r.st.CreateOrganisation(ctx, Organisation{ID: id, Name: name, Hosts: hosts, CreatedAt: r.now().UTC().Truncate(time.Microsecond)},
		r.entry(a, ActionCreate, id, map[string]string{"hosts": strings.Join(hosts, ",")}))
	if errors.Is(err, store.ErrConflict) {
		if _, gerr := r.st.Organisation(ctx, id); gerr == nil {
			return Organisation{}, fault.New(fault.Conflict, "org_exists", "an organisation with this id exists").At("id")
		}
		return Organisation{}, errHostTaken
	}
	return o, err
}

var errHostTaken = fault.New(fault.Conflict, "host_taken", "another organisation answers on one of these hosts").At("hosts")

// SetHosts replaces the host names an organisation answers on. The
// deployment's own answers on every host no other claims, and needs none.
func (r *Registry) SetHosts(ctx context.Context, a consent.Actor, id string, hosts []string) (Organisation, error) {
	hosts, err := normaliseHosts(hosts)
	if err != nil {
		return Organisation{}, err
	}
	err = r.st.SetOrganisationHosts(ctx, id, hosts, r.entry(a, ActionHosts, id, map[string]string{"hosts": strings.Join(hosts, ",")}))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Organisation{}, errNotFound
	case errors.Is(err, store.ErrConflict):
		return Organisation{}, errHostTaken
	case err != nil:
		return Organisation{}, err
	}
	return r.Get(ctx, id)
}

// List returns every organisation, by id.
func (r *Registry) List(ctx context.Context) ([]Organisation, error) { return r.st.Organisations(ctx) }

// Get returns one organisation.
func (r *Registry) Get(ctx context.Context, id string) (Organisation, error) {
	o, err := r.st.Organisation(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Organisation{}, errNotFound
	}
	return o, err
}

var errNotFound = fault.New(fault.NotFound, "org_not_found", "no such organisation")

// Disable marks an organisation disabled; its data stays, untouched. The
// deployment's own cannot be disabled. It reports whether anything
// changed; only a change is audited.
//
// A disabled organisation is not served: its operators cannot answer the
// people whose rights requests are open, and its reminders stop while
// their deadlines run. So Disable refuses while any is open
// (org_open_requests, with how many and the first due date), unless
// force says to disable it anyway; the audit entry then says how many
// were left open.
func (r *Registry) Disable(ctx context.Context, a consent.Actor, id string, force bool) (Organisation, bool, error) {
	if id == Default {
		return Organisation{}, false, errDefaultDisable
	}
	o, err := r.st.Organisation(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Organisation{}, false, errNotFound
	case err != nil:
		return Organisation{}, false, err
	case o.Status == store.OrgDisabled:
		return o, false, nil
	}
	open, first, err := r.openRequests(ctx, id)
	if err != nil {
		return Organisation{}, false, err
	}
	if open > 0 && !force {
		return Organisation{}, false, fault.New(fault.Conflict, "org_open_requests",
			"organisation %s has %d open rights requests, the first due %s: answer or hand them on first, or disable it with force", id, open, first)
	}
	var detail map[string]string
	if open > 0 {
		detail = map[string]string{"open_requests": strconv.FormatInt(open, 10)}
	}
	return r.set(ctx, a, id, store.OrgDisabled, ActionDisable, detail)
}

// openRequests counts the organisation's rights requests in an open
// state and gives the first due date among them.
func (r *Registry) openRequests(ctx context.Context, id string) (int64, string, error) {
	rc, err := r.st.ForOrg(id).RequestCounts(ctx, dsr.OpenStates)
	if err != nil {
		return 0, "", err
	}
	var n int64
	for _, c := range rc.OpenDue {
		n += c.N
	}
	if n == 0 {
		return 0, "", nil
	}
	return n, rc.OpenDue[0].DueDate, nil
}

var errDefaultDisable = fault.New(fault.Conflict, "org_default", "the deployment's own organisation cannot be disabled")

// Enable marks a disabled organisation active again.
func (r *Registry) Enable(ctx context.Context, a consent.Actor, id string) (Organisation, bool, error) {
	return r.set(ctx, a, id, store.OrgActive, ActionEnable, nil)
}

func (r *Registry) set(ctx context.Context, a consent.Actor, id, status, action string, detail map[string]string) (Organisation, bool, error) {
	o, changed, err := r.st.SetOrganisationStatus(ctx, id, status, r.entry(a, action, id, detail))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Organisation{}, false, errNotFound
	case errors.Is(err, store.ErrDefaultOrg):
		return Organisation{}, false, errDefaultDisable
	}
	return o, changed, err
}
