package scanbench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/detect"
)

func generate(t testing.TB, size int64, seed uint64) (corpus, truth []byte, st CorpusStats) {
	t.Helper()
	var c, tr bytes.Buffer
	st, err := Generate(&c, &tr, size, seed)
	if err != nil {
		t.Fatal(err)
	}
	return c.Bytes(), tr.Bytes(), st
}

// TestGenerateDeterministic: the same seed gives the same bytes and truth,
// another seed other bytes, and every planted value is where the truth says,
// of a shape its type allows.
func TestGenerateDeterministic(t *testing.T) {
	c1, t1, st := generate(t, 1<<20, 7)
	c2, t2, _ := generate(t, 1<<20, 7)
	if !bytes.Equal(c1, c2) || !bytes.Equal(t1, t2) {
		t.Fatal("the same seed gave different corpora")
	}
	c3, _, _ := generate(t, 1<<20, 8)
	if bytes.Equal(c1, c3) {
		t.Fatal("another seed gave the same corpus")
	}
	if int64(len(c1)) != st.Bytes || st.Bytes < 1<<20 || st.Bytes > 1<<20+4096 {
		t.Fatalf("wrote %d bytes, stats say %d; want just over %d", len(c1), st.Bytes, 1<<20)
	}
	share := float64(st.LinesPI) / float64(st.Lines)
	if share < 0.02 || share > 0.08 {
		t.Errorf("%.3f of lines carry personal information, want a few per cent", share)
	}
	checks := map[string]func(string) bool{
		TypePhone: func(v string) bool {
			d := strings.NewReplacer("+86 ", "", "-", "").Replace(v)
			return len(d) == 11 && d[0] == '1' && allDigits(d)
		},
		TypeIDCard: func(v string) bool { return len(v) == 18 && idCheck(v[:17]) == v[17] },
		TypeCard:   func(v string) bool { return allDigits(v) && withLuhn(v[:len(v)-1]) == v },
		TypeEmail:  func(v string) bool { return strings.Count(v, "@") == 1 },
		TypeIP:     func(v string) bool { return strings.Count(v, ".") == 3 && allDigits(strings.ReplaceAll(v, ".", "")) },
		TypeName:   func(v string) bool { return v != "" && !strings.ContainsAny(v, "0123456789,") },
		TypeAddress: func(v string) bool {
			return strings.Contains(v, "号") || strings.Contains(v, ", ")
		},
	}
	seen := map[string]int{}
	var last int64 = -1
	sc := bufio.NewScanner(bytes.NewReader(t1))
	for sc.Scan() {
		p, err := ParsePlanted(sc.Text())
		if err != nil {
			t.Fatal(err)
		}
		if p.Off <= last || p.Off+int64(p.Len) > int64(len(c1)) {
			t.Fatalf("planted value at %d out of order or outside the corpus", p.Off)
		}
		last = p.Off
		v := string(c1[p.Off : p.Off+int64(p.Len)])
		check, ok := checks[p.Type]
		if !ok {
			t.Fatalf("planted type %q unknown", p.Type)
		}
		if !check(v) {
			t.Errorf("planted %s at %d does not have the shape of one", p.Type, p.Off)
		}
		if strings.Contains(v, "\n") {
			t.Errorf("planted %s at %d spans a line break", p.Type, p.Off)
		}
		seen[p.Type]++
	}
	for typ := range checks {
		if seen[typ] == 0 || seen[typ] != st.Planted[typ] {
			t.Errorf("%s: %d in the truth, %d in the stats", typ, seen[typ], st.Planted[typ])
		}
	}
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// TestCorpusScorer scores hand-made findings against hand-made truth.
func TestCorpusScorer(t *testing.T) {
	truth := "10 11 phone\n40 18 id_card\n100 5 name\n200 10 email\n"
	cases := []struct {
		name     string
		findings []Finding
		recall   float64
		prec     float64
		other    int
		neutral  int
	}{
		{"none", nil, 0, -1, 0, 0},
		{"all exact", []Finding{{10, 21, TypePhone}, {40, 58, TypeIDCard}, {100, 105, TypeName}, {200, 210, TypeEmail}}, 1, 1, 0, 0},
		{"overlap counts", []Finding{{5, 12, TypePhone}, {57, 70, TypeIDCard}}, 0.5, 1, 0, 0},
		{"wrong type is false", []Finding{{10, 21, TypeCard}, {40, 58, TypeIDCard}}, 0.25, 0.5, 0, 0},
		{"nothing planted is false", []Finding{{0, 5, TypePhone}, {300, 310, TypeEmail}}, 0, 0, 0, 0},
		{"uncounted types", []Finding{{10, 21, ""}, {70, 80, "device.imei"}}, 0, -1, 1, 1},
		{"overlapping findings", []Finding{{38, 60, TypeCard}, {40, 58, TypeIDCard}, {41, 45, TypeIDCard}}, 0.25, 2.0 / 3, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewCorpusScorer(strings.NewReader(truth))
			for _, f := range c.findings {
				s.Add(f)
			}
			a, err := s.Finish()
			if err != nil {
				t.Fatal(err)
			}
			if a.All.Labels != 4 {
				t.Errorf("labels %d, want 4", a.All.Labels)
			}
			if r := a.All.Recall(); r != c.recall {
				t.Errorf("recall %.3f, want %.3f", r, c.recall)
			}
			if p := a.All.Precision(); p != c.prec {
				t.Errorf("precision %.3f, want %.3f", p, c.prec)
			}
			if a.Other != c.other || a.Neutral != c.neutral {
				t.Errorf("other %d neutral %d, want %d %d", a.Other, a.Neutral, c.other, c.neutral)
			}
		})
	}
}

