package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/store"
)

// A population is a database filled as an organisation of many people
// would fill it over two years: subjects with identities and ages (some
// minors, registered with a guardian), about ten consent events each,
// rights requests in every state with their histories, and the audit
// entries all of these imply. It is written through the store's writer
// (group commit, both chains numbered and linked in commit order), in
// bulk: a chunk of subjects with everything of theirs is one write.
//
// Subject i is "p" and i in nine digits; everything about it derives
// from the seed and i, so a population can be resumed: chunks already
// written are skipped, the rest are written as they would have been.

// PopulationOptions says what to write.
type PopulationOptions struct {
	Subjects int    // how many subjects
	Seed     uint64 // everything derives from it (default 1)
	Chunk    int    // subjects per write (default 500, a multiple of 10)
	InFlight int    // writes submitted at once (default 4)
	// Now is the end of the two years; zero means time.Now().
	Now time.Time
	// Progress, if not nil, is told after each chunk the subjects done so
	// far (written or found written) and those of them written by this run.
	Progress func(done, written int)
}

// PopulationStats counts what a run wrote (not what it found written).
type PopulationStats struct {
	Subjects, Skipped int // written now, found written
	Events            int64
	Requests          int64
	Entries           int64 // audit entries
}

// populationKeys are what every population's consents are about.
var populationKeys = []string{"analytics", "push_notifications", "marketing", "advertising"}

// populationStates are the states a population's requests are left in, with
// their weights: most are closed, about one in eighty is open.
var populationStates = []struct {
	state  string
	weight int
	open   bool
}{
	{"completed", 700, false}, {"refused", 60, false}, {"cancelled", 40, false}, {"withdrawn", 30, false}, {"forwarded", 10, false},
	{"received", 2, true}, {"awaiting_verification", 2, true}, {"verified", 1, true}, {"in_progress", 3, true},
	{"awaiting_subject", 1, true}, {"awaiting_fee", 1, true}, {"extended", 1, true},
}

var requestKinds = []string{"access", "erasure", "correction", "portability", "restriction", "withdraw_consent", "account_cancellation"}

// SubjectName is the id of population subject i.
func SubjectName(i int) string { return fmt.Sprintf("p%09d", i) }

// Populate writes o.Subjects subjects through st (the organisation's
// store) and returns what it wrote. svc gives the policy in force, which
// the consent events are recorded against; h hashes identities as the
// server would.
func Populate(ctx context.Context, st *store.Store, svc *consent.Service, h *identity.Hasher, o PopulationOptions) (PopulationStats, error) {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Chunk <= 0 {
		o.Chunk = 500
	}
	o.Chunk = max(10, o.Chunk/10*10)
	if o.InFlight <= 0 {
		o.InFlight = 4
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	ver, _, _, err := svc.Policy()
	if err != nil {
		return PopulationStats{}, fmt.Errorf("populate: %w", err)
	}
	g := &generator{seed: o.Seed, now: o.Now, h: h, version: ver.Version, versionSeq: ver.Seq}

	chunks := (o.Subjects + o.Chunk - 1) / o.Chunk
	var (
		stats PopulationStats
		mu    sync.Mutex
		done  int
		wg    sync.WaitGroup
		errs  []error
	)
	sem := make(chan struct{}, o.InFlight)
	for c := 0; c < chunks && ctx.Err() == nil; c++ {
		first, last := c*o.Chunk, min((c+1)*o.Chunk, o.Subjects)
		// A chunk is one write: its first subject tells whether it landed.
		if _, err := st.Subject(ctx, SubjectName(first)); err == nil {
			mu.Lock()
			stats.Skipped += last - first
			done += last - first
			if o.Progress != nil {
				o.Progress(done, stats.Subjects)
			}
			mu.Unlock()
			continue
		} else if !errors.Is(err, store.ErrNotFound) {
			return stats, fmt.Errorf("populate: %w", err)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			b := g.chunk(first, last)
			err := st.WriteBulk(ctx, b)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("populate subjects %d–%d: %w", first, last-1, err))
				return
			}
			stats.Subjects += last - first
			stats.Events += int64(len(b.Events))
			stats.Requests += int64(len(b.Requests))
			stats.Entries += int64(len(b.Audit))
			done += last - first
			if o.Progress != nil {
				o.Progress(done, stats.Subjects)
			}
		}()
		mu.Lock()
		failed := len(errs) > 0
		mu.Unlock()
		if failed {
			break
		}
	}
	wg.Wait()
	if len(errs) > 0 {
		return stats, errs[0]
	}
	return stats, ctx.Err()
}

