package dsr

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"github.com/custos-privacy/custos/internal/ids"
	"github.com/custos-privacy/custos/internal/keystore"
	"html/template"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
)

// BundleTTL is how long a download link works.
const BundleTTL = 7 * 24 * time.Hour

// Export is the machine-readable part of an access bundle.
type Export struct {
	Subject    ExportSubject          `json:"subject"`
	Consents   []consent.ConsentEvent `json:"consents"`
	Requests   []View                 `json:"requests"`
	Processing []ExportPurpose        `json:"processing"`
	Generated  time.Time              `json:"generated_at"`
	Policy     string                 `json:"policy_version"`
	// Elsewhere is what the organisation's other systems hold, by system,
	// datastore and collection.
	Elsewhere map[string]any `json:"elsewhere,omitempty"`
}

// ExportSubject is what Custos holds about the person.
type ExportSubject struct {
	ID         string            `json:"subject_id"`
	BirthDate  string            `json:"birth_date,omitempty"`
	AgeBand    string            `json:"age_band,omitempty"`
	GuardianID string            `json:"guardian_id,omitempty"`
	Restricted bool              `json:"restricted"`
	Identities map[string]string `json:"identities"`
	// Vault is what the vault keeps for the person, in clear.
	Vault []ExportVaultValue `json:"vault"`
}