func TestTruthUpTo(t *testing.T) {
	truth := "10 11 phone\n40 18 id_card\n100 5 name\n"
	for _, c := range []struct {
		n    int64
		want int
	}{{0, 0}, {21, 1}, {57, 1}, {58, 2}, {1000, 3}} {
		s := NewCorpusScorer(TruthUpTo(strings.NewReader(truth), c.n))
		a, err := s.Finish()
		if err != nil {
			t.Fatal(err)
		}
		if a.All.Labels != c.want {
			t.Errorf("up to %d: %d planted, want %d", c.n, a.All.Labels, c.want)
		}
	}
}

// TestReadChunks: chunks are whole lines, at most 16 KiB unless one line is
// longer, in order, and cover the input exactly.
func TestReadChunks(t *testing.T) {
	long := strings.Repeat("x", 40<<10) + "\n"
	inputs := map[string]string{
		"empty":      "",
		"no newline": "abc",
		"short":      "a\nb\nc\n",
		"long line":  "a\n" + long + "b\n",
		"many":       strings.Repeat("0123456789 line\n", 300000),
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			var got strings.Builder
			err := readChunks(strings.NewReader(in), func(base int64, chunk []byte) {
				if base != int64(got.Len()) {
					t.Fatalf("chunk at %d, want %d", base, got.Len())
				}
				if len(chunk) > chunkLimit && strings.Count(string(chunk), "\n") > 1 {
					t.Fatalf("chunk of %d bytes holds several lines", len(chunk))
				}
				if int(base)+len(chunk) < len(in) && chunk[len(chunk)-1] != '\n' {
					t.Fatalf("chunk at %d ends inside a line", base)
				}
				got.Write(chunk)
			})
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != in {
				t.Fatal("chunks do not cover the input")
			}
		})
	}
}

