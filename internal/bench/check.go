package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/custos-privacy/custos/internal/api"
	"github.com/custos-privacy/custos/internal/apikey"
	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/store"
)

// CheckData is the shared decision workload: the same subjects, consents
// and queries for Custos and for OPA.
type CheckData struct {
	Subjects []string
	Queries  []Query
}

// Query is one decision request: a purpose, and optionally an act done for
// it (provision to a recipient, a cross-border transfer, disclosure).
type Query struct {
	Subject string
	Purpose string
	Act     check.Act
	// Org is the index of the organisation the subject is in (Env.Orgs;
	// 0 is the deployment's own).
	Org int
}

// input fills in the service's request for q.
func (q Query) input(in *consent.CheckInput) {
	in.SubjectID, in.Purposes[0] = q.Subject, q.Purpose
	in.Recipient, in.Transfer, in.Disclosure = "", "", false
	switch q.Act.Kind {
	case check.ActRecipient:
		in.Recipient = q.Act.ID
	case check.ActTransfer:
		in.Transfer = q.Act.ID
	case check.ActDisclosure:
		in.Disclosure = true
	}
}

// checkAsks is what the workload's queries ask, drawn at random: purposes
// on consent (granted, withdrawn, never asked), on a contract and on a legal
// obligation, and acts of the starter policy, some needing a separate
// consent, one not declared for its purpose.
var checkAsks = []Query{
	{Purpose: "analytics"},
	{Purpose: "push_notifications"},
	{Purpose: "marketing"},
	{Purpose: "advertising"},
	{Purpose: "account_registration"},
	{Purpose: "note_sync"},
	{Purpose: "legal_compliance"},
	{Purpose: "advertising", Act: check.Act{Kind: check.ActRecipient, ID: "ad-measurement"}},
	{Purpose: "sync_acceleration", Act: check.Act{Kind: check.ActTransfer, ID: "sg-sync-relay"}},
	{Purpose: "note_publishing", Act: check.Act{Kind: check.ActDisclosure}},
	{Purpose: "push_notifications", Act: check.Act{Kind: check.ActRecipient, ID: "push-provider"}},
	{Purpose: "analytics", Act: check.Act{Kind: check.ActRecipient, ID: "email-provider"}},
}

// Populate registers n subjects of ten kinds (by index mod 10) under the
// starter policy, whose jurisdictions CN and EU take guardian consent under
// 14 and adults where the age is unknown:
//
//	0  adult, general rules: analytics, push and marketing granted, marketing withdrawn
//	1  adult in CN: analytics, push and marketing granted
//	2  adult in the EU: analytics, push, marketing and advertising granted
//	3  adult: all of those, and separate consents to ad measurement, sync
//	   acceleration and its transfer to Singapore, and public disclosure
//	4  adult in CN, restricted
//	5  unknown age (an age band across the threshold) in the EU: analytics granted
//	6  minor whose guardian (the kind 3 before) accepted the policy and granted analytics and push
//	7  minor in CN whose guardian (the kind 1 before) granted analytics only
//	8  minor by age band, no guardian: nothing recorded
//	9  adult by age band: analytics and marketing granted, analytics withdrawn
//
// With organisations (WithOrgs), the n subjects are split evenly among
// them, each registered in its own, and the queries are drawn across all;
// Subjects are then the deployment's own organisation's.
func (e *Env) Populate(ctx context.Context, n, queries int, progress io.Writer) (CheckData, error) {
	var all [][]string // each organisation's subjects
	if len(e.Orgs) == 0 {
		ids, err := e.populate(ctx, e.Service, 0, n)
		if err != nil {
			return CheckData{}, err
		}
		all = [][]string{ids}
	} else {
		// Ten subjects make one group of every kind: each organisation
		// gets whole groups.
		per := max(10, n/len(e.Orgs)/10*10)
		for k, o := range e.Orgs {
			ids, err := e.populate(ctx, o.Service, k*per, per)
			if err != nil {
				return CheckData{}, fmt.Errorf("organisation %s: %w", o.ID, err)
			}
			all = append(all, ids)
			if progress != nil && (k+1)%10 == 0 {
				fmt.Fprintf(progress, "  %d of %d organisations\n", k+1, len(e.Orgs))
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	d := CheckData{Subjects: all[0], Queries: make([]Query, queries)}
	for i := range d.Queries {
		q := checkAsks[r.IntN(len(checkAsks))]
		if len(all) > 1 {
			q.Org = r.IntN(len(all))
		}
		q.Subject = all[q.Org][r.IntN(len(all[q.Org]))]
		d.Queries[i] = q
	}
	return d, nil
}

// populate registers n subjects subject-first … through svc, with their
// ledgers, and returns their ids.
func (e *Env) populate(ctx context.Context, svc *consent.Service, first, n int) ([]string, error) {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("subject-%d", first+i)
		in := consent.SubjectInput{ID: ids[i]}
		switch i % 10 {
		case 1, 4:
			in.Jurisdiction = "CN"
		case 2:
			in.Jurisdiction = "EU"
		case 5:
			in.Jurisdiction, in.AgeBand = "EU", "12_15"
		case 6:
			in.BirthDate = time.Now().AddDate(-10, 0, 0).Format(time.DateOnly)
			in.GuardianID = guardianOf(ids, i, 3)
		case 7:
			in.Jurisdiction, in.BirthDate = "CN", time.Now().AddDate(-12, 0, 0).Format(time.DateOnly)
			in.GuardianID = guardianOf(ids, i, 1)
		case 8:
			in.AgeBand = "under_14"
		case 9:
			in.AgeBand = "14_17"
		}
		if _, err := svc.CreateSubject(ctx, benchActor, in); err != nil {
			return nil, err
		}
	}
	_, _, pol, err := svc.Policy()
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	var firstErr atomic.Value
	sem := make(chan struct{}, 64)
	for i := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			if err := record(ctx, svc, pol.Version, ids, i); err != nil {
				firstErr.CompareAndSwap(nil, fmt.Errorf("populate %s: %w", ids[i], err))
			}
		}(i)
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return nil, err
	}
	return ids, nil
}