// ExportVaultValue is a value the vault keeps for the person: the field,
// its category (id, and name in the request's language), the value and
// when it was last written.
type ExportVaultValue struct {
	Field        string    `json:"field"`
	Category     string    `json:"category,omitempty"`
	CategoryName string    `json:"category_name,omitempty"`
	Value        string    `json:"value"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// ExportPurpose explains one purpose: why, on what basis, which
// categories from which sources, who receives them, how long they are kept.
type ExportPurpose struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Basis      string   `json:"basis"`
	Categories []string `json:"categories"`
	Sources    []string `json:"sources"`
	Recipients []string `json:"recipients"`
	Retention  []string `json:"retention"`
}

func (o ownData) export(ctx context.Context, a consent.Actor, r *store.Request) (Outcome, error) {
	s := o.s
	m, err := s.policy()
	if err != nil {
		return Outcome{}, err
	}
	sub, err := s.st.Subject(ctx, r.SubjectID)
	if err != nil {
		return Outcome{}, err
	}
	ex := Export{Generated: s.now().UTC(), Subject: ExportSubject{ID: sub.ID, BirthDate: sub.BirthDate, AgeBand: sub.AgeBand, GuardianID: sub.GuardianID,
		Restricted: sub.Restricted, Identities: map[string]string{}, Vault: []ExportVaultValue{}}}
	if v, _, _, err := s.consent.Policy(); err == nil {
		ex.Policy = v.Version
	}
	for _, idn := range sub.Identities {
		val := "(kept only as a keyed hash)"
		if len(idn.Sealed) > 0 {
			if raw, err := s.consent.OpenIdentity(ctx, sub.ID, idn.Kind, idn.Sealed); err == nil {
				val = string(raw)
			}
		}
		ex.Subject.Identities[idn.Kind] = val
	}
	if s.opt.Vault != nil {
		vals, err := s.opt.Vault.Export(ctx, a, r.SubjectID, r.ID)
		if err != nil {
			return Outcome{}, err
		}
		for _, v := range vals {
			ev := ExportVaultValue{Field: v.Field, Category: v.Category, Value: v.Value, UpdatedAt: v.UpdatedAt}
			if c, ok := m.Category(v.Category); ok {
				ev.CategoryName = c.Name.In(r.Language)
			}
			ex.Subject.Vault = append(ex.Subject.Vault, ev)
		}
	}
	if ex.Consents, err = s.consent.History(ctx, a, r.SubjectID, 0, 100000); err != nil {
		return Outcome{}, err
	}
	reqs, err := s.st.Requests(ctx, store.RequestFilter{SubjectID: r.SubjectID, Limit: 1000})
	if err != nil {
		return Outcome{}, err
	}
	for i := range reqs {
		v, _ := s.view(ctx, &reqs[i], false)
		v.Flags = Flags{}
		ex.Requests = append(ex.Requests, v)
	}
	ex.Processing = processing(m, r.Language)
	ex.Elsewhere = o.found
	data, err := exportJSON(ex)
	if err != nil {
		return Outcome{}, err
	}
	zipped, err := bundle(ex, data, r.Language)
	if err != nil {
		return Outcome{}, err
	}
	token := make([]byte, 32)
	rand.Read(token)
	tok := base64.RawURLEncoding.EncodeToString(token)
	id := ids.New("bd_")
	sealed, err := s.opt.Keys.Seal(ctx, keystore.Subject(r.SubjectID), zipped, keystore.BundleAD(id))
	if err != nil {
		return Outcome{}, err
	}
	th := sha256.Sum256([]byte(tok))
	b := store.Bundle{ID: id, RequestID: r.ID, SubjectID: r.SubjectID, Sealed: sealed, TokenHash: th[:], ExpiresAt: s.now().Add(BundleTTL), CreatedAt: s.now()}
	until := b.ExpiresAt.In(calendarZone).Format(time.DateOnly)
	return Outcome{Summary: "export ready for download until " + b.ExpiresAt.Format(time.DateOnly), Also: []store.TxFn{s.st.PutBundleFn(b)},
		Message:  told(r.Language, "您的个人信息导出文件已准备好，可在 %s 前下载。", "The export of your personal information is ready to download until %s.", until),
		download: "/v1/public/requests/" + r.ID + "/bundle?token=" + tok, data: data}, nil
}

func processing(m *manifest.Manifest, lang string) []ExportPurpose {
	var out []ExportPurpose
	for _, p := range m.Purposes {
		ep := ExportPurpose{ID: p.ID, Name: p.Name.In(lang), Basis: p.Basis, Categories: []string{}, Sources: []string{}, Recipients: []string{}, Retention: []string{}}
		seen := map[string]bool{}
		for _, s := range m.Services {
			for _, c := range s.Collects {
				if !contains(c.Purposes, p.ID) {
					continue
				}
				for _, cat := range c.Categories {
					if !seen["c"+cat] {
						seen["c"+cat] = true
						ep.Categories = append(ep.Categories, cat)
					}
				}
				for _, src := range c.Sources {
					if !seen["s"+src] {
						seen["s"+src] = true
						ep.Sources = append(ep.Sources, src)
					}
				}
			}
		}
		for _, rc := range m.Recipients {
			if contains(rc.Purposes, p.ID) {
				ep.Recipients = append(ep.Recipients, rc.Name.In(lang))
			}
		}
		for _, rt := range m.Retention {
			if contains(rt.Purposes, p.ID) {
				s := rt.Until
				if rt.Period != nil {
					s = itoa(rt.Period.Count) + " " + rt.Period.Unit + " from " + rt.From
				}
				ep.Retention = append(ep.Retention, s)
			}
		}
		out = append(out, ep)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// reportTmpl is the person's copy in words, in the request's language
// (told's rule).
var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{"told": func(lang, zh, en string) string { return told(lang, zh, en) }}).Parse(`<!doctype html>
<html lang="{{.Lang}}"><meta charset="utf-8"><title>{{told .Lang "您的个人信息副本" "Your personal information"}}</title>
<h1>{{told .Lang "您的个人信息副本" "Your personal information"}}</h1>
<p>{{.E.Generated.Format "2006-01-02 15:04 MST"}} · {{.E.Policy}}</p>
<h2>{{told .Lang "我们持有的信息" "What we hold"}}</h2>
<table>{{range $k, $v := .E.Subject.Identities}}<tr><th>{{$k}}</th><td>{{$v}}</td></tr>{{end}}
{{with .E.Subject.BirthDate}}<tr><th>birth_date</th><td>{{.}}</td></tr>{{end}}</table>
{{with .E.Subject.Vault}}<h2>{{told $.Lang "加密保管的个人信息" "Personal information kept sealed"}}</h2>
<table><tr><th>{{told $.Lang "字段" "Field"}}</th><th>{{told $.Lang "类别" "Category"}}</th><th>{{told $.Lang "内容" "Value"}}</th><th>{{told $.Lang "最后写入" "Last written"}}</th></tr>
{{range .}}<tr><td>{{.Field}}</td><td>{{or .CategoryName .Category}}</td><td>{{.Value}}</td><td>{{.UpdatedAt.Format "2006-01-02 15:04 MST"}}</td></tr>
{{end}}</table>{{end}}
<h2>{{told .Lang "同意记录" "Consents"}}</h2>
<table>{{range .E.Consents}}<tr><td>{{.At}}</td><td>{{.Purpose}}</td><td>{{.Action}}</td><td>{{.Method}}</td></tr>{{end}}</table>
<h2>{{told .Lang "处理目的与规则" "Why and how we process it"}}</h2>
{{range .E.Processing}}<h3>{{.Name}}</h3><p>{{.Basis}} · {{range .Categories}}{{.}} {{end}}</p><p>{{range .Recipients}}{{.}}; {{end}}</p><p>{{range .Retention}}{{.}}; {{end}}</p>{{end}}
</html>
`))

// exportJSON is the export as data.json holds it, and as a portability
// transmission carries it.
func exportJSON(ex Export) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ex); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// bundle zips the report (HTML), the data (JSON: data, exportJSON's) and
// the consent history (CSV).
func bundle(ex Export, data []byte, lang string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("data.json")
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if w, err = zw.Create("consents.csv"); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{"at", "purpose", "action", "method", "policy_version", "language", "separate"})
	for _, c := range ex.Consents {
		cw.Write([]string{c.At, c.Purpose, c.Action, c.Method, c.PolicyVersion, c.Language, map[bool]string{true: "yes", false: "no"}[c.Separate]})
	}
	cw.Flush()
	if w, err = zw.Create("report.html"); err != nil {
		return nil, err
	}
	if err := reportTmpl.Execute(w, map[string]any{"E": ex, "Lang": lang}); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Download returns an export bundle for a valid, unexpired token; the
// download is audited.
func (s *Service) Download(ctx context.Context, a consent.Actor, requestID, token string) ([]byte, error) {
	th := sha256.Sum256([]byte(token))
	b, err := s.st.BundleByToken(ctx, th[:])
	return s.open(ctx, a, requestID, b, err)
}

// DownloadForRequester returns the request's newest export bundle to the
// holder of the request's access token (the privacy center's status
// page), while the bundle's link has not expired; the download is audited.
func (s *Service) DownloadForRequester(ctx context.Context, a consent.Actor, requestID, accessToken string) ([]byte, error) {
	if err := s.Authorize(ctx, requestID, accessToken); err != nil {
		return nil, err
	}
	b, err := s.st.LatestBundle(ctx, requestID)
	return s.open(ctx, a, requestID, b, err)
}

// HasBundle reports whether the request has an export bundle that can
// still be downloaded.
func (s *Service) HasBundle(ctx context.Context, requestID string) (bool, error) {
	b, err := s.st.LatestBundle(ctx, requestID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !s.now().After(b.ExpiresAt), nil
}

func (s *Service) open(ctx context.Context, a consent.Actor, requestID string, b store.Bundle, err error) ([]byte, error) {
	if errors.Is(err, store.ErrNotFound) || err == nil && (b.RequestID != requestID || s.now().After(b.ExpiresAt)) {
		return nil, fault.New(fault.NotFound, "bundle_not_found", "no such download, or the link has expired")
	}
	if err != nil {
		return nil, err
	}
	raw, err := s.opt.Keys.Open(ctx, keystore.Subject(b.SubjectID), b.Sealed, keystore.BundleAD(b.ID))
	if err != nil {
		return nil, err
	}
	r := &store.Request{ID: requestID, SubjectID: b.SubjectID}
	if err := s.st.CountDownload(ctx, b.ID, s.entry(a, "bundle.download", r, "")); err != nil {
		return nil, err
	}
	return raw, nil
}

// ActionBundleExpire is the audit action of deleting export bundles whose
// download window ended: one entry per sweep, with the count.
const ActionBundleExpire = "bundle.expire"

// PurgeBundles deletes the export bundles whose download window
// (BundleTTL) has ended and returns how many: a copy of a person's data
// kept past the time it could be fetched serves no one. The server does
// it hourly.
func (s *Service) PurgeBundles(ctx context.Context, a consent.Actor) (int64, error) {
	now := s.now()
	return s.st.DeleteExpiredBundles(ctx, now, func(n int64) audit.Entry {
		return audit.NewEntry(now, a, ActionBundleExpire, "bundles", "retention", audit.OutcomeOK, map[string]any{"count": n, "expired_before": now.UTC()})
	})
}
