package evidence_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/evidence"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/store/storetest"
)

var _ evidence.Records = (*store.Store)(nil)

var (
	from = time.Date(2026, 1, 1, 0, 0, 0, 0, calendar.China)
	to   = time.Date(2027, 1, 1, 0, 0, 0, 0, calendar.China)
	now  = time.Date(2026, 12, 7, 12, 0, 0, 0, calendar.China)
)

// fakeRecords is an organisation's store: two policy versions, requests in
// every deadline outcome, a consent series and a verified audit trail.
type fakeRecords struct{ t *testing.T }

func (f fakeRecords) PolicyVersions(ctx context.Context) ([]store.PolicyVersion, error) {
	read := func(name string) string {
		b, err := os.ReadFile("../../examples/starter/" + name)
		if err != nil {
			f.t.Fatal(err)
		}
		return string(b)
	}
	return []store.PolicyVersion{
		{Seq: 1, Version: "3.0", SHA256: "aa", Manifest: read("custos.yaml"), PublishedAt: from.AddDate(-1, 0, 0), EffectiveAt: from.AddDate(-1, 0, 0)},
		{Seq: 2, Version: "3.1", SHA256: "bb", Manifest: read("custos-v2.yaml"), PublishedAt: from.AddDate(0, 3, 0), EffectiveAt: from.AddDate(0, 3, 7),
			Material: true, Reconsent: []string{"analytics"}, Diff: `{"changes":[{"kind":"processing"}]}`},
	}, nil
}

func (fakeRecords) Requests(ctx context.Context, f store.RequestFilter) ([]store.Request, error) {
	day := func(m, d int) time.Time { return time.Date(2026, time.Month(m), d, 10, 0, 0, 0, calendar.China) }
	return []store.Request{
		{ID: "r1", Kind: "access", State: "completed", ReceivedAt: day(2, 1), DueDate: "2026-02-20", UpdatedAt: day(2, 10)},
		{ID: "r2", Kind: "access", State: "completed", ReceivedAt: day(3, 1), DueDate: "2026-03-20", UpdatedAt: day(3, 25)},
		{ID: "r3", Kind: "deletion", State: "in_progress", ReceivedAt: day(10, 1), DueDate: "2026-10-22"},
		{ID: "r4", Kind: "deletion", State: "verified", ReceivedAt: day(12, 1), DueDate: "2026-12-22"},
		{ID: "r5", Kind: "deletion", State: "withdrawn", ReceivedAt: day(5, 1), DueDate: "2026-05-22", UpdatedAt: day(5, 2)},
		{ID: "r0", Kind: "access", State: "completed", ReceivedAt: from.AddDate(0, 0, -3), DueDate: "2026-01-10", UpdatedAt: day(1, 5)},
	}, nil
}

func (fakeRecords) ConsentSeries(ctx context.Context, from, to time.Time, bucket time.Duration) ([]store.ConsentPoint, error) {
	if n := to.Sub(from) / bucket; n > store.MaxConsentBuckets {
		return nil, errors.New("too many buckets")
	}
	return []store.ConsentPoint{{At: to, Purpose: "analytics", Granted: 12, Withdrawn: 3}}, nil
}

func (fakeRecords) VerifyAudit(ctx context.Context, anchors *audit.Anchors, progress func(int64)) (audit.Report, error) {
	r := audit.Report{Entries: 42, HeadSeq: 42, HeadHash: "abc"}
	r.Finish()
	return r, nil
}