// TestParseDriverOutput reads what the peers' drivers print and write.
func TestParseDriverOutput(t *testing.T) {
	s, err := ParseSummary([]byte("some warning\n{\"peer\":\"redact-pii\",\"version\":\"3.4.0\",\"bytes\":135,\"seconds\":0.04,\"maxRSS\":76603392,\"findings\":7,\"complete\":true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Peer != "redact-pii" || s.Bytes != 135 || s.Findings != 7 || !s.Complete || s.MaxRSS != 76603392 {
		t.Errorf("summary %+v", s)
	}
	for _, bad := range []string{"", "not json", `{"peer":"x","bytes":-1}`, `{"bytes":1}`, `{"peer":"x","extra":1}`} {
		if _, err := ParseSummary([]byte(bad)); err == nil {
			t.Errorf("ParseSummary(%q) took it", bad)
		}
	}

	st, en, typ, err := ParseCorpusFinding("29 40 PHONE_NUMBER")
	if err != nil || st != 29 || en != 40 || typ != "PHONE_NUMBER" {
		t.Errorf("ParseCorpusFinding = %d %d %q %v", st, en, typ, err)
	}
	for _, bad := range []string{"", "1 2", "a 2 X", "5 4 X", "-1 2 X", "1 2 X Y"} {
		if _, _, _, err := ParseCorpusFinding(bad); err == nil {
			t.Errorf("ParseCorpusFinding(%q) took it", bad)
		}
	}

	fs, err := ParseEvalFindings(strings.NewReader("0 7 16 EMAIL_ADDRESS\n0 24 36 PHONE_NUMBER\n\n2 0 3 ZIPCODE\n"), 3)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]Finding{{{7, 16, TypeEmail}, {24, 36, TypePhone}}, nil, {{0, 3, ""}}}
	for i := range want {
		if len(fs[i]) != len(want[i]) {
			t.Fatalf("sample %d: %v, want %v", i, fs[i], want[i])
		}
		for k := range want[i] {
			if fs[i][k] != want[i][k] {
				t.Errorf("sample %d finding %d: %v, want %v", i, k, fs[i][k], want[i][k])
			}
		}
	}
	for _, bad := range []string{"3 0 1 X", "0 1 X", "x 0 1 X", "0 5 1 X"} {
		if _, err := ParseEvalFindings(strings.NewReader(bad), 3); err == nil {
			t.Errorf("ParseEvalFindings(%q) took it", bad)
		}
	}
}

func TestPeerType(t *testing.T) {
	for in, want := range map[string]string{
		"EMAIL": TypeEmail, "EMAIL_ADDRESS": TypeEmail, "PHONE_UK_MOBILE": TypePhone, "PHONE_NUMBER": TypePhone,
		"CREDIT_CARD": TypeCard, "CREDIT_CARD_NUMBER": TypeCard, "IPV4": TypeIP, "IP_ADDRESS": TypeIP,
		"SSN": TypeSSN, "US_SOCIAL_SECURITY_NUMBER": TypeSSN, "NAME": TypeName, "PERSON_NAME": TypeName,
		"STREET_ADDRESS": TypeAddress, "ADDRESS_STREET": TypeAddress, "TEXAS_LICENSE_PLATE": TypePlate,
		"DIGITS": "", "ZIPCODE": "", "INDIAN_AADHAAR": "", "USERNAME": "", "BITCOIN_ADDRESS": "",
	} {
		if got := PeerType(in); got != want {
			t.Errorf("PeerType(%s) = %q, want %q", in, got, want)
		}
	}
}