type generator struct {
	seed       uint64
	now        time.Time
	h          *identity.Hasher
	version    string
	versionSeq int64
}

var populationActor = audit.Actor{ID: "population", Role: "admin", Place: "bench"}

const twoYears = 2 * 365 * 24 * time.Hour

// chunk builds everything of subjects first … last-1.
func (g *generator) chunk(first, last int) store.Bulk {
	n := last - first
	b := store.Bulk{
		Subjects: make([]store.Subject, 0, n),
		Events:   make([]store.ConsentEvent, 0, n*10),
		Audit:    make([]audit.Entry, 0, n*12),
	}
	for i := first; i < last; i++ {
		g.subject(&b, i)
	}
	return b
}

// subject adds subject i with its ledger, requests and entries to b.
// Kinds by i mod 20: 7 is a child under 14 in China whose guardian is
// subject i-7 of the same chunk (an adult, registered just before), 13
// an EU minor known by age band; the rest are adults, mostly in China.
func (g *generator) subject(b *store.Bulk, i int) {
	r := rand.New(rand.NewPCG(g.seed, uint64(i)))
	id := SubjectName(i)
	created := g.now.Add(-time.Duration(r.Int64N(int64(twoYears - 24*time.Hour)))).Add(-24 * time.Hour).Truncate(time.Microsecond)
	sub := store.Subject{ID: id, CreatedAt: created, Jurisdiction: "CN", Language: "zh-CN"}
	switch u := r.IntN(10); {
	case u == 0:
		sub.Jurisdiction, sub.Language = "EU", "en"
	case u == 1:
		sub.Jurisdiction = ""
	}
	guardian := ""
	switch i % 20 {
	case 7:
		guardian = SubjectName(i - 7)
		sub.Jurisdiction, sub.Language, sub.GuardianID = "CN", "zh-CN", guardian
		sub.BirthDate = g.now.AddDate(-8-r.IntN(6), 0, -r.IntN(365)).Format(time.DateOnly)
	case 13:
		sub.Jurisdiction, sub.Language, sub.AgeBand = "EU", "en", "16_17"
	default:
		sub.BirthDate = g.now.AddDate(-18-r.IntN(52), 0, -r.IntN(365)).Format(time.DateOnly)
	}
	email := fmt.Sprintf("user%d.%x@example.com", i, r.Uint32())
	// Eleven digits, the last eight the subject's number: no two alike.
	phone := fmt.Sprintf("1%d%08d", 30+r.IntN(70), i%100_000_000)
	sub.Identities = []store.Identity{
		{Kind: "email", Hash: g.h.Hash("email", email)},
		{Kind: "phone", Hash: g.h.Hash("phone", phone)},
	}
	b.Subjects = append(b.Subjects, sub)
	detail, _ := json.Marshal(map[string]any{"identities": len(sub.Identities)})
	b.Audit = append(b.Audit, audit.NewEntry(created, populationActor, consent.ActionSubjectCreate, "subject:"+id, "", audit.OutcomeOK, string(detail)))

	// About ten events (1 to 19) over the time since registration: an
	// acceptance of the policy first, then grants and withdrawals.
	k := 1 + r.IntN(19)
	span := g.now.Sub(created)
	at := created
	method, lang := "app_dialog", sub.Language
	if lang == "" {
		lang = "zh-CN"
	}
	if guardian != "" {
		method = "guardian"
	}
	granted := map[string]bool{}
	for j := 0; j < k; j++ {
		e := store.ConsentEvent{ID: fmt.Sprintf("ce_p%09d_%02d", i, j), SubjectID: id, VersionSeq: g.versionSeq, Method: method, Language: lang,
			GuardianID: guardian, Evidence: "{}", Actor: populationActor.ID, At: at}
		if j == 0 {
			e.Purpose, e.Action, e.NoticeHash = check.KeyPolicy, store.ActionAccept, NoticeHash
		} else {
			e.Purpose = populationKeys[r.IntN(len(populationKeys))]
			if granted[e.Purpose] && r.IntN(3) == 0 {
				e.Action = store.ActionWithdraw
				granted[e.Purpose] = false
			} else {
				e.Action, e.NoticeHash = store.ActionGrant, NoticeHash
				granted[e.Purpose] = true
			}
		}
		b.Events = append(b.Events, e)
		d, _ := json.Marshal(map[string]any{"event": e.ID, "method": e.Method, "separate": false, "signal": "", "version": g.version})
		b.Audit = append(b.Audit, audit.NewEntry(at, populationActor, auditActionOf(e.Action), "subject:"+id, e.Purpose, audit.OutcomeOK, string(d)))
		at = at.Add(time.Duration(r.Int64N(int64(span)/int64(k) + 1))).Truncate(time.Microsecond)
	}

	// One subject in ten has asked for something.
	if i%10 == 3 {
		g.request(b, r, i, created)
	}
}

