// Package evidence writes and checks the evidence archive of a personal-
// information protection compliance audit: one signed tar.gz holding, for
// a period, the record of processing activities, the policy versions and
// their differences, consent and rights-request statistics with deadline
// performance, the audit trail's verification, and the impact assessments
// with what triggers them, plus any part a Source adds (incidents,
// transfers).
//
// Every file is listed with its SHA-256 in MANIFEST.json, which is signed
// with the deployment's receipt key (Ed25519) the way erasure certificates
// are: anyone holding the key set published at /v1/keys/receipts checks an
// archive offline, with no database (Verify). The archive holds counts,
// ids and the organisation's own documents, never a person's information.
package evidence

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/pia"
	"github.com/custos-privacy/custos/internal/policy"
	"github.com/custos-privacy/custos/internal/store"
)

// Format is the version of the archives this package writes.
const Format = 1

// Names of the archive's own files.
const (
	ManifestFile  = "MANIFEST.json"
	SignatureFile = "MANIFEST.sig"
	KeysFile      = "keys.json"
)

// Bounds on what Verify reads: an archive may come from anyone.
const (
	MaxFiles    = 10000
	MaxFileSize = 64 << 20
	MaxTotal    = 512 << 20
	maxPath     = 200
)

// Source builds part of the archive for the period [from, to): files keyed
// by their path relative to the source's folder.
type Source = func(ctx context.Context, from, to time.Time) (map[string][]byte, error)

// Records is what the archive reads from the organisation's store; a
// *store.Store acting for the organisation is one.
type Records interface {
	PolicyVersions(ctx context.Context) ([]store.PolicyVersion, error)
	Requests(ctx context.Context, f store.RequestFilter) ([]store.Request, error)
	ConsentSeries(ctx context.Context, from, to time.Time, bucket time.Duration) ([]store.ConsentPoint, error)
	VerifyAudit(ctx context.Context, anchors *audit.Anchors, progress func(checked int64)) (audit.Report, error)
}

// Options say what to put in an archive and how to sign it.
type Options struct {
	Org string
	// From and To bound the period: [From, To).
	From, To time.Time
	// Now is when the archive is made (default time.Now).
	Now time.Time
	// Manifest is the manifest in force; with none, the last version
	// published before To is read from Records.
	Manifest *manifest.Manifest
	// Records, when not nil, gives the policy versions, the statistics and
	// the audit trail's verification.
	Records Records
	// Anchors are heads of the audit trail recorded outside the database
	// (signed checkpoints) that its verification checks against.
	Anchors *audit.Anchors
	// Key signs MANIFEST.json under KeyID (the receipt key and its JWK
	// thumbprint).
	Key   ed25519.PrivateKey
	KeyID string
	// Sources add parts built elsewhere, each under a folder of its name.
	Sources map[string]Source
	// Audit, when not nil, records the archive's making (evidence.create)
	// as done by Actor: its period, parts and number of files.
	Audit interface {
		AppendAudit(ctx context.Context, entries ...audit.Entry) error
	}
	Actor audit.Actor
}