func key(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

func build(t *testing.T, priv ed25519.PrivateKey) ([]byte, evidence.Manifest) {
	t.Helper()
	m, err := manifest.Load("../../examples/starter/custos-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	man, err := evidence.Build(context.Background(), &buf, evidence.Options{
		Org: "acme", From: from, To: to, Now: now, Manifest: m, Records: fakeRecords{t},
		Key: priv, KeyID: "kid-test",
		Sources: map[string]evidence.Source{
			"incidents": func(ctx context.Context, f, t time.Time) (map[string][]byte, error) {
				return map[string][]byte{"incidents.json": []byte(`[{"id":"inc_1","from":"` + f.Format(time.DateOnly) + `"}]`), "notes/README.md": []byte("none reported\n")}, nil
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), man
}

// TestRoundTrip: an archive verifies offline, with the key set, with a
// PEM public key, and with the key it carries; it holds every part.
func TestRoundTrip(t *testing.T) {
	priv := key(t)
	arch, man := build(t, priv)
	pub := priv.Public().(ed25519.PublicKey)
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	for _, tt := range []struct {
		name     string
		keys     []byte
		fromArch bool
	}{
		{"jwks", evidence.JWKS(pub, "kid-test"), false},
		{"pem", pemKey, false},
		{"carried key", nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := evidence.Verify(bytes.NewReader(arch), tt.keys)
			if err != nil {
				t.Fatal(err)
			}
			if res.KeyFromArchive != tt.fromArch {
				t.Errorf("KeyFromArchive = %v, want %v", res.KeyFromArchive, tt.fromArch)
			}
			if res.Manifest.Org != "acme" || len(res.Manifest.Files) != len(man.Files) {
				t.Errorf("manifest %+v, want that of the build", res.Manifest)
			}
		})
	}
	res, _ := evidence.Verify(bytes.NewReader(arch), nil)
	wantParts := []string{"policies", "inventory", "assessments", "consents", "requests", "audit", "incidents"}
	if !slices.Equal(res.Manifest.Parts, wantParts) {
		t.Errorf("parts %v, want %v", res.Manifest.Parts, wantParts)
	}
	for _, p := range []string{
		"policies/versions.json", "policies/v3.0/custos.yaml", "policies/v3.1/custos.yaml", "policies/v3.1/diff.json",
		"inventory/inventory.en.json", "inventory/inventory.zh-CN.md",
		"assessments/assessments.json", "assessments/triggers.json", "assessments/status.json", "assessments/findings.json",
		"consents/series.json", "requests/deadlines.json", "audit/verify.json",
		"incidents/incidents.json", "incidents/notes/README.md",
	} {
		if _, ok := res.Files[p]; !ok {
			t.Errorf("archive lacks %s", p)
		}
	}
	if got := string(res.Files["incidents/incidents.json"]); !strings.Contains(got, `"from":"2026-01-01"`) {
		t.Errorf("the source was not given the period: %s", got)
	}
	var dl struct {
		Kinds []evidence.KindStats `json:"kinds"`
	}
	if err := json.Unmarshal(res.Files["requests/deadlines.json"], &dl); err != nil {
		t.Fatal(err)
	}
	want := []evidence.KindStats{
		{Kind: "access", Received: 2, OnTime: 1, Late: 1},
		{Kind: "deletion", Received: 3, Ended: 1, OpenOverdue: 1, OpenInTime: 1},
	}
	if !slices.Equal(dl.Kinds, want) {
		t.Errorf("deadline performance %+v, want %+v", dl.Kinds, want)
	}
	var rep audit.Report
	if err := json.Unmarshal(res.Files["audit/verify.json"], &rep); err != nil || !rep.OK || rep.Entries != 42 {
		t.Errorf("audit verification %+v (%v), want the report", rep, err)
	}
	if !strings.Contains(string(res.Files["assessments/status.json"]), `"pia-real-name"`) {
		t.Error("assessments/status.json does not list the manifest's assessments")
	}
}

type file struct {
	name string
	data []byte
}

func unpack(t *testing.T, arch []byte) []file {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(arch))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var out []file
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out = append(out, file{h.Name, b})
	}
}

func pack(t *testing.T, files []file) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(gz)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(f.data)
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// TestTamper: changing any byte of any file, the manifest or its signature,
// adding, removing or renaming a file, or damaging the archive itself
// fails verification, even against the key the archive carries.
func TestTamper(t *testing.T) {
	priv := key(t)
	arch, _ := build(t, priv)
	keys := evidence.JWKS(priv.Public().(ed25519.PublicKey), "kid-test")
	files := unpack(t, arch)
	if again := pack(t, files); func() error { _, err := evidence.Verify(bytes.NewReader(again), keys); return err }() != nil {
		t.Fatal("repacked unchanged archive does not verify")
	}
	for i, f := range files {
		positions := []int{0, len(f.data) / 3, len(f.data) / 2, len(f.data) - 1}
		for step := 1; step < len(f.data); step += max(1, len(f.data)/8) {
			positions = append(positions, step)
		}
		for _, pos := range positions {
			if pos < 0 || pos >= len(f.data) {
				continue
			}
			changed := slices.Clone(files)
			data := slices.Clone(f.data)
			data[pos] ^= 0x01
			changed[i] = file{f.name, data}
			for _, k := range [][]byte{keys, nil} {
				if _, err := evidence.Verify(bytes.NewReader(pack(t, changed)), k); err == nil {
					t.Fatalf("%s with byte %d changed verifies (key given: %v)", f.name, pos, k != nil)
				}
			}
		}
	}
	// Structure: a file removed, added, renamed.
	for name, changed := range map[string][]file{
		"removed": slices.Delete(slices.Clone(files), len(files)-1, len(files)),
		"added":   append(slices.Clone(files), file{"incidents/extra.json", []byte("{}")}),
		"renamed": func() []file {
			c := slices.Clone(files)
			c[len(c)-1].name += ".old"
			return c
		}(),
	} {
		if _, err := evidence.Verify(bytes.NewReader(pack(t, changed)), keys); !errors.Is(err, evidence.ErrContent) {
			t.Errorf("%s file: %v, want ErrContent", name, err)
		}
	}
	// A forger who re-signs with their own key and carries it: the carried
	// key verifies it, the organisation's key set does not.
	forger := key(t)
	forged, _ := build(t, forger)
	if _, err := evidence.Verify(bytes.NewReader(forged), keys); !errors.Is(err, evidence.ErrSignature) {
		t.Errorf("archive signed by another key under the same kid: %v, want ErrSignature", err)
	}
	if _, err := evidence.Verify(bytes.NewReader(forged), evidence.JWKS(priv.Public().(ed25519.PublicKey), "other-kid")); !errors.Is(err, evidence.ErrUnknownKey) {
		t.Errorf("key set without the kid: %v, want ErrUnknownKey", err)
	}
	// Raw bytes of the archive.
	for pos := 0; pos < len(arch); pos += max(1, len(arch)/200) {
		bad := slices.Clone(arch)
		bad[pos] ^= 0x40
		if _, err := evidence.Verify(bytes.NewReader(bad), keys); err == nil {
			// Some bits change no content: gzip header fields the format
			// ignores (the modification time, the OS byte) and the
			// padding after the last deflate block. Whatever size the
			// archive has this run, a flip there is no tampering.
			if pos >= 4 && pos < 10 || bytes.Equal(gunzip(t, bad), gunzip(t, arch)) {
				continue
			}
			t.Errorf("archive with byte %d changed verifies", pos)
		}
	}
	if _, err := evidence.Verify(bytes.NewReader(arch[:len(arch)-5]), keys); err == nil {
		t.Error("truncated archive verifies")
	}
}

