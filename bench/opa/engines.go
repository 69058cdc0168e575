package main

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"time"

	"github.com/custos-privacy/custos/internal/check"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// policySource is the Rego form of check.Policy.DecideAct.
//
//go:embed policy/custos.rego
var policySource string

const (
	policyFile    = "custos.rego"
	decisionQuery = "data.custos.decisions"
)

// custosEngine answers queries with check.Policy.DecideAct.
type custosEngine struct {
	policy   *check.Policy
	subjects map[string]*check.Subject
}

func newCustosEngine(d *Data) *custosEngine {
	return &custosEngine{policy: checkPolicy(d), subjects: checkSubjects(d)}
}

// decide appends q's decisions to out. The subject lookup and the act's
// and time's conversion are part of the work, as they are for a caller of
// check.
func (e *custosEngine) decide(q *Query, out []check.Decision) []check.Decision {
	s := e.subjects[q.Subject] // nil: an unknown subject
	act := q.Act.CheckAct()
	now := time.Unix(q.Now, 0)
	for _, p := range q.Purposes {
		out = append(out, e.policy.DecideAct(s, p, act, now))
	}
	return out
}

// opaEngine answers queries with a prepared Rego query over an in-memory store.
type opaEngine struct {
	query  rego.PreparedEvalQuery
	inputs []ast.Value // one per query, converted once
}

// newOPAStore returns an in-memory store holding the data document. It keeps
// AST values, so evaluation does not convert the data on every read: the
// fastest way OPA offers to hold data in memory.
func newOPAStore(d *Data) (storage.Store, error) {
	doc, err := opaDocument(d)
	if err != nil {
		return nil, err
	}
	return inmem.NewFromObjectWithOpts(doc, inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true)), nil
}

func newOPAEngine(ctx context.Context, d *Data) (*opaEngine, error) {
	store, err := newOPAStore(d)
	if err != nil {
		return nil, err
	}
	pq, err := rego.New(
		rego.Query(decisionQuery),
		rego.Module(policyFile, policySource),
		rego.Store(store),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("prepare rego: %w", err)
	}
	e := &opaEngine{query: pq, inputs: make([]ast.Value, len(d.Queries))}
	for i, q := range d.Queries {
		if e.inputs[i], err = opaInput(q); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// opaInput is q as OPA's input document, the same JSON a client posts to
// /v1/data/custos/decisions.
func opaInput(q Query) (ast.Value, error) {
	purposes := make([]any, len(q.Purposes))
	for i, p := range q.Purposes {
		purposes[i] = p
	}
	in := map[string]any{"subject": q.Subject, "purposes": purposes, "now": q.Now}
	if q.Act != nil {
		in["act"] = map[string]any{"kind": q.Act.Kind, "id": q.Act.ID}
	}
	v, err := ast.InterfaceToValue(in)
	if err != nil {
		return nil, fmt.Errorf("opa input: %w", err)
	}
	return v, nil
}

// eval evaluates query i and returns the raw decisions array.
func (e *opaEngine) eval(ctx context.Context, i int) ([]any, error) {
	rs, err := e.query.Eval(ctx, rego.EvalParsedInput(e.inputs[i]))
	if err != nil {
		return nil, fmt.Errorf("eval query %d: %w", i, err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return nil, fmt.Errorf("eval query %d: %d results, want 1", i, len(rs))
	}
	arr, ok := rs[0].Expressions[0].Value.([]any)
	if !ok {
		return nil, fmt.Errorf("eval query %d: decisions is %T, want an array", i, rs[0].Expressions[0].Value)
	}
	return arr, nil
}

// decide evaluates query i as check decisions.
func (e *opaEngine) decide(ctx context.Context, i int) ([]check.Decision, error) {
	arr, err := e.eval(ctx, i)
	if err != nil {
		return nil, err
	}
	return decodeDecisions(arr)
}

// decodeDecisions reads OPA's decisions array, from an embedded evaluation or
// a server's JSON answer.
func decodeDecisions(arr []any) ([]check.Decision, error) {
	out := make([]check.Decision, len(arr))
	for j, x := range arr {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("decision %d is %T, want an object", j, x)
		}
		purpose, ok1 := m["purpose"].(string)
		allowed, ok2 := m["allowed"].(bool)
		reason, ok3 := m["reason"].(string)
		if !ok1 || !ok2 || !ok3 || len(m) != 3 {
			return nil, fmt.Errorf("decision %d: unexpected shape %v", j, m)
		}
		out[j] = check.Decision{Purpose: purpose, Allowed: allowed, Reason: reason}
	}
	return out, nil
}

// mismatch is one decision on which the engines differ.
type mismatch struct {
	Query   int
	Subject string
	Index   int
	OPA     check.Decision
	Custos  check.Decision
}

func (m mismatch) String() string {
	return fmt.Sprintf("query %d subject %q decision %d: opa %q allowed=%t reason=%q, custos %q allowed=%t reason=%q",
		m.Query, m.Subject, m.Index, m.OPA.Purpose, m.OPA.Allowed, m.OPA.Reason, m.Custos.Purpose, m.Custos.Allowed, m.Custos.Reason)
}

// parityError reports that the engines disagree.
type parityError struct {
	Decisions  int
	Mismatches []mismatch // the first few
	Total      int
}

func (e *parityError) Error() string {
	return fmt.Sprintf("parity: %d of %d decisions differ", e.Total, e.Decisions)
}

// maxMismatches is how many differing decisions a parity error keeps.
const maxMismatches = 10

// parity asks both engines every query and returns the number of decisions,
// or a *parityError when any differs.
func parity(ctx context.Context, d *Data, o *opaEngine, c *custosEngine) (int, error) {
	pe := &parityError{}
	var buf []check.Decision
	for i := range d.Queries {
		q := &d.Queries[i]
		got, err := o.decide(ctx, i)
		if err != nil {
			return 0, err
		}
		buf = c.decide(q, buf[:0])
		n := max(len(got), len(buf))
		pe.Decisions += len(buf)
		for j := range n {
			var a, b check.Decision
			if j < len(got) {
				a = got[j]
			}
			if j < len(buf) {
				b = buf[j]
			}
			if a != b {
				pe.Total++
				if len(pe.Mismatches) < maxMismatches {
					pe.Mismatches = append(pe.Mismatches, mismatch{Query: i, Subject: q.Subject, Index: j, OPA: a, Custos: b})
				}
			}
		}
	}
	if pe.Total > 0 {
		return pe.Decisions, pe
	}
	return pe.Decisions, nil
}

// report writes a parity error's first mismatches to w.
func (e *parityError) report(w io.Writer) {
	fmt.Fprintln(w, e.Error())
	for _, m := range e.Mismatches {
		fmt.Fprintln(w, "  "+m.String())
	}
}
