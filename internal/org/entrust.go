package org

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/ids"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
)

// The audit actions of groups and entrustments, on the trail of the
// organisation that runs the deployment.
const (
	ActionGroup          = "org.group"
	ActionEntrust        = "entrustment.create"
	ActionEndEntrustment = "entrustment.end"
)

// Entrustment is a controller's instruction to a processor.
type Entrustment = store.Entrustment

// SetGroup puts an organisation in a group of companies: affiliates of
// one group share the identity people sign in with, so a request made to
// one reaches every affiliate that holds the person's data. group follows
// the rule of organisation ids; "" takes the organisation out of its
// group. Running servers follow a change within their poll interval.
func (r *Registry) SetGroup(ctx context.Context, a consent.Actor, id, group string) (Organisation, error) {
	if group != "" && (!idPattern.MatchString(group) || strings.Contains(group, "--")) {
		return Organisation{}, fault.New(fault.Invalid, "invalid_group", "a group id follows the rule of organisation ids: 2 to 40 lower-case letters, digits and single hyphens").At("group")
	}
	_, err := r.st.SetOrganisationGroup(ctx, id, group, r.entry(a, ActionGroup, id, map[string]string{"group": group}))
	if errors.Is(err, store.ErrNotFound) {
		return Organisation{}, errNotFound
	}
	if err != nil {
		return Organisation{}, err
	}
	return r.Get(ctx, id)
}

// EntrustInput describes a new entrustment.
type EntrustInput struct {
	Controller, Processor string
	Categories, Purposes  []string
	Instructions          string
	SubProcessors         []string
	// Assist is the processor's deadline to help the controller answer a
	// rights request, e.g. "5 working_days" (the default) or "10
	// calendar_days".
	Assist   string
	StartsOn string // YYYY-MM-DD; today (China) when empty
	EndsOn   string // YYYY-MM-DD; open-ended when empty
	// CustomerKey is the processor's own name for the controller in its
	// databases: the value of the fields its dataset marks held_for in
	// the rows kept for this controller. The end of the entrustment
	// deletes or returns those rows; "" when the processor keeps none.
	CustomerKey string
}

// ParseAssist reads an assistance deadline: "N working_days" or "N
// calendar_days", N from 1 to 90.
func ParseAssist(s string) (calendar.Rule, error) {
	if s == "" {
		return calendar.Rule{Count: 5, Unit: calendar.WorkingDays}, nil
	}
	count, unit, ok := strings.Cut(strings.TrimSpace(s), " ")
	n, err := strconv.Atoi(count)
	ok = ok && err == nil
	if !ok || n < 1 || n > 90 || unit != calendar.WorkingDays && unit != calendar.CalendarDays {
		return calendar.Rule{}, fault.New(fault.Invalid, "invalid_assist", "an assistance deadline is N working_days or N calendar_days, N from 1 to 90").At("assist")
	}
	return calendar.Rule{Count: n, Unit: unit}, nil
}

// Entrust records that a controller entrusts a processor with personal
// information: both must be registered and differ, and the record names
// at least one category and one purpose. From then on (running servers
// follow within their poll interval), a rights
// request made at the processor's privacy center by a person the
// controller holds goes to the controller's queue, and the processor
// keeps a task to assist, due by the assistance deadline.
func (r *Registry) Entrust(ctx context.Context, a consent.Actor, in EntrustInput) (Entrustment, error) {
	if in.Controller == in.Processor {
		return Entrustment{}, fault.New(fault.Invalid, "invalid_entrustment", "an organisation cannot entrust itself").At("processor")
	}
	if len(in.Categories) == 0 || len(in.Purposes) == 0 {
		return Entrustment{}, fault.New(fault.Invalid, "invalid_entrustment", "name the categories of personal information and the purposes entrusted").At("categories")
	}
	if utf8.RuneCountInString(in.Instructions) > 4000 {
		return Entrustment{}, fault.New(fault.Invalid, "invalid_entrustment", "instructions are at most 4000 characters").At("instructions")
	}
	rule, err := ParseAssist(in.Assist)
	if err != nil {
		return Entrustment{}, err
	}
	if in.StartsOn == "" {
		in.StartsOn = calendar.FromTime(r.now()).String()
	}
	for field, d := range map[string]string{"starts_on": in.StartsOn, "ends_on": in.EndsOn} {
		if d == "" {
			continue
		}
		if _, err := calendar.ParseDate(d); err != nil {
			return Entrustment{}, fault.New(fault.Invalid, "invalid_date", "a date is YYYY-MM-DD").At(field)
		}
	}
	if in.EndsOn != "" && in.EndsOn < in.StartsOn {
		return Entrustment{}, fault.New(fault.Invalid, "invalid_date", "the term ends before it starts").At("ends_on")
	}
	if in.CustomerKey = strings.TrimSpace(in.CustomerKey); len(in.CustomerKey) > 200 || strings.ContainsFunc(in.CustomerKey, unicode.IsControl) {
		return Entrustment{}, fault.New(fault.Invalid, "invalid_entrustment", "a customer key is at most 200 characters, without control characters").At("customer_key")
	}
	if err := r.withinPolicy(ctx, in); err != nil {
		return Entrustment{}, err
	}
	e := Entrustment{ID: ids.New("en_"), Controller: in.Controller, Processor: in.Processor, Categories: in.Categories, Purposes: in.Purposes,
		Instructions: strings.TrimSpace(in.Instructions), SubProcessors: in.SubProcessors, AssistCount: rule.Count, AssistUnit: rule.Unit,
		StartsOn: in.StartsOn, EndsOn: in.EndsOn, CustomerKey: in.CustomerKey}
	out, err := r.st.CreateEntrustment(ctx, e, audit.NewEntry(r.now(), a, ActionEntrust, "entrustment:"+e.ID, "", audit.OutcomeOK,
		map[string]string{"controller": e.Controller, "processor": e.Processor}))
	if errors.Is(err, store.ErrNotFound) {
		return Entrustment{}, errNotFound
	}
	return out, err
}

