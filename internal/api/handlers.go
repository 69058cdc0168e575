package api

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/apikey"
	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
)

func (a *API) health(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	return writeJSON(w, 200, map[string]string{"status": "ok"})
}

func (a *API) ready(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	if err := a.opt.Health.Ping(r.Context()); err != nil {
		a.log.Warn("not ready: database", "err", err)
		return fault.New(fault.Unavailable, "not_ready", "the database does not answer")
	}
	if _, _, _, err := a.svc.Policy(); err != nil {
		return fault.New(fault.Unavailable, "not_ready", "no policy version is in force")
	}
	return writeJSON(w, 200, map[string]string{"status": "ready"})
}

func (a *API) receiptKeys(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	if a.opt.Signer == nil {
		return fault.New(fault.Unavailable, "receipts_unavailable", "no receipt signing key is configured")
	}
	jwks, err := a.opt.Signer.JWKS()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err = w.Write(jwks)
	return err
}

func (a *API) createSubject(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	var in consent.SubjectInput
	if err := decode(r, &in); err != nil {
		return err
	}
	v, err := a.svc.CreateSubject(r.Context(), who, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/subjects/"+v.ID)
	return writeSubject(w, who, v, 201)
}

// SubjectRef is the answer to a subject write for a caller that may not
// read subjects: the subject's id and nothing of what its record holds.
type SubjectRef struct {
	ID string `json:"subject_id"`
}

// writeSubject answers a call that registered or changed a subject. Only
// the staff roles, which may read a subject (GET /v1/subjects/{subject_id},
// audited), are shown it whole; a service key may write subjects but not
// read them, so a write must not become a read: it is told the id alone.
// The check names the roles that see more, so a role added later sees less.
func writeSubject(w http.ResponseWriter, who consent.Actor, v consent.SubjectView, status int) error {
	if who.Role == RoleAdmin || who.Role == RoleOperator {
		return writeJSON(w, status, v)
	}
	return writeJSON(w, status, SubjectRef{ID: v.ID})
}

func (a *API) getSubject(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	v, err := a.svc.Subject(r.Context(), who, r.PathValue("subject_id"), r.URL.Query().Get("purpose"))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, v)
}

func (a *API) updateSubject(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	var p consent.SubjectPatch
	if err := decode(r, &p); err != nil {
		return err
	}
	v, err := a.svc.UpdateSubject(r.Context(), who, r.PathValue("subject_id"), p)
	if err != nil {
		return err
	}
	return writeSubject(w, who, v, 200)
}

// IdentitiesInput adds identities.
type IdentitiesInput struct {
	Identities []consent.IdentityInput `json:"identities"`
}

func (a *API) addIdentities(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	var in IdentitiesInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if len(in.Identities) == 0 || len(in.Identities) > 32 {
		return fault.New(fault.Invalid, "invalid_identities", "give 1 to 32 identities").At("identities")
	}
	v, err := a.svc.AddIdentities(r.Context(), who, r.PathValue("subject_id"), in.Identities)
	if err != nil {
		return err
	}
	return writeSubject(w, who, v, 200)
}

// RestrictionInput restricts or frees processing. Both fields are required.
type RestrictionInput struct {
	Restricted bool   `json:"restricted"`
	Reason     string `json:"reason"`
}