func auditActionOf(action string) string {
	switch action {
	case store.ActionAccept:
		return consent.ActionAccept
	case store.ActionWithdraw:
		return consent.ActionConsentWithdraw
	}
	return consent.ActionConsentGrant
}

// request adds a request of subject id, left in a state drawn from
// populationStates, with the history that led there.
func (g *generator) request(b *store.Bulk, r *rand.Rand, i int, created time.Time) {
	id := SubjectName(i)
	total := 0
	for _, s := range populationStates {
		total += s.weight
	}
	// The first requests of every thousand take each state in turn, so
	// that even a small population has every state; the rest are drawn.
	pick, state, open := r.IntN(total), "", false
	if q := i / 10 % 1000; q < len(populationStates) {
		state, open = populationStates[q].state, populationStates[q].open
	}
	for _, s := range populationStates {
		if state != "" {
			break
		}
		if pick < s.weight {
			state, open = s.state, s.open
		}
		pick -= s.weight
	}
	// Open requests arrived in the last 30 days; closed ones any time
	// since registration.
	var received time.Time
	if open {
		received = g.now.Add(-time.Duration(r.Int64N(int64(30 * 24 * time.Hour))))
	} else {
		received = created.Add(time.Duration(r.Int64N(int64(g.now.Sub(created)) + 1)))
	}
	received = received.Truncate(time.Microsecond)
	cn := time.FixedZone("CST", 8*3600)
	req := store.Request{
		ID: fmt.Sprintf("rq_p%09d", i), SubjectID: id, Kind: requestKinds[r.IntN(len(requestKinds))], Jurisdiction: "CN",
		State: state, Channel: "public", Language: "zh-CN", Details: []byte{}, AccessHash: []byte{},
		ReceivedAt: received, ReceivedDate: received.In(cn).Format(time.DateOnly),
		DueDate:         received.In(cn).AddDate(0, 0, 21).Format(time.DateOnly),
		CalendarVersion: "population", Deadline: "15 working_days", Flags: "{}", UpdatedAt: received, Version: 1,
	}
	path := []string{"received"}
	switch state {
	case "received":
	case "awaiting_verification", "forwarded":
		path = append(path, "awaiting_verification", state)
	case "verified":
		path = append(path, "verified")
	case "refused", "cancelled", "withdrawn":
		path = append(path, "verified", state)
	default: // in_progress and what follows it
		path = append(path, "verified", "in_progress")
		if state != "in_progress" {
			path = append(path, state)
		}
	}
	path = compact(path)
	at := received
	for k, to := range path {
		from := ""
		if k > 0 {
			from = path[k-1]
			at = at.Add(time.Duration(1+r.IntN(72)) * time.Hour)
		}
		b.RequestEvents = append(b.RequestEvents, store.RequestEvent{RequestID: req.ID, At: at, Actor: populationActor.ID, From: from, To: to})
		action := "request." + to
		if k == 0 {
			action = "request.receive"
		}
		b.Audit = append(b.Audit, audit.NewEntry(at, populationActor, action, "subject:"+id, "rights_request", audit.OutcomeOK, map[string]any{"request": req.ID}))
	}
	req.UpdatedAt, req.Version = at, int64(len(path))
	b.Requests = append(b.Requests, req)
}

// compact drops repeated states in a row.
func compact(path []string) []string {
	out := path[:1]
	for _, s := range path[1:] {
		if s != out[len(out)-1] {
			out = append(out, s)
		}
	}
	return out
}