// guardianOf is the guardian of minor i: the subject of the given kind
// (index mod 10) in the same ten.
func guardianOf(ids []string, i, kind int) string { return ids[i-i%10+kind] }

// record gives subject i of Populate its ledger, through svc.
func record(ctx context.Context, svc *consent.Service, version string, ids []string, i int) error {
	id := ids[i]
	agree := func(in consent.ConsentInput) error {
		in.Language = "en"
		if in.Method == "" {
			in.Method = "api"
		}
		if len(in.Grant) > 0 {
			in.NoticeHash = NoticeHash
		}
		_, err := svc.Record(ctx, benchActor, id, in)
		return err
	}
	grant := func(keys ...string) error { return agree(consent.ConsentInput{Grant: keys}) }
	switch i % 10 {
	case 0:
		if err := grant("analytics", "push_notifications", "marketing"); err != nil {
			return err
		}
		return agree(consent.ConsentInput{Withdraw: []string{"marketing"}})
	case 1:
		return grant("analytics", "push_notifications", "marketing")
	case 2:
		return grant("analytics", "push_notifications", "marketing", "advertising")
	case 3:
		if err := grant("analytics", "push_notifications", "marketing", "advertising"); err != nil {
			return err
		}
		for _, k := range []string{"recipient:ad-measurement", "sync_acceleration", "transfer:sg-sync-relay", "disclosure"} {
			if err := agree(consent.ConsentInput{Grant: []string{k}, Separate: true}); err != nil {
				return err
			}
		}
		return nil
	case 4:
		if err := grant("analytics", "push_notifications", "marketing"); err != nil {
			return err
		}
		_, err := svc.SetRestricted(ctx, benchActor, id, true, "accuracy contested")
		return err
	case 5:
		return grant("analytics")
	case 6:
		g := guardianOf(ids, i, 3)
		_, err := svc.Accept(ctx, benchActor, id, consent.AcceptanceInput{Version: version, Method: "guardian", Language: "en",
			NoticeHash: NoticeHash, GuardianID: g})
		if err != nil {
			return err
		}
		return agree(consent.ConsentInput{Grant: []string{"analytics", "push_notifications"}, Method: "guardian", GuardianID: g})
	case 7:
		return agree(consent.ConsentInput{Grant: []string{"analytics"}, Method: "guardian", GuardianID: guardianOf(ids, i, 1)})
	case 9:
		if err := grant("analytics", "marketing"); err != nil {
			return err
		}
		return agree(consent.ConsentInput{Withdraw: []string{"analytics"}})
	}
	return nil
}