// Entry is one file of the archive as MANIFEST.json lists it.
type Entry struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Manifest is MANIFEST.json: what the archive is and every file in it.
type Manifest struct {
	Format  int       `json:"format"`
	Org     string    `json:"org,omitempty"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Created time.Time `json:"created"`
	Parts   []string  `json:"parts"`
	Files   []Entry   `json:"files"`
	KeyID   string    `json:"kid"`
}

// Signature is MANIFEST.sig: the Ed25519 signature of MANIFEST.json's
// exact bytes.
type Signature struct {
	KeyID string `json:"kid"`
	Alg   string `json:"alg"`
	Sig   string `json:"sig"` // base64url
}

var b64 = base64.RawURLEncoding.Strict()

// Build writes the archive to w and returns its manifest.
func Build(ctx context.Context, w io.Writer, o Options) (Manifest, error) {
	if len(o.Key) != ed25519.PrivateKeySize {
		return Manifest{}, errors.New("evidence: no Ed25519 signing key (configure the receipt key)")
	}
	if o.KeyID == "" {
		return Manifest{}, errors.New("evidence: the signing key has no id")
	}
	if !o.To.After(o.From) {
		return Manifest{}, errors.New("evidence: the period must end after it starts")
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	files := map[string][]byte{}
	var parts []string
	add := func(part string, got map[string][]byte) error {
		for p, data := range got {
			full := part + "/" + p
			if err := checkPath(full); err != nil {
				return fmt.Errorf("evidence: part %s: %w", part, err)
			}
			if _, dup := files[full]; dup {
				return fmt.Errorf("evidence: part %s: %s given twice", part, full)
			}
			files[full] = data
		}
		parts = append(parts, part)
		return nil
	}
	builtin := []struct {
		name string
		fn   func(context.Context, Options) (map[string][]byte, error)
	}{
		{"policies", policies},
		{"inventory", inventory},
		{"assessments", assessments},
		{"consents", consents},
		{"requests", requests},
		{"audit", auditPart},
	}
	m := o.Manifest
	if m == nil && o.Records != nil {
		var err error
		if m, err = inForce(ctx, o.Records, o.To); err != nil {
			return Manifest{}, err
		}
	}
	o.Manifest = m
	for _, b := range builtin {
		if _, clash := o.Sources[b.name]; clash {
			return Manifest{}, fmt.Errorf("evidence: source %q has the name of a built-in part", b.name)
		}
		got, err := b.fn(ctx, o)
		if err != nil {
			return Manifest{}, fmt.Errorf("evidence: %s: %w", b.name, err)
		}
		if got == nil {
			continue
		}
		if err := add(b.name, got); err != nil {
			return Manifest{}, err
		}
	}
	names := make([]string, 0, len(o.Sources))
	for n := range o.Sources {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := checkPath(n); err != nil || strings.Contains(n, "/") {
			return Manifest{}, fmt.Errorf("evidence: source name %q: want one path segment", n)
		}
		got, err := o.Sources[n](ctx, o.From, o.To)
		if err != nil {
			return Manifest{}, fmt.Errorf("evidence: source %s: %w", n, err)
		}
		if err := add(n, got); err != nil {
			return Manifest{}, err
		}
	}
	// The key set travels in the archive and is listed like any file, so
	// that no byte of the archive but the signature itself goes unsigned.
	keys := append(JWKS(o.Key.Public().(ed25519.PublicKey), o.KeyID), '\n')
	files[KeysFile] = keys
	man := Manifest{Format: Format, Org: o.Org, From: o.From.UTC(), To: o.To.UTC(), Created: o.Now.UTC().Truncate(time.Second), Parts: parts, KeyID: o.KeyID}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		sum := sha256.Sum256(files[p])
		man.Files = append(man.Files, Entry{Path: p, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(files[p]))})
	}
	manJSON, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return Manifest{}, err
	}
	manJSON = append(manJSON, '\n')
	sig := signatureJSON(Signature{KeyID: o.KeyID, Alg: "EdDSA", Sig: b64.EncodeToString(ed25519.Sign(o.Key, manJSON))})

	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	put := func(name string, data []byte) error {
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: man.Created, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := put(ManifestFile, manJSON); err != nil {
		return Manifest{}, err
	}
	if err := put(SignatureFile, sig); err != nil {
		return Manifest{}, err
	}
	for _, p := range paths {
		if err := put(p, files[p]); err != nil {
			return Manifest{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return Manifest{}, err
	}
	if err := gz.Close(); err != nil {
		return Manifest{}, err
	}
	if o.Audit != nil {
		detail := map[string]any{"from": man.From, "to": man.To, "parts": man.Parts, "files": len(man.Files), "kid": man.KeyID}
		e := audit.NewEntry(o.Now, o.Actor, "evidence.create", "evidence:"+o.From.In(calendar.China).Format(time.DateOnly), "compliance_audit", audit.OutcomeOK, detail)
		if err := o.Audit.AppendAudit(ctx, e); err != nil {
			return Manifest{}, fmt.Errorf("evidence: audit: %w", err)
		}
	}
	return man, nil
}

// signatureJSON is the one spelling of a signature file Verify accepts.
func signatureJSON(s Signature) []byte {
	b, _ := json.MarshalIndent(s, "", "  ")
	return append(b, '\n')
}

// checkPath accepts a clean relative slash path of printable characters.
func checkPath(p string) error {
	switch {
	case p == "" || len(p) > maxPath || !utf8.ValidString(p):
		return fmt.Errorf("path of %d bytes: want 1 to %d bytes of UTF-8", len(p), maxPath)
	case strings.HasPrefix(p, "/") || path.Clean(p) != p || p == "." || strings.HasPrefix(p, "../") || p == "..":
		return fmt.Errorf("path %q is not a clean relative path", p)
	case strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }):
		return fmt.Errorf("path %q holds a control character or a backslash", p)
	case p == ManifestFile || p == SignatureFile || p == KeysFile:
		return fmt.Errorf("path %q is the archive's own", p)
	}
	return nil
}

// JWKS is the JWK Set (RFC 8037) of one Ed25519 public key, in the form of
// /v1/keys/receipts.
func JWKS(pub ed25519.PublicKey, kid string) []byte {
	b, _ := json.MarshalIndent(map[string]any{"keys": []map[string]string{{
		"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid, "x": b64.EncodeToString(pub),
	}}}, "", "  ")
	return b
}

func marshal(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic("evidence: " + err.Error()) // plain values only
	}
	return append(b, '\n')
}

// inForce returns the manifest of the last policy version in force before to.
func inForce(ctx context.Context, r Records, to time.Time) (*manifest.Manifest, error) {
	pvs, err := r.PolicyVersions(ctx)
	if err != nil {
		return nil, err
	}
	var last *store.PolicyVersion
	for i := range pvs {
		if pvs[i].EffectiveAt.Before(to) {
			last = &pvs[i]
		}
	}
	if last == nil {
		return nil, nil
	}
	m, err := manifest.Parse("policy version "+last.Version, []byte(last.Manifest))
	if err != nil {
		return nil, fmt.Errorf("policy version %s, in force at the end of the period, does not load (give the manifest to describe with --manifest): %w", last.Version, err)
	}
	return m, nil
}

// versionInfo is one policy version as versions.json lists it.
type versionInfo struct {
	Version     string    `json:"version"`
	SHA256      string    `json:"sha256"`
	PublishedAt time.Time `json:"published_at"`
	EffectiveAt time.Time `json:"effective_at"`
	Material    bool      `json:"material"`
	Reconsent   []string  `json:"reconsent"`
	Accept      []string  `json:"accept"`
	// InPeriod is false for the version already in force when the period began.
	InPeriod bool   `json:"in_period"`
	Files    string `json:"files"`
}

// policies: every version in force at some time in the period, its
// manifest as published and its diff against the version before.
func policies(ctx context.Context, o Options) (map[string][]byte, error) {
	if o.Records == nil {
		return nil, nil
	}
	pvs, err := o.Records.PolicyVersions(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	list := []versionInfo{}
	for i, pv := range pvs {
		// In force during the period ([its effective instant, the next
		// one's)), or published in it.
		inForce := pv.EffectiveAt.Before(o.To) && (i+1 == len(pvs) || pvs[i+1].EffectiveAt.After(o.From))
		published := !pv.PublishedAt.Before(o.From) && pv.PublishedAt.Before(o.To)
		if !inForce && !published {
			continue
		}
		in := !pv.PublishedAt.Before(o.From)
		dir := "v" + safeSegment(pv.Version)
		list = append(list, versionInfo{Version: pv.Version, SHA256: pv.SHA256, PublishedAt: pv.PublishedAt.UTC(), EffectiveAt: pv.EffectiveAt.UTC(),
			Material: pv.Material, Reconsent: nonNil(pv.Reconsent), Accept: nonNil(pv.Accept), InPeriod: in, Files: dir})
		out[dir+"/custos.yaml"] = []byte(pv.Manifest)
		if in && pv.Diff != "" {
			out[dir+"/diff.json"] = []byte(pv.Diff)
		}
	}
	out["versions.json"] = marshal(list)
	return out, nil
}

// safeSegment makes a version label one path segment.
func safeSegment(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, strings.ReplaceAll(s, "..", "__"))
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// inventory: the record of processing activities of the manifest in force.
func inventory(ctx context.Context, o Options) (map[string][]byte, error) {
	if o.Manifest == nil {
		return nil, nil
	}
	out := map[string][]byte{}
	for _, f := range []struct{ format, ext string }{{"json", "json"}, {"markdown", "md"}} {
		for _, lang := range []string{"zh-CN", "en"} {
			inv, err := policy.BuildInventory(o.Manifest, lang)
			if err != nil {
				return nil, err
			}
			var b bytes.Buffer
			if err := policy.WriteInventory(&b, inv, f.format); err != nil {
				return nil, err
			}
			out["inventory."+lang+"."+f.ext] = b.Bytes()
		}
	}
	return out, nil
}

// assessments: the impact assessments, what triggers them, where each
// stands at the end of the period, and what is missing.
func assessments(ctx context.Context, o Options) (map[string][]byte, error) {
	m := o.Manifest
	if m == nil {
		return nil, nil
	}
	at := o.To.Add(-time.Nanosecond)
	if o.Now.Before(at) {
		at = o.Now
	}
	var problems []string
	for _, p := range pia.Check(m, at) {
		problems = append(problems, fmt.Sprintf("%d:%d: %s", p.Pos.Line, p.Pos.Col, p.Message))
	}
	as := m.Assessments
	if as == nil {
		as = []manifest.Assessment{}
	}
	ts := pia.Triggers(m)
	if ts == nil {
		ts = []pia.Trigger{}
	}
	st := pia.Statuses(m, at)
	if st == nil {
		st = []pia.Status{}
	}
	return map[string][]byte{
		"assessments.json": marshal(as),
		"triggers.json":    marshal(ts),
		"status.json":      marshal(st),
		"findings.json":    marshal(nonNil(problems)),
	}, nil
}

// consents: the consent decisions in force per purpose through the period.
func consents(ctx context.Context, o Options) (map[string][]byte, error) {
	if o.Records == nil {
		return nil, nil
	}
	bucket := 24 * time.Hour
	for _, b := range []time.Duration{24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour, 365 * 24 * time.Hour} {
		bucket = b
		if n := o.To.Sub(o.From) / b; n < store.MaxConsentBuckets {
			break
		}
	}
	pts, err := o.Records.ConsentSeries(ctx, o.From, o.To, bucket)
	if err != nil {
		return nil, err
	}
	type point struct {
		At        time.Time `json:"at"`
		Purpose   string    `json:"purpose"`
		Granted   int64     `json:"granted"`
		Withdrawn int64     `json:"withdrawn"`
	}
	list := make([]point, 0, len(pts))
	for _, p := range pts {
		list = append(list, point{p.At.UTC(), p.Purpose, p.Granted, p.Withdrawn})
	}
	return map[string][]byte{"series.json": marshal(map[string]any{"bucket": bucket.String(), "points": list})}, nil
}

// KindStats is the deadline performance of one kind of request received
// in the period.
type KindStats struct {
	Kind     string `json:"kind"`
	Received int64  `json:"received"`
	// Answered (completed or refused) by their due date, or after it.
	OnTime int64 `json:"on_time"`
	Late   int64 `json:"late"`
	// Ended otherwise: withdrawn, cancelled, forwarded.
	Ended int64 `json:"ended_otherwise"`
	// Still open at the end of the period (or now), past their due date or not.
	OpenOverdue int64 `json:"open_overdue"`
	OpenInTime  int64 `json:"open_in_time"`
}

// maxRequests bounds the requests one archive counts.
const maxRequests = 1_000_000

// requests: per kind of request received in the period, how many were
// answered on time, late, or are open past their due date.
func requests(ctx context.Context, o Options) (map[string][]byte, error) {
	if o.Records == nil {
		return nil, nil
	}
	rs, err := o.Records.Requests(ctx, store.RequestFilter{Since: o.From, Limit: maxRequests})
	if err != nil {
		return nil, err
	}
	asOf := o.To
	if o.Now.Before(asOf) {
		asOf = o.Now
	}
	today := asOf.In(calendar.China).Format(time.DateOnly)
	by := map[string]*KindStats{}
	byState := map[string]int64{}
	for _, r := range rs {
		if r.ReceivedAt.Before(o.From) || !r.ReceivedAt.Before(o.To) {
			continue
		}
		k := by[r.Kind]
		if k == nil {
			k = &KindStats{Kind: r.Kind}
			by[r.Kind] = k
		}
		k.Received++
		state := r.State
		closedAt := r.UpdatedAt
		open := slices.Contains(dsr.OpenStates, state)
		if !open && !closedAt.Before(asOf) {
			open = true // closed after the period: open at its end
		}
		byState[state]++
		switch {
		case open && r.DueDate != "" && r.DueDate < today:
			k.OpenOverdue++
		case open:
			k.OpenInTime++
		case state == dsr.StateCompleted || state == dsr.StateRefused:
			if closedAt.In(calendar.China).Format(time.DateOnly) <= r.DueDate {
				k.OnTime++
			} else {
				k.Late++
			}
		default:
			k.Ended++
		}
	}
	list := []KindStats{}
	for _, k := range by {
		list = append(list, *k)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Kind < list[j].Kind })
	return map[string][]byte{"deadlines.json": marshal(map[string]any{"as_of": today, "kinds": list, "states": byState})}, nil
}

// auditPart: the verification of the audit trail and the consent ledger.
func auditPart(ctx context.Context, o Options) (map[string][]byte, error) {
	if o.Records == nil {
		return nil, nil
	}
	rep, err := o.Records.VerifyAudit(ctx, o.Anchors, nil)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{"verify.json": marshal(rep)}, nil
}