// TestScoreEval scores findings on labelled samples, neutral kinds included.
func TestScoreEval(t *testing.T) {
	samples := []Sample{
		{Text: "call 13812345678 or mail a@b.cn", Labels: []Label{{5, 16, "zh_phone"}, {25, 31, "email"}}},
		{Text: "10 Main St, Springfield", Labels: []Label{{0, 10, "STREET_ADDRESS"}, {12, 23, "GPE"}}},
	}
	found := [][]Finding{
		{{5, 16, TypePhone}, {20, 24, TypePhone}, {25, 31, "DIGITS"}},
		{{0, 10, TypeAddress}, {12, 23, TypeAddress}, {12, 23, TypeName}},
	}
	got := map[string]TypeScore{}
	for _, s := range ScoreEval(samples, func(i int) []Finding { return found[i] }) {
		got[s.Type] = s
	}
	want := map[string]TypeScore{
		TypePhone:   {Type: TypePhone, Labels: 1, Hit: 1, Findings: 2, TP: 1, FP: 1},
		TypeEmail:   {Type: TypeEmail, Labels: 1},
		TypeAddress: {Type: TypeAddress, Labels: 1, Hit: 1, Findings: 1, TP: 1},
		TypeName:    {Type: TypeName, Findings: 1, FP: 1},
	}
	for typ, w := range want {
		if got[typ] != w {
			t.Errorf("%s: %+v, want %+v", typ, got[typ], w)
		}
	}
	if f := got[TypePhone].F1(); f < 0.66 || f > 0.67 {
		t.Errorf("phone F1 %.3f, want 2/3", f)
	}
	if f := got[TypeEmail].F1(); f != 0 {
		t.Errorf("email F1 %.3f with nothing found, want 0", f)
	}
	b, err := json.Marshal(got[TypePhone])
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"type":"phone","labels":1,"hit":1,"findings":2,"tp":1,"fp":1,"precision":0.5,"recall":1,"f1":0.6666666666666666}`; string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"100MB": 100e6, "1GB": 1e9, "512kb": 512e3, "1.5MB": 1.5e6, "4096": 4096, " 2 MB ": 2e6} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MB", "-1MB", "0", "x", "1TB", "NaNMB", "1e13"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) took it", bad)
		}
	}
}

func FuzzParsers(f *testing.F) {
	for _, s := range []string{"100MB", "29 40 PHONE_NUMBER", "0 7 16 EMAIL", `{"peer":"p","bytes":1}`, "10 11 phone"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := ParseSize(s); err == nil && n <= 0 {
			t.Fatalf("ParseSize(%q) = %d", s, n)
		}
		if st, en, _, err := ParseCorpusFinding(s); err == nil && (st < 0 || en < st) {
			t.Fatalf("ParseCorpusFinding(%q) = %d %d", s, st, en)
		}
		if p, err := ParsePlanted(s); err == nil && (p.Off < 0 || p.Len <= 0) {
			t.Fatalf("ParsePlanted(%q) = %+v", s, p)
		}
		_, _ = ParseSummary([]byte(s))
		if fs, err := ParseEvalFindings(strings.NewReader(s), 4); err == nil {
			for _, ff := range fs {
				for _, x := range ff {
					if x.Start < 0 || x.End < x.Start {
						t.Fatalf("ParseEvalFindings(%q): %+v", s, x)
					}
				}
			}
		}
	})
}

// TestCustosCorpus runs the Custos path end to end on a small corpus.
func TestCustosCorpus(t *testing.T) {
	dir := t.TempDir()
	corpus, truth := filepath.Join(dir, "c.txt"), filepath.Join(dir, "t.txt")
	st, err := generateFiles(corpus, truth, 200_000, 1)
	if err != nil {
		t.Fatal(err)
	}
	r, err := CustosCorpus(corpus, truth)
	if err != nil {
		t.Fatal(err)
	}
	if r.Bytes != st.Bytes || r.Agreement == nil {
		t.Fatalf("read %d of %d bytes", r.Bytes, st.Bytes)
	}
	planted := 0
	for _, n := range st.Planted {
		planted += n
	}
	if r.Agreement.All.Labels != planted {
		t.Errorf("scored %d planted values, generated %d", r.Agreement.All.Labels, planted)
	}
	// Emails have the simplest form; whatever else the detectors do, they
	// find those.
	for _, s := range r.Agreement.Types {
		if s.Type == TypeEmail && s.Hit == 0 {
			t.Errorf("no planted email found: %+v", s)
		}
	}
	p, err := CustosParallel(corpus, 2)
	if err != nil {
		t.Fatal(err)
	}
	if p.Bytes != st.Bytes {
		t.Errorf("parallel run read %d of %d bytes", p.Bytes, st.Bytes)
	}
}

// TestEvalSets loads the shared labelled corpora where present.
func TestEvalSets(t *testing.T) {
	dir := os.Getenv("CUSTOS_PII_EVAL")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "data", "pii-eval")
	}
	sets, err := EvalSets(dir)
	if errors.Is(err, fs.ErrNotExist) && os.Getenv("CUSTOS_PII_EVAL") == "" {
		t.Skipf("labelled corpora not present at %s", dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	labels := 0
	for _, s := range sets {
		for _, sm := range s.Samples {
			labels += len(sm.Labels)
		}
	}
	if len(sets) != 4 || labels < 2000 {
		t.Fatalf("%d sets, %d labels; the corpora look truncated", len(sets), labels)
	}
	e := custosEval(sets)
	for _, s := range e.Pooled {
		if s.Type == TypeIDCard && s.Recall() < 0.9 {
			t.Errorf("resident IDs: recall %.2f on the labelled corpora", s.Recall())
		}
	}
}

// TestPeers installs the npm peers and runs each over a small corpus and
// the labelled corpora. It needs the network or a warm npm cache, so it
// runs only with CUSTOS_BENCH_PEERS=1.
func TestPeers(t *testing.T) {
	if os.Getenv("CUSTOS_BENCH_PEERS") != "1" {
		t.Skip("set CUSTOS_BENCH_PEERS=1 to install and run the npm peers")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm not installed")
	}
	dir := t.TempDir()
	corpus, truth := filepath.Join(dir, "c.txt"), filepath.Join(dir, "t.txt")
	if _, err := generateFiles(corpus, truth, 200_000, 1); err != nil {
		t.Fatal(err)
	}
	npmDir := filepath.Join(dir, "npm")
	if err := os.Mkdir(npmDir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if un := InstallPeers(ctx, npmDir, testWriter{t}); len(un) > 0 {
		t.Fatalf("unavailable: %v", un)
	}
	scripts := filepath.Join("..", "..", "scripts", "scanpeers")
	for _, p := range Peers {
		r, err := PeerCorpus(ctx, scripts, npmDir, p, corpus, truth, dir, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if r.Bytes == 0 || r.Agreement == nil || r.Agreement.All.Labels == 0 || r.PeakRSS == 0 {
			t.Errorf("%s: %+v", p.Name, r)
		}
		for _, s := range r.Agreement.Types {
			if s.Type == TypeEmail && s.Hit == 0 {
				t.Errorf("%s found no planted email", p.Name)
			}
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// BenchmarkCustos generates a small corpus and runs detect.Text over it as
// the bench does: chunks of whole lines.
func BenchmarkCustos(b *testing.B) {
	corpus, _, _ := generate(b, 4<<20, 1)
	var chunks []string
	if err := readChunks(bytes.NewReader(corpus), func(_ int64, c []byte) { chunks = append(chunks, string(c)) }); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(corpus)))
	b.ResetTimer()
	for b.Loop() {
		for _, c := range chunks {
			_ = detect.Text(c)
		}
	}
}

// BenchmarkGenerate measures the corpus generator.
func BenchmarkGenerate(b *testing.B) {
	b.SetBytes(4 << 20)
	for b.Loop() {
		var c, t bytes.Buffer
		if _, err := Generate(&c, &t, 4<<20, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAlignedDriver checks how the drivers read findings back from a
// redacted copy (scripts/scanpeers/driver.mjs, aligned), with node where it
// is installed; no package is needed.
func TestAlignedDriver(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not installed")
	}
	driver, err := filepath.Abs(filepath.Join("..", "..", "scripts", "scanpeers", "driver.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ text, redacted, want string }{
		{"call 555-555-5555 now", "call PHONE_NUMBER now", "5-17 PHONE_NUMBER"},
		{"a@b.cn and 1.2.3.4", "EMAIL_ADDRESS and IP_ADDRESS", "0-6 EMAIL_ADDRESS;11-18 IP_ADDRESS"},
		{"no findings", "no findings", ""},
		{"x 12345 y 12345", "x DIGITS y DIGITS", "2-7 DIGITS;10-15 DIGITS"},
		{"电话 13812345678。", "电话 PHONE_NUMBER。", "3-14 PHONE_NUMBER"},
	}
	for _, c := range cases {
		js := `import { aligned } from ` + strconvQuote("file://"+driver) + `;
const r = aligned(` + strconvQuote(c.text) + `, ` + strconvQuote(c.redacted) + `, ["PHONE_NUMBER","EMAIL_ADDRESS","IP_ADDRESS","DIGITS"]);
console.log(r.map(f => f.start + "-" + f.end + " " + f.type).join(";"));`
		out, err := exec.Command("node", "--input-type=module", "-e", js).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if got := strings.TrimSpace(string(out)); got != c.want {
			t.Errorf("aligned(%q, %q) = %q, want %q", c.text, c.redacted, got, c.want)
		}
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