// InProcess measures check.Policy.DecideAct on the compiled policy and the
// service's Check (cache, audit sampling), in ns per decision.
func InProcess(ctx context.Context, e *Env, d CheckData, dur time.Duration) (decide, service float64, err error) {
	_, _, pol, err := e.Service.Policy()
	if err != nil {
		return 0, 0, err
	}
	// Warm the cache and take the snapshots DecideAct runs on.
	snaps := map[string]*check.Subject{}
	for _, id := range d.Subjects {
		if _, err := e.Service.Check(ctx, benchActor, consent.CheckInput{SubjectID: id, Purposes: []string{"analytics"}}); err != nil {
			return 0, 0, err
		}
		snaps[id] = e.Service.Snapshot(id)
	}
	now := time.Now()
	n, start := 0, time.Now()
	allowed := 0
	own := d.Queries[:0:0] // the deployment's own organisation's queries
	for _, q := range d.Queries {
		if q.Org == 0 {
			own = append(own, q)
		}
	}
	d.Queries = own
	for time.Since(start) < dur {
		for _, q := range d.Queries {
			if pol.DecideAct(snaps[q.Subject], q.Purpose, q.Act, now).Allowed {
				allowed++
			}
		}
		n += len(d.Queries)
	}
	decide = float64(time.Since(start).Nanoseconds()) / float64(n)
	n, start = 0, time.Now()
	in := consent.CheckInput{Purposes: make([]string, 1)}
	for time.Since(start) < dur {
		for _, q := range d.Queries {
			q.input(&in)
			if _, err := e.Service.Check(ctx, benchActor, in); err != nil {
				return 0, 0, err
			}
		}
		n += len(d.Queries)
	}
	service = float64(time.Since(start).Nanoseconds()) / float64(n)
	_ = allowed
	return decide, service, nil
}

// HTTPTarget is an endpoint under load: a POST of Body to URL, or a
// request of Method to the path Path gives, on URL's host.
type HTTPTarget struct {
	Name   string
	URL    string
	Auth   string
	Body   func(q Query) []byte // nil: no body
	Method string               // "": POST
	Path   func(q Query) string // nil: URL's path
	// Orgs, when set, are the host and Authorization header of each
	// organisation a query's Org names.
	Orgs []OrgTarget
}

// OrgTarget is how one organisation of a deployment is reached.
type OrgTarget struct {
	Host string
	Auth string
}

// CustosTarget asks Custos's /v1/check.
func CustosTarget(base, key string) HTTPTarget {
	return HTTPTarget{Name: "custos", URL: base + "/v1/check", Auth: "Bearer " + key, Body: func(q Query) []byte {
		in := consent.CheckInput{Purposes: make([]string, 1)}
		q.input(&in)
		b, _ := json.Marshal(in)
		return b
	}}
}

// OPATarget asks OPA's data API for the same decision.
func OPATarget(base string) HTTPTarget {
	now := time.Now().Unix()
	return HTTPTarget{Name: "opa", URL: base + "/v1/data/custos/decisions", Body: func(q Query) []byte {
		b, _ := json.Marshal(map[string]any{"input": opaQuery(q, now)})
		return b
	}}
}

// conn is one keep-alive connection of the load generator. It writes
// pre-built requests and parses responses with the standard library, with
// none of http.Client's per-request machinery, so the generator takes as
// little as possible of the CPU it shares with the server under test.
type conn struct {
	addr string
	c    net.Conn
	r    *bufio.Reader
}

func (c *conn) do(req []byte) error {
	if c.c == nil {
		nc, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
		if err != nil {
			return err
		}
		c.c, c.r = nc, bufio.NewReaderSize(nc, 16<<10)
	}
	c.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.c.Write(req); err != nil {
		c.reset()
		return err
	}
	status, closeAfter, err := readResponse(c.r)
	if err != nil {
		c.reset()
		return err
	}
	if closeAfter {
		c.reset()
	}
	if status != 200 {
		return fmt.Errorf("status %d", status)
	}
	return nil
}

// readResponse reads one HTTP/1.1 response with a Content-Length body and
// discards the body. It parses only what a load generator needs, so the
// generator spends little of the CPU it shares with the server it measures.
func readResponse(r *bufio.Reader) (status int, closeAfter bool, err error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, fmt.Errorf("malformed status line")
	}
	status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	length := -1
	for {
		line, err = r.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		if len(line) <= 2 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "content-length"):
			n := 0
			for _, c := range value {
				if c < '0' || c > '9' {
					return 0, false, fmt.Errorf("bad content-length")
				}
				n = n*10 + int(c-'0')
			}
			length = n
		case asciiEqualFold(name, "connection"):
			closeAfter = asciiEqualFold(value, "close")
		case asciiEqualFold(name, "transfer-encoding"):
			return 0, false, fmt.Errorf("chunked responses are not supported by the load generator")
		}
	}
	if length < 0 {
		return 0, false, fmt.Errorf("response without content-length")
	}
	_, err = r.Discard(length)
	return status, closeAfter, err
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func (c *conn) reset() {
	if c.c != nil {
		c.c.Close()
	}
	c.c, c.r = nil, nil
}

