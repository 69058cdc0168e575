package retention

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/certificate"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/execute"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/hold"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
)

// ActionSweep is the audit action of one target swept: the rule, the
// datastore and collection, the action and how many rows, never which.
const ActionSweep = "retention.sweep"

// LeaseTTL is how long a run holds the organisation's sweep without
// renewing; it renews after every target and every few batches.
const LeaseTTL = 5 * time.Minute

// Store is what retention keeps in Custos's own database.
type Store interface {
	StartRetentionRun(ctx context.Context, run store.RetentionRun, entries ...audit.Entry) error
	RenewRetentionRun(ctx context.Context, id string, until time.Time, entries ...audit.Entry) error
	FinishRetentionRun(ctx context.Context, id, state string, at time.Time, report string, entries ...audit.Entry) error
	RetentionRuns(ctx context.Context, limit int) ([]store.RetentionRun, error)
	Withdrawals(ctx context.Context, purposes []string, from, to time.Time) ([]store.Withdrawal, error)
	PutCertificate(ctx context.Context, c certificate.Certificate, entries ...audit.Entry) error
}

// Holds lists the legal holds (hold.Service).
type Holds interface {
	// Active lists the holds in force at now.
	Active(ctx context.Context, now time.Time) ([]hold.Hold, error)
	// List lists the holds in force, or all of them.
	List(ctx context.Context, all bool) ([]hold.Hold, error)
}

// Options configure a Service.
type Options struct {
	// Datastores are the organisation's databases, opened, with their annotations.
	Datastores []execute.Store
	// Policy returns the manifest in force.
	Policy func(ctx context.Context) (*manifest.Manifest, error)
	// Holds are the legal holds; nil when none can be placed.
	Holds Holds
	// Seeds find a held person's rows; nil when identities cannot be
	// opened, and then a hold on a person stops the sweep.
	Seeds Seeds
	// Instance names the host running sweeps, for the run's record.
	Instance string
	// Signer signs the runs' certificates (the receipt key); nil issues none.
	Signer *certificate.Signer
	// Org names the organisation in certificates when the deployment holds several.
	Org string
	// HMACKey and Salt key the hmac and hash erase strategies, as for
	// rights erasures (execute.EraseOptions).
	HMACKey, Salt []byte
	// Batch bounds one transaction's rows (0: execute.DefaultSweepBatch).
	Batch  int
	Now    func() time.Time
	Logger *slog.Logger
	// Observe, if not nil, is told of every run's end (a run that did not
	// start has no Run id): the server's metrics, whoever started it.
	Observe func(ctx context.Context, rep Report, err error)
}

// Service plans and runs retention sweeps for one organisation.
type Service struct {
	st  Store
	opt Options
}

// New returns a Service on st.
func New(st Store, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return &Service{st: st, opt: opt}
}

// Line is one target of a plan: what is due under it now.
type Line struct {
	Target
	Cutoff *time.Time `json:"cutoff,omitempty"`
	// Due counts rows past their period and not yet dealt with, held ones included.
	Due int64 `json:"due"`
	// Held counts the rows of Due that holds keep: whole, or by period;
	// for holds on people, every row of theirs in the collection.
	Held int64 `json:"held"`
	// Unreadable counts rows whose clock the engine cannot read (SQLite).
	Unreadable int64      `json:"unreadable,omitempty"`
	Oldest     *time.Time `json:"oldest,omitempty"`
	Holds      []string   `json:"holds,omitempty"`
	// Keeper is what ends an event target's data (ByRequest,
	// ByWithdrawal, NotObserved).
	Keeper string `json:"keeper,omitempty"`
	// People counts, for a target ended by consent withdrawal, the people
	// whose withdrawal the next run sweeps; Held then counts people too.
	People int64 `json:"people,omitempty"`
}

// Plan is what a sweep would do at At.
type Plan struct {
	At    time.Time `json:"at"`
	Lines []Line    `json:"lines"`
}

