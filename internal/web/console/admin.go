package console

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"

	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/policy"
	"github.com/custos-privacy/custos/internal/web"
	"github.com/custos-privacy/custos/internal/web/picture"
)

func (c *console) dashboard(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	d := map[string]any{}
	if pv, _, _, err := c.opt.Consent.Policy(); err == nil {
		d["Policy"] = pv.Version
	}
	pending, err := c.opt.Approvals.Pending(ctx)
	if err != nil {
		return err
	}
	d["Pending"] = pending
	if err := c.pictures(r, s, d); err != nil {
		return err
	}
	return c.render(w, r, s, "dashboard", "console.dashboard.title", d)
}

// pictures draws the dashboard's charts (consent per purpose over the last
// 90 days, weekly; requests by state and by days to the deadline) and
// counts the open, overdue and soon-due requests, from one count query
// rather than a capped list.
func (c *console) pictures(r *http.Request, s *session, d map[string]any) error {
	ctx := r.Context()
	lang := web.Lang(r, "zh-CN")
	_, m, _, err := c.opt.Consent.Policy()
	if err != nil {
		return nil // nothing published yet: no pictures
	}
	now := time.Now()
	series, err := c.opt.Stats.Series(ctx, now.AddDate(0, 0, -91), now, 7*24*time.Hour)
	if err != nil {
		return err
	}
	points := make([]picture.ConsentPoint, len(series))
	for i, p := range series {
		points[i] = picture.ConsentPoint{At: p.At, Purpose: p.Purpose, Granted: p.Granted, Withdrawn: p.Withdrawn}
	}
	d["Consents"] = picture.ConsentChart(points, m, lang)
	if c.opt.Requests == nil {
		return nil
	}
	counts, err := c.opt.Requests.Counts(ctx)
	if err != nil {
		return err
	}
	overdue := counts.Due(-1)
	d["Open"], d["Overdue"], d["Soon"] = counts.Open(), overdue, counts.Due(dueSoonDays)-overdue
	d["States"] = picture.RequestStates(counts.ByState, dsr.OpenStates, lang)
	d["Due"] = picture.RequestDeadlines(counts.DaysLeft, lang)
	return nil
}

func (c *console) dataflow(w http.ResponseWriter, r *http.Request, s *session) error {
	_, m, _, err := c.opt.Consent.Policy()
	if err != nil {
		return c.render(w, r, s, "dataflow", "console.dataflow.title", nil)
	}
	return c.render(w, r, s, "dataflow", "console.dataflow.title", picture.FlowMap(m, web.Lang(r, "zh-CN")))
}

type versionRow struct {
	Seq       int64
	Version   string
	Published string
	Effective string
	State     string // in_force, upcoming, superseded
	Material  bool
	// Reconsent and Accept list purposes and acts by name, each with its
	// id for operators: "产品使用统计分析 (analytics)".
	Reconsent []string
	Accept    []string
	Changes   []changeView
}

// changeView is a change with what it is about in the page's language.
type changeView struct {
	policy.Change
	What string
}

// versions lists the published versions, newest first. The stored diffs
// are named again from the versions' manifests, so that the page shows
// what changed by name as well as by path.
func (c *console) versions(r *http.Request) ([]versionRow, error) {
	ctx := r.Context()
	vs, err := c.opt.Consent.Versions(ctx)
	if err != nil {
		return nil, err
	}
	lang := web.Lang(r, "zh-CN")
	out := make([]versionRow, 0, len(vs))
	for i := len(vs) - 1; i >= 0; i-- {
		v := vs[i]
		var d policy.Diff
		json.Unmarshal([]byte(v.Diff), &d)
		if i > 0 {
			_, oldM, err1 := c.opt.Consent.VersionByLabel(ctx, vs[i-1].Label)
			_, newM, err2 := c.opt.Consent.VersionByLabel(ctx, v.Label)
			if err1 == nil && err2 == nil {
				d.Annotate(oldM, newM)
			}
		}
		row := versionRow{Seq: v.Seq, Version: v.Label, Published: v.PublishedAt.In(calendar.China).Format("2006-01-02 15:04"),
			Effective: v.EffectiveAt.In(calendar.China).Format("2006-01-02 15:04"), State: v.State,
			Material: v.Material, Reconsent: namedIDs(&d, v.Reconsent, lang), Accept: namedIDs(&d, v.Accept, lang)}
		for _, ch := range d.Changes {
			row.Changes = append(row.Changes, changeView{Change: ch, What: ch.Describe(lang)})
		}
		out = append(out, row)
	}
	return out, nil
}

// namedIDs are purposes and acts by name, with their ids for operators.
func namedIDs(d *policy.Diff, ids []string, lang string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id
		if n := d.Name(id, lang); n != "" {
			out[i] = n + " (" + id + ")"
		}
	}
	return out
}

func (c *console) policies(w http.ResponseWriter, r *http.Request, s *session) error {
	vs, err := c.versions(r)
	if err != nil {
		return err
	}
	return c.render(w, r, s, "policies", "console.policies.title", map[string]any{"Versions": vs})
}