// requests pre-builds the raw HTTP/1.1 request for every query.
func (t HTTPTarget) requests(d CheckData) (addr string, reqs [][]byte) {
	u, err := url.Parse(t.URL)
	if err != nil {
		panic(err)
	}
	method := t.Method
	if method == "" {
		method = http.MethodPost
	}
	reqs = make([][]byte, len(d.Queries))
	for i, q := range d.Queries {
		path := u.Path
		if t.Path != nil {
			path = t.Path(q)
		}
		host, auth := u.Host, t.Auth
		if len(t.Orgs) > 0 {
			host, auth = t.Orgs[q.Org].Host, t.Orgs[q.Org].Auth
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, host)
		var body []byte
		if t.Body != nil {
			body = t.Body(q)
			fmt.Fprintf(&b, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
		}
		if auth != "" {
			fmt.Fprintf(&b, "Authorization: %s\r\n", auth)
		}
		b.WriteString("\r\n")
		b.Write(body)
		reqs[i] = b.Bytes()
	}
	return u.Host, reqs
}

// Closed runs conns clients back to back for dur: the throughput ceiling.
func Closed(t HTTPTarget, d CheckData, conns int, dur time.Duration) Latencies {
	addr, reqs := t.requests(d)
	var mu sync.Mutex
	var all []time.Duration
	var errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(dur)
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := &conn{addr: addr}
			defer c.reset()
			lat := make([]time.Duration, 0, 1<<14)
			for i := w; time.Now().Before(deadline); i += conns {
				t0 := time.Now()
				if err := c.do(reqs[i%len(reqs)]); err != nil {
					errs.Add(1)
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	return summarise(all, time.Since(start), errs.Load())
}

// OpenResult is an open-loop run measured two ways.
type OpenResult struct {
	// FromDue measures each request from the moment it was due, so a stall
	// counts against every request it delays (and so does the generator's
	// own lateness in waking up).
	FromDue Latencies
	// Service measures each request from when it was sent to its answer.
	Service Latencies
}

// Open sends requests at a fixed rate for dur.
func Open(t HTTPTarget, d CheckData, rate, conns int, dur time.Duration) OpenResult {
	addr, reqs := t.requests(d)
	total := int(float64(rate) * dur.Seconds())
	interval := time.Second / time.Duration(rate)
	var mu sync.Mutex
	var all, allSvc []time.Duration
	var errs atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &conn{addr: addr}
			defer c.reset()
			lat := make([]time.Duration, 0, total/conns+1)
			svc := make([]time.Duration, 0, total/conns+1)
			for {
				i := int(next.Add(1) - 1)
				if i >= total {
					break
				}
				due := start.Add(time.Duration(i) * interval)
				if wait := time.Until(due); wait > 0 {
					time.Sleep(wait)
				}
				sent := time.Now()
				if err := c.do(reqs[i%len(reqs)]); err != nil {
					errs.Add(1)
					continue
				}
				done := time.Now()
				lat = append(lat, done.Sub(due))
				svc = append(svc, done.Sub(sent))
			}
			mu.Lock()
			all = append(all, lat...)
			allSvc = append(allSvc, svc...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	return OpenResult{FromDue: summarise(all, elapsed, errs.Load()), Service: summarise(allSvc, elapsed, errs.Load())}
}

// Serve runs the API for e on a loopback port and returns its base URL,
// an admin key, and a stop function.
func Serve(ctx context.Context, e *Env) (string, string, func(), error) {
	k, err := api.CreateKey(ctx, e.Store, benchActor, "bench", api.RoleService)
	if err != nil {
		return "", "", nil, err
	}
	a := api.New(api.Options{Service: e.Service, Vault: e.Vault, Keys: apikey.New(e.Store, apikey.Options{Changes: e.Service}), Trail: audit.NewTrail(e.Store), Health: e.Store})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", nil, err
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), k.Secret, func() { srv.Close() }, nil
}

// ServeProcess runs exe (the custos binary) as `custos serve` on e's
// database in its own process, as in production, and returns its base URL,
// a service key and a stop function. The policy is already published in
// the database, so no manifest is given; the data keyset is, after
// WithVault.
func ServeProcess(ctx context.Context, e *Env, exe string, log io.Writer) (string, string, *os.Process, func(), error) {
	k, err := api.CreateKey(ctx, e.Store, benchActor, "bench", api.RoleService)
	if err != nil {
		return "", "", nil, nil, err
	}
	cmd := ServerCommand(exe, "serve", "--addr", "127.0.0.1:0", "--log-level", "warn")
	identityKey, secretsDir := "CUSTOS_IDENTITY_KEY="+base64.StdEncoding.EncodeToString(e.IdentityKey), "CUSTOS_SECRETS_DIR="
	if len(e.Orgs) > 0 {
		// Each organisation's key is in its place under the secrets directory.
		dir, err := e.secretsDir()
		if err != nil {
			return "", "", nil, nil, err
		}
		identityKey, secretsDir = "CUSTOS_IDENTITY_KEY=", "CUSTOS_SECRETS_DIR="+dir
	}
	cmd.Env = append(os.Environ(),
		"CUSTOS_DB="+e.DSN, identityKey, secretsDir,
		"CUSTOS_CHECK_SAMPLE=0", "CUSTOS_MANIFEST=", "CUSTOS_DEMO=", "CUSTOS_DATA_KEYSET=", "CUSTOS_RECEIPT_KEY=",
		"CUSTOS_DATA_KEYSET_FILE=", "CUSTOS_RECEIPT_KEY_FILE=", "CUSTOS_IDENTITY_KEY_FILE=", "CUSTOS_DB_FILE=")
	if len(e.DataKeyset) > 0 {
		// The vault: the key store goes beside the database, the server's
		// default, unless the environment names one.
		cmd.Env = append(cmd.Env, "CUSTOS_DATA_KEYSET="+string(e.DataKeyset))
		if e.Keystore != "" {
			cmd.Env = append(cmd.Env, "CUSTOS_KEYSTORE="+e.Keystore)
		}
	}
	cmd.Stderr = log
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", "", nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", "", nil, nil, err
	}
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
		}
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "custos listening on "); ok {
				addr <- u
			}
		}
		close(addr)
	}()
	select {
	case u, ok := <-addr:
		if !ok {
			stop()
			return "", "", nil, nil, fmt.Errorf("custos serve exited before listening")
		}
		return u, k.Secret, cmd.Process, stop, nil
	case <-time.After(30 * time.Second):
		stop()
		return "", "", nil, nil, fmt.Errorf("custos serve did not listen within 30s")
	}
}