// Published is the manifest in force of the organisation st is a handle
// on, or store.ErrNotFound before it has published one.
func Published(ctx context.Context, st *store.Store) (*manifest.Manifest, error) {
	pv, err := st.CurrentPolicy(ctx)
	if err != nil {
		return nil, err
	}
	return manifest.Parse("policy "+pv.Version, []byte(pv.Manifest))
}

// withinPolicy checks an entrustment against the controller's policy in
// force: a controller can entrust only what its own policy says it
// processes. Every purpose must be one of its purposes, and every category
// one it collects for at least one of the purposes entrusted. A controller
// that has published nothing yet has nothing to check against.
func (r *Registry) withinPolicy(ctx context.Context, in EntrustInput) error {
	m, err := Published(ctx, r.st.ForOrg(in.Controller))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if field, msg := outsidePolicy(m, in.Purposes, in.Categories); msg != "" {
		return fault.New(fault.Invalid, "invalid_entrustment", "%s", msg).At(field)
	}
	return nil
}

// outsidePolicy says which purpose or category of an entrustment the
// controller's policy m does not cover, and the field it is in; "" when m
// covers them all. Every purpose must be one of m's, and every category
// one m collects for at least one of the purposes.
func outsidePolicy(m *manifest.Manifest, purposes, categories []string) (field, msg string) {
	for _, p := range purposes {
		if _, ok := m.Purpose(p); !ok {
			return "purposes", fmt.Sprintf("the controller's policy %s has no purpose %q", m.Policy.Version, p)
		}
	}
	for _, c := range categories {
		if !slices.ContainsFunc(m.CollectedFor(c), func(p string) bool { return slices.Contains(purposes, p) }) {
			return "categories", fmt.Sprintf("the controller's policy %s collects %q for none of the purposes entrusted", m.Policy.Version, c)
		}
	}
	return "", ""
}

// PolicyCheck is the check a controller's next policy must pass before it
// is published (consent.PublishOptions.Check): every active entrustment
// the controller made must stay within it, as when it was made. A policy
// that drops an entrusted purpose, or stops collecting an entrusted
// category for the purposes entrusted, is refused with
// entrustment_outside_policy naming the entrustment: the processor would
// go on processing for what the controller no longer declares. End the
// entrustment first (orgs end-entrustment), then publish.
func (r *Registry) PolicyCheck(controller string) func(context.Context, *manifest.Manifest) error {
	return func(ctx context.Context, m *manifest.Manifest) error {
		es, err := r.st.Entrustments(ctx, controller)
		if err != nil {
			return err
		}
		for _, e := range es {
			if e.Controller != controller || e.State != store.EntrustmentActive {
				continue
			}
			if _, msg := outsidePolicy(m, e.Purposes, e.Categories); msg != "" {
				return fault.New(fault.Conflict, "entrustment_outside_policy",
					"entrustment %s to %s would fall outside this policy: %s; end it first (custos orgs end-entrustment) or keep what it entrusts", e.ID, e.Processor, strings.Replace(msg, "policy "+m.Policy.Version, "new policy", 1))
			}
		}
		return nil
	}
}

// Entrustments lists the entrustments an organisation is a party to ("" for
// every one).
func (r *Registry) Entrustments(ctx context.Context, id string) ([]Entrustment, error) {
	return r.st.Entrustments(ctx, id)
}

// Entrustment returns one entrustment.
func (r *Registry) Entrustment(ctx context.Context, id string) (Entrustment, error) {
	e, err := r.st.Entrustment(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Entrustment{}, errEntrustmentNotFound
	}
	return e, err
}

var errEntrustmentNotFound = fault.New(fault.NotFound, "entrustment_not_found", "no such entrustment")

// EndEntrustment records the end of an entrustment with the controller's
// instruction for the data (PIPL art. 21): "delete" or "return". Within
// the servers' poll interval, requests no longer go from the processor to
// the controller.
func (r *Registry) EndEntrustment(ctx context.Context, a consent.Actor, id, action string) (Entrustment, error) {
	if action != "delete" && action != "return" {
		return Entrustment{}, fault.New(fault.Invalid, "invalid_end_action", "at the end of an entrustment the data is deleted or returned").At("action").Allowing([]string{"delete", "return"})
	}
	now := r.now().UTC().Truncate(time.Microsecond)
	e, err := r.st.EndEntrustment(ctx, id, action, now, nil, audit.NewEntry(now, a, ActionEndEntrustment, "entrustment:"+id, "", audit.OutcomeOK,
		map[string]string{"action": action}))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Entrustment{}, errEntrustmentNotFound
	case errors.Is(err, store.ErrConflict):
		return Entrustment{}, fault.New(fault.Conflict, "entrustment_ended", "this entrustment has ended")
	}
	return e, err
}