// publish takes a manifest from the file field or, failing that, the
// textarea, and shows what the consent service made of it.
func (c *console) publish(w http.ResponseWriter, r *http.Request, s *session) error {
	src := []byte(r.PostFormValue("manifest"))
	name := "console"
	if f, h, err := r.FormFile("file"); err == nil {
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, web.MaxFormBytes))
		if err != nil {
			return fault.New(fault.BadRequest, "bad_upload", "the file could not be read")
		}
		if len(b) > 0 {
			src, name = b, h.Filename
		}
	}
	if strings.TrimSpace(string(src)) == "" {
		return fault.New(fault.Invalid, "manifest_required", "upload a manifest or paste it")
	}
	// The effective time is a China-time date and time from the form; empty
	// is the manifest's own effective date, or now.
	var opt consent.PublishOptions
	if at := strings.TrimSpace(r.PostFormValue("effective_at")); at != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", at, calendar.China)
		if err != nil {
			return fault.New(fault.Invalid, "invalid_effective_at", "the effective time is a date and time").At("effective_at")
		}
		opt.EffectiveAt = t
	}
	pub, err := c.opt.Consent.PublishWith(r.Context(), s.actor, name, src, opt)
	if err != nil {
		return err
	}
	vs, err := c.versions(r)
	if err != nil {
		return err
	}
	var row versionRow
	for _, v := range vs {
		if v.Seq == pub.Seq {
			row = v
		}
	}
	return c.render(w, r, s, "policies", "console.policies.title", map[string]any{"Versions": vs, "Published": pub, "Changes": row.Changes,
		"Reconsent": row.Reconsent, "Accept": row.Accept})
}

func (c *console) audit(w http.ResponseWriter, r *http.Request, s *session) error {
	head, err := c.opt.Trail.Head(r.Context())
	if err != nil {
		return err
	}
	return c.render(w, r, s, "audit", "console.audit.title", map[string]any{"Head": head})
}

func (c *console) verifyAudit(w http.ResponseWriter, r *http.Request, s *session) error {
	rep, head, err := c.opt.Trail.Check(r.Context())
	if err != nil {
		return err
	}
	return c.render(w, r, s, "audit", "console.audit.title", map[string]any{"Head": head, "Report": rep, "Ran": true})
}

func (c *console) operators(w http.ResponseWriter, r *http.Request, s *session) error {
	ops, err := c.ops.List(r.Context())
	if err != nil {
		return err
	}
	return c.render(w, r, s, "operators", "console.operators.title", map[string]any{"Operators": ops})
}

// errNotHere answers a page this console does not have, as for a path
// that does not exist.
var errNotHere = fault.New(fault.NotFound, "not_found", "no such page")

// orgs shows the deployment's registry: organisations with their hosts,
// status and group, and the entrustments between them. Changes are the
// CLI's and the API's (docs/organisations.md).
func (c *console) orgs(w http.ResponseWriter, r *http.Request, s *session) error {
	if c.opt.Orgs == nil {
		return errNotHere
	}
	all, err := c.opt.Orgs.List(r.Context())
	if err != nil {
		return err
	}
	ents, err := c.opt.Orgs.Entrustments(r.Context(), "")
	if err != nil {
		return err
	}
	return c.render(w, r, s, "orgs", "console.orgs.title", map[string]any{"Orgs": all, "Entrustments": ents})
}

func (c *console) createOperator(w http.ResponseWriter, r *http.Request, s *session) error {
	_, err := c.ops.Create(r.Context(), s.actor, s.op.Username, r.PostFormValue("username"), r.PostFormValue("display_name"), r.PostFormValue("role"), r.PostFormValue("password"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/operators?done=created", http.StatusSeeOther)
	return nil
}

func (c *console) disableOperator(disabled bool) func(http.ResponseWriter, *http.Request, *session) error {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		if err := c.ops.SetDisabled(r.Context(), s.actor, r.PathValue("username"), disabled); err != nil {
			return err
		}
		http.Redirect(w, r, "/console/operators?done=saved", http.StatusSeeOther)
		return nil
	}
}

func (c *console) resetPassword(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := c.ops.ResetPassword(r.Context(), s.actor, s.op.Username, r.PathValue("username"), r.PostFormValue("password")); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/operators?done=saved", http.StatusSeeOther)
	return nil
}

// account shows the signed-in operator's own account, with the form to
// change their password.
func (c *console) account(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.render(w, r, s, "account", "console.account.title", nil)
}

// changePassword sets the operator's own password. Their sessions end,
// so they sign in again with it.
func (c *console) changePassword(w http.ResponseWriter, r *http.Request, s *session) error {
	err := c.ops.ChangePassword(r.Context(), s.actor, s.op.ID, r.PostFormValue("current"), r.PostFormValue("password"), r.PostFormValue("repeat"))
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: web.CookieName(r, cookieName), Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: web.IsHTTPS(r), SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/console/signin?done=password", http.StatusSeeOther)
	return nil
}