// ServeTarget runs exe as e's server (ServeProcess) and returns how to
// ask it: with organisations, each on its own host with its own key.
func (e *Env) ServeTarget(ctx context.Context, exe string, log io.Writer) (HTTPTarget, *os.Process, func(), error) {
	base, key, proc, stop, err := ServeProcess(ctx, e, exe, log)
	if err != nil {
		return HTTPTarget{}, nil, nil, err
	}
	t := CustosTarget(base, key)
	if len(e.Orgs) > 0 {
		if t.Orgs, err = e.OrgTargets(ctx, base); err != nil {
			stop()
			return HTTPTarget{}, nil, nil, err
		}
	}
	return t, proc, stop, nil
}

// OrgTargets gives each organisation of e a service key and returns how
// each is reached on the server at base.
func (e *Env) OrgTargets(ctx context.Context, base string) ([]OrgTarget, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	out := make([]OrgTarget, len(e.Orgs))
	for i, o := range e.Orgs {
		k, err := api.CreateKey(ctx, o.Store, benchActor, "bench", api.RoleService)
		if err != nil {
			return nil, err
		}
		host := o.Host + ":" + u.Port()
		if o.ID == store.DefaultOrg {
			host = u.Host
		}
		out[i] = OrgTarget{Host: host, Auth: "Bearer " + k.Secret}
	}
	return out, nil
}

// CPUTime returns the user and system CPU time a process has used so far,
// from /proc (Linux; zero elsewhere). Clock ticks are taken as 1/100 s, the
// Linux default.
func CPUTime(p *os.Process) time.Duration {
	if p == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; fields after its ')' are fixed.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	var utime, stime int64
	fmt.Sscan(f[11], &utime)
	fmt.Sscan(f[12], &stime)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// ServerCPUs, when set (e.g. "1"), is the CPU list servers under test are
// pinned to with taskset, while the load generator keeps the others: each
// engine then gets the same dedicated CPU, and throughput measures the
// engine rather than its competition with the generator.
var ServerCPUs string

// ServerCommand builds the command for a server under test.
func ServerCommand(name string, args ...string) *exec.Cmd {
	if ServerCPUs != "" {
		return exec.Command("taskset", append([]string{"-c", ServerCPUs, name}, args...)...)
	}
	return exec.Command(name, args...)
}

// PinSelf keeps this process (the load generator) on cpus.
func PinSelf(cpus string) error {
	out, err := exec.Command("taskset", "-a", "-p", "-c", cpus, strconv.Itoa(os.Getpid())).CombinedOutput()
	if err != nil {
		return fmt.Errorf("taskset: %v: %s", err, out)
	}
	return nil
}