// TestBuildRefuses: bad sources and options are refused, not written.
func TestBuildRefuses(t *testing.T) {
	priv := key(t)
	for name, o := range map[string]evidence.Options{
		"no key":          {From: from, To: to},
		"period reversed": {From: to, To: from, Key: priv, KeyID: "k"},
		"source escapes": {From: from, To: to, Key: priv, KeyID: "k", Sources: map[string]evidence.Source{
			"transfers": func(context.Context, time.Time, time.Time) (map[string][]byte, error) {
				return map[string][]byte{"../MANIFEST.json": nil}, nil
			}}},
		"source named as a part": {From: from, To: to, Key: priv, KeyID: "k", Sources: map[string]evidence.Source{
			"audit": func(context.Context, time.Time, time.Time) (map[string][]byte, error) { return nil, nil }}},
		"source fails": {From: from, To: to, Key: priv, KeyID: "k", Sources: map[string]evidence.Source{
			"transfers": func(context.Context, time.Time, time.Time) (map[string][]byte, error) { return nil, errors.New("down") }}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := evidence.Build(context.Background(), io.Discard, o); err == nil {
				t.Error("built")
			}
		})
	}
}

// TestWithStore builds from an organisation's own store, on SQLite and
// PostgreSQL.
func TestWithStore(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, dsn string) { withStore(t, storetest.Open(t, dsn)) })
}

func withStore(t *testing.T, st *store.Store) {
	ctx := context.Background()
	raw, err := os.ReadFile("../../examples/starter/custos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	at := from.AddDate(0, 2, 0)
	if _, _, err := st.PublishPolicy(ctx, store.PolicyVersion{Version: "3.0", SHA256: "aa", Manifest: string(raw), PublishedAt: at, EffectiveAt: at}, 0); err != nil {
		t.Fatal(err)
	}
	priv := key(t)
	var buf bytes.Buffer
	// No manifest given: the version in force at the end of the period.
	if _, err := evidence.Build(ctx, &buf, evidence.Options{Org: st.Org(), From: from, To: to, Now: now, Records: st, Key: priv, KeyID: "k1", Audit: st, Actor: audit.System("test")}); err != nil {
		t.Fatal(err)
	}

	res, err := evidence.Verify(&buf, evidence.JWKS(priv.Public().(ed25519.PublicKey), "k1"))
	if err != nil {
		t.Fatal(err)
	}
	var rep audit.Report
	if err := json.Unmarshal(res.Files["audit/verify.json"], &rep); err != nil || !rep.OK {
		t.Errorf("audit verification: %+v %v", rep, err)
	}
	if string(res.Files["policies/v3.0/custos.yaml"]) != string(raw) {
		t.Error("the published version is not in the archive as published")
	}
	if !strings.Contains(string(res.Files["assessments/status.json"]), `"pia-sg-relay"`) {
		t.Error("the assessments of the version in force are not in the archive")
	}
	es, err := st.AuditEntries(ctx, store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(es); n == 0 || es[n-1].Action != "evidence.create" || !strings.Contains(es[n-1].Detail, `"files":`) {
		t.Errorf("the archive's making is not the last audit entry: %+v", es)
	}
}

// gunzip is the content of a gzip stream.
func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