func (a *API) setRestriction(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	// RestrictionInput with pointers, to tell a field left out from false
	// or "": a body that forgot "restricted" must not lift a restriction.
	var in struct {
		Restricted *bool   `json:"restricted"`
		Reason     *string `json:"reason"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Restricted == nil {
		return fault.New(fault.Invalid, "restricted_required", "say whether processing is restricted (true) or the restriction lifted (false)").At("restricted")
	}
	if in.Reason == nil || strings.TrimSpace(*in.Reason) == "" {
		return fault.New(fault.Invalid, "reason_required", "give the reason for restricting processing or lifting the restriction").At("reason")
	}
	if len(*in.Reason) > 200 {
		return fault.New(fault.Invalid, "invalid_reason", "reason is at most 200 bytes").At("reason")
	}
	// With rights requests at hand, the restriction reaches the
	// organisation's databases too.
	set := a.svc.SetRestricted
	if d, err := a.dsr(); err == nil {
		set = d.SetRestricted
	}
	v, err := set(r.Context(), who, r.PathValue("subject_id"), *in.Restricted, *in.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, v)
}

// ConsentEvents is the answer to a consent write.
type ConsentEvents struct {
	Events []consent.ConsentEvent `json:"events"`
}

func (a *API) recordConsent(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	var in consent.ConsentInput
	if err := decode(r, &in); err != nil {
		return err
	}
	in.Signals = consent.RequestSignals(r.Header)
	evs, err := a.svc.Record(r.Context(), who, r.PathValue("subject_id"), in)
	if err != nil {
		return err
	}
	return a.wroteEvents(w, evs)
}

func (a *API) recordObjection(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	var in consent.ObjectionInput
	if err := decode(r, &in); err != nil {
		return err
	}
	evs, err := a.svc.Object(r.Context(), who, r.PathValue("subject_id"), in)
	if err != nil {
		return err
	}
	return a.wroteEvents(w, evs)
}

func (a *API) overrideObjection(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	var in consent.OverrideInput
	if err := decode(r, &in); err != nil {
		return err
	}
	evs, err := a.svc.Override(r.Context(), who, r.PathValue("subject_id"), r.PathValue("purpose"), in)
	if err != nil {
		return err
	}
	return a.wroteEvents(w, evs)
}

func (a *API) recordAcceptance(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	var in consent.AcceptanceInput
	if err := decode(r, &in); err != nil {
		return err
	}
	evs, err := a.svc.Accept(r.Context(), who, r.PathValue("subject_id"), in)
	if err != nil {
		return err
	}
	return a.wroteEvents(w, evs)
}

func (a *API) wroteEvents(w http.ResponseWriter, evs []consent.ConsentEvent) error {
	for _, e := range evs {
		a.metrics.consents.WithLabelValues(e.Action).Inc()
	}
	return writeJSON(w, 201, ConsentEvents{Events: evs})
}

// Page is a page of a list with an opaque cursor for the next one.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func pageParams(r *http.Request) (after int64, limit int, err error) {
	limit = 100
	if l := r.URL.Query().Get("limit"); l != "" {
		limit, err = strconv.Atoi(l)
		if err != nil || limit < 1 || limit > 1000 {
			return 0, 0, fault.New(fault.BadRequest, "invalid_limit", "limit is 1 to 1000").At("limit")
		}
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err == nil {
			after, err = strconv.ParseInt(strings.TrimPrefix(string(b), "after:"), 10, 64)
		}
		if err != nil || !strings.HasPrefix(string(b), "after:") {
			return 0, 0, fault.New(fault.BadRequest, "invalid_cursor", "the cursor is not one this API returned").At("cursor")
		}
	}
	return after, limit, nil
}

func cursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("after:" + strconv.FormatInt(seq, 10)))
}

func (a *API) listConsents(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	after, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	evs, err := a.svc.History(r.Context(), who, r.PathValue("subject_id"), after, limit+1)
	if err != nil {
		return err
	}
	p := Page[consent.ConsentEvent]{Items: evs}
	if len(evs) > limit {
		p.Items = evs[:limit]
		p.NextCursor = cursor(evs[limit-1].Seq)
	}
	return writeJSON(w, 200, p)
}

// Receipt carries a signed consent receipt.
type Receipt struct {
	Receipt string `json:"receipt"`
	KeysURL string `json:"keys_url"`
}

func (a *API) consentReceipt(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	tok, err := a.svc.Receipt(r.Context(), who, r.PathValue("subject_id"), r.PathValue("event"))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, Receipt{Receipt: tok, KeysURL: "/v1/keys/receipts"})
}

func (a *API) check(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	var in consent.CheckInput
	if err := decode(r, &in); err != nil {
		return err
	}
	res, err := a.svc.Check(r.Context(), who, in)
	if err != nil {
		return err
	}
	for _, d := range res.Decisions {
		a.metrics.decided(d.Reason)
	}
	return writeJSON(w, 200, res)
}

// reasonLabel keeps metric label values to a fixed set.
func reasonLabel(reason string) string {
	if strings.HasPrefix(reason, "legal_basis:") {
		return "legal_basis"
	}
	return reason
}

// PolicyVersion describes a published version.
type PolicyVersion struct {
	Version     string    `json:"version"`
	Seq         int64     `json:"seq"`
	SHA256      string    `json:"sha256"`
	PublishedAt time.Time `json:"published_at"`
	EffectiveAt time.Time `json:"effective_at"`
	Material    bool      `json:"material"`
	Reconsent   []string  `json:"reconsent"`
	Accept      []string  `json:"accept"`
	// State is in_force, upcoming (announced, not yet in force) or superseded.
	State   string `json:"state"`
	InForce bool   `json:"in_force"`
}

func policyView(v consent.Version) PolicyVersion {
	return PolicyVersion{Version: v.Label, Seq: v.Seq, SHA256: v.SHA256, PublishedAt: v.PublishedAt.UTC(), EffectiveAt: v.EffectiveAt.UTC(),
		Material: v.Material, Reconsent: v.Reconsent, Accept: v.Accept, State: v.State, InForce: v.State == consent.VersionInForce}
}

func (a *API) currentPolicy(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	v, _, _, err := a.svc.InForce()
	if err != nil {
		return err
	}
	return writeJSON(w, 200, policyView(v))
}

func (a *API) listPolicyVersions(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	vs, err := a.svc.Versions(r.Context())
	if err != nil {
		return err
	}
	out := make([]PolicyVersion, len(vs))
	for i, v := range vs {
		out[i] = policyView(v)
	}
	return writeJSON(w, 200, map[string]any{"versions": out})
}

func (a *API) publishPolicy(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	src, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	var opt consent.PublishOptions
	if at := r.URL.Query().Get("effective_at"); at != "" {
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			return fault.New(fault.Invalid, "invalid_effective_at", "effective_at is an RFC 3339 time, e.g. 2027-01-01T00:00:00+08:00").At("effective_at")
		}
		opt.EffectiveAt = t
	}
	p, err := a.svc.PublishWith(r.Context(), who, "manifest", src, opt)
	if err != nil {
		return err
	}
	status := 201
	if !p.Created {
		status = 200
	}
	return writeJSON(w, status, p)
}

func (a *API) listAudit(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	after, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	f := audit.Filter{After: after, Limit: limit + 1}
	if s := r.URL.Query().Get("since"); s != "" {
		f.Since, err = time.Parse(time.RFC3339, s)
		if err != nil {
			return fault.New(fault.BadRequest, "invalid_since", "since is an RFC 3339 time").At("since")
		}
	}
	es, err := a.opt.Trail.Entries(r.Context(), f)
	if err != nil {
		return err
	}
	p := Page[audit.Entry]{Items: es}
	if len(es) > limit {
		p.Items = es[:limit]
		p.NextCursor = cursor(es[limit-1].Seq)
	}
	return writeJSON(w, 200, p)
}

func (a *API) verifyAudit(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	rep, err := a.opt.Trail.Verify(r.Context(), nil, nil)
	if err != nil {
		return err
	}
	a.metrics.auditOK.Set(boolFloat(rep.OK))
	return writeJSON(w, 200, rep)
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Key describes an API key without its secret.
type Key struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

func keyView(k apikey.Key) Key {
	v := Key{ID: k.ID, Name: k.Name, Role: k.Role, CreatedAt: k.CreatedAt}
	if k.Revoked() {
		t := k.RevokedAt
		v.RevokedAt = &t
	}
	return v
}

func (a *API) listKeys(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	ks, err := a.keys.List(r.Context())
	if err != nil {
		return err
	}
	out := make([]Key, len(ks))
	for i, k := range ks {
		out[i] = keyView(k)
	}
	return writeJSON(w, 200, map[string]any{"keys": out})
}

// KeyInput creates a key.
type KeyInput struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// CreatedKey is a new key with its secret, shown this once.
type CreatedKey struct {
	Key
	Secret string `json:"secret"`
}

func createdView(c apikey.Created) CreatedKey {
	return CreatedKey{Key: keyView(c.Key), Secret: c.Secret}
}

// CreateKey makes and stores a key in st, with its audit entry. Servers,
// benchmarks and tests use it to mint keys without an API to call.
func CreateKey(ctx context.Context, st apikey.Store, actor consent.Actor, name, role string) (CreatedKey, error) {
	c, err := apikey.New(st, apikey.Options{}).Create(ctx, actor, name, role)
	if err != nil {
		return CreatedKey{}, err
	}
	return createdView(c), nil
}

func (a *API) createKey(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	var in KeyInput
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := a.keys.Create(r.Context(), who, in.Name, in.Role)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, createdView(c))
}

func (a *API) revokeKey(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	k, err := a.keys.Revoke(r.Context(), who, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, keyView(k))
}