// Hash is the hex SHA-256 of the plan's JSON: a certificate names the
// plan it carried out by it.
func (p Plan) Hash() string {
	b, _ := json.Marshal(p) // a Plan always marshals
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Plan works out what is due under every target now, without changing anything.
func (s *Service) Plan(ctx context.Context) (Plan, error) {
	now := s.opt.Now()
	p := Plan{At: now.UTC(), Lines: []Line{}}
	m, ts, hs, err := s.targets(ctx, now)
	if err != nil {
		return p, err
	}
	since, err := s.since(ctx)
	if err != nil {
		return p, fmt.Errorf("retention: plan: %w", err)
	}
	keys, err := heldKeys(ctx, s.opt.Datastores, s.opt.Seeds, allSubjects(ts, s.opt.Datastores, hs))
	if err != nil {
		return p, err
	}
	for _, t := range ts {
		l := Line{Target: t, Keeper: t.Keeper()}
		if t.Event == dataset.EventConsentWithdrawn {
			people, held, h, err := s.withdrawn(ctx, m, t, hs, since, now)
			if err != nil {
				return p, err
			}
			l.People, l.Held, l.Holds = int64(len(people)), int64(len(held)), h.ids
		}
		if t.Swept() {
			h := holdsFor(t, s.opt.Datastores, hs)
			sw, st, err := t.sweep(s.opt.Datastores, now, s.opt.Batch)
			if err != nil {
				return p, err
			}
			sw.Excluded = h.periods
			c, err := sw.Count(ctx, st.DB)
			if err != nil {
				return p, fmt.Errorf("retention: plan %s/%s: %w", t.Datastore, t.Collection, err)
			}
			cut := sw.Cutoff.UTC()
			l.Cutoff, l.Due, l.Held, l.Unreadable, l.Oldest, l.Holds = &cut, c.Due, c.Held, c.Unreadable, c.Oldest, h.ids
			switch {
			case h.whole:
				l.Held = c.Due
			case len(h.subjects) > 0:
				l.Held = min(c.Due, l.Held+int64(len(keys[t.Datastore+"\x00"+t.Collection])))
			}
		}
		p.Lines = append(p.Lines, l)
	}
	return p, nil
}

// targets returns the policy in force, its targets and the holds active at now.
func (s *Service) targets(ctx context.Context, now time.Time) (*manifest.Manifest, []Target, []hold.Hold, error) {
	m, err := s.opt.Policy(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("retention: the policy in force: %w", err)
	}
	var hs []hold.Hold
	if s.opt.Holds != nil {
		if hs, err = s.opt.Holds.Active(ctx, now); err != nil {
			return nil, nil, nil, fmt.Errorf("retention: legal holds: %w", err)
		}
	}
	return m, Targets(m, s.opt.Datastores), hs, nil
}

// allSubjects lists the people holds keep in any swept target.
func allSubjects(ts []Target, stores []execute.Store, hs []hold.Hold) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range ts {
		if !t.Swept() {
			continue
		}
		for _, id := range holdsFor(t, stores, hs).subjects {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

// Result is what a run did under one target.
type Result struct {
	Target
	Cutoff   time.Time `json:"cutoff,omitzero"`
	Rows     int64     `json:"rows"`
	Held     int64     `json:"held"`
	Fields   []string  `json:"fields,omitempty"`
	Holds    []string  `json:"holds,omitempty"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Whole is true when a hold kept the whole target: nothing was swept.
	Whole bool `json:"whole,omitempty"`
	// People counts, for a target ended by consent withdrawal, the people
	// whose rows were swept; Held then counts the people holds kept.
	People int64 `json:"people,omitempty"`
}

// Report is a run's record.
type Report struct {
	Run      string    `json:"run"`
	Instance string    `json:"instance"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	PlanHash string    `json:"plan_hash"`
	Results  []Result  `json:"results"`
	// Certificates are the ids of the certificates the run issued, one
	// per rule under which it changed rows.
	Certificates []string `json:"certificates,omitempty"`
	// Error says why the run stopped early; empty when it finished.
	Error string `json:"error,omitempty"`
}

// Progress is told after every batch.
type Progress struct {
	Target  Target
	Due     int64 // rows due under the target when the run reached it
	Rows    int64 // rows changed under the target so far
	Held    int64
	Targets int // targets swept by clock, in all
	Index   int // this target's place among them, from 1
}

// ErrRunning: another run (on this or another instance) holds the
// organisation's sweep.
var ErrRunning = fault.New(fault.Conflict, "retention_running", "another retention run holds this organisation's sweep; try again when it has finished")

// Run sweeps every target by clock now: plans, takes the organisation's
// sweep (ErrRunning when another run holds it), carries out each target
// batch by batch, and records the run. Each target's result is audited as
// soon as it is done, so that a run stopped midway (a crash, a cancelled
// context) leaves on the trail what it did; a run after it carries on
// and changes nothing twice (execute.Sweep).
func (s *Service) Run(ctx context.Context, a audit.Actor, progress func(Progress)) (Report, error) {
	now := s.opt.Now()
	rep := Report{Run: newRunID(), Instance: s.opt.Instance, Started: now.UTC(), Results: []Result{}}
	plan, err := s.Plan(ctx)
	if err != nil {
		return rep, err
	}
	rep.PlanHash = plan.Hash()
	if err := s.start(ctx, rep); err != nil {
		return rep, err
	}
	err = s.sweepAll(ctx, a, plan, &rep, progress)
	return rep, s.finish(ctx, a, &rep, err)
}

// start takes the organisation's sweep for the run rep begins:
// ErrRunning while another run holds it.
func (s *Service) start(ctx context.Context, rep Report) error {
	run := store.RetentionRun{ID: rep.Run, Instance: s.opt.Instance, StartedAt: rep.Started, LeaseUntil: rep.Started.Add(LeaseTTL)}
	if err := s.st.StartRetentionRun(ctx, run); err != nil {
		if errors.Is(err, store.ErrRetentionRunning) {
			s.observe(ctx, Report{}, ErrRunning)
			return ErrRunning
		}
		return fmt.Errorf("retention: start run: %w", err)
	}
	return nil
}

// finish ends a run that err stopped or not: it certifies what was done
// (even when the run stopped early), records the run with its report,
// and tells the observer. The record lands even when ctx was cancelled:
// it says how far the run got.
func (s *Service) finish(ctx context.Context, a audit.Actor, rep *Report, err error) error {
	if cerr := s.certify(context.WithoutCancel(ctx), a, rep); cerr != nil {
		err = errors.Join(err, cerr)
	}
	rep.Finished = s.opt.Now().UTC()
	state := store.RetentionDone
	if err != nil {
		state, rep.Error = store.RetentionFailed, err.Error()
	}
	body, _ := json.Marshal(rep) // a Report always marshals
	if ferr := s.st.FinishRetentionRun(context.WithoutCancel(ctx), rep.Run, state, rep.Finished, string(body)); ferr != nil && err == nil {
		err = fmt.Errorf("retention: record run: %w", ferr)
	}
	s.observe(ctx, *rep, err)
	return err
}

func (s *Service) observe(ctx context.Context, rep Report, err error) {
	if s.opt.Observe != nil {
		s.opt.Observe(context.WithoutCancel(ctx), rep, err)
	}
}

// sweepAll carries out the plan's targets swept by clock, in order.
func (s *Service) sweepAll(ctx context.Context, a audit.Actor, plan Plan, rep *Report, progress func(Progress)) error {
	m, ts, hs, err := s.targets(ctx, plan.At)
	if err != nil {
		return err
	}
	since, err := s.since(ctx)
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	keys, err := heldKeys(ctx, s.opt.Datastores, s.opt.Seeds, allSubjects(ts, s.opt.Datastores, hs))
	if err != nil {
		return err
	}
	var swept []Line
	for _, l := range plan.Lines {
		if l.Swept() {
			swept = append(swept, l)
		}
	}
	renewed := s.opt.Now()
	for i, l := range swept {
		t := l.Target
		h := holdsFor(t, s.opt.Datastores, hs)
		res := Result{Target: t, Cutoff: *l.Cutoff, Holds: h.ids, Started: s.opt.Now().UTC(), Whole: h.whole}
		if h.whole {
			res.Held = l.Due
		} else {
			sw, st, err := t.sweep(s.opt.Datastores, plan.At, s.opt.Batch)
			if err != nil {
				return err
			}
			sw.Excluded = h.periods
			if ks := keys[t.Datastore+"\x00"+t.Collection]; len(ks) > 0 {
				sw.Held = func(key []any) bool { return ks[keyString(key)] }
			}
			var renewErr error
			r, err := sw.Run(ctx, st.DB, func(r execute.SweepResult) {
				if progress != nil {
					progress(Progress{Target: t, Due: l.Due, Rows: r.Rows, Held: r.Held, Targets: len(swept), Index: i + 1})
				}
				if now := s.opt.Now(); now.Sub(renewed) > LeaseTTL/3 && renewErr == nil {
					renewErr = s.st.RenewRetentionRun(ctx, rep.Run, now.Add(LeaseTTL))
					renewed = now
				}
			})
			res.Rows, res.Held, res.Fields = r.Rows, r.Held, r.Fields
			if err == nil {
				err = renewErr
			}
			if err != nil {
				res.Finished = s.opt.Now().UTC()
				rep.Results = append(rep.Results, res)
				// What was done before the error is audited with the failure.
				s.audit(context.WithoutCancel(ctx), a, rep.Run, res, err)
				return fmt.Errorf("retention: sweep %s/%s under %s: %w", t.Datastore, t.Collection, t.Rule, err)
			}
		}
		res.Finished = s.opt.Now().UTC()
		rep.Results = append(rep.Results, res)
		if err := s.audit(ctx, a, rep.Run, res, nil); err != nil {
			return err
		}
		renewed = s.opt.Now()
	}
	return s.runWithdrawals(ctx, a, m, ts, hs, since, plan, rep)
}

// audit records a target's result on the trail, renewing the run's lease with it.
func (s *Service) audit(ctx context.Context, a audit.Actor, run string, r Result, failed error) error {
	outcome := audit.OutcomeOK
	detail := map[string]any{"run": run, "datastore": r.Datastore, "collection": r.Collection, "action": r.Action,
		"rows": r.Rows, "held": r.Held, "holds": r.Holds}
	if r.Swept() {
		detail["cutoff"] = r.Cutoff
	} else {
		detail["event"], detail["people"] = r.Event, r.People
	}
	if failed != nil {
		outcome = audit.OutcomeError
	}
	e := audit.NewEntry(s.opt.Now(), a, ActionSweep, "retention:"+r.Rule, "retention", outcome, detail)
	if err := s.st.RenewRetentionRun(ctx, run, s.opt.Now().Add(LeaseTTL), e); err != nil {
		return fmt.Errorf("retention: record %s/%s: %w", r.Datastore, r.Collection, err)
	}
	return nil
}

// RunRecord is a run as kept: counts and names, never a value swept.
type RunRecord struct {
	ID       string    `json:"id"`
	Instance string    `json:"instance"`
	State    string    `json:"state"` // running, done, failed or abandoned
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitzero"` // zero while running
	// Report is the run's report; zero while the run is under way.
	Report Report `json:"report,omitzero"`
}

// Runs lists the latest runs, newest first. A report that does not decode
// leaves the run listed without it, and is logged.
func (s *Service) Runs(ctx context.Context, limit int) ([]RunRecord, error) {
	runs, err := s.st.RetentionRuns(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]RunRecord, len(runs))
	for i, r := range runs {
		out[i] = RunRecord{ID: r.ID, Instance: r.Instance, State: r.State, Started: r.StartedAt, Finished: r.FinishedAt}
		if r.Report != "" {
			if err := json.Unmarshal([]byte(r.Report), &out[i].Report); err != nil {
				s.opt.Logger.Warn("retention run report does not decode", "run", r.ID, "err", err)
			}
		}
	}
	return out, nil
}

func newRunID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "rr_" + hex.EncodeToString(b)
}
