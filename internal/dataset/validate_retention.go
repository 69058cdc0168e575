package dataset

import (
	"fmt"
	"slices"

	"github.com/custos-privacy/custos/internal/manifest"
)

// checkRetention reports a retention target a sweep could not carry out:
// no way to find the rows due, no way to address them, an action the
// rule does not allow, or an erasure a sweep could not tell from a live
// value. m == nil skips what needs the rules.
func (c *checker) checkRetention(cp string, col Collection, hasPK bool, m *manifest.Manifest) {
	seen := map[string]bool{}
	for i, t := range col.Retention {
		tp := fmt.Sprintf("%s.retention[%d]", cp, i)
		if t.Rule == "" {
			continue // Parse reported it
		}
		if seen[t.Rule] {
			c.errorf(tp+".rule", "rule %q is bound to collection %q twice", t.Rule, col.Name)
			continue
		}
		seen[t.Rule] = true
		switch {
		case t.Clock != "" && t.Event != "":
			c.errorf(tp+".event", `give "clock" or "event", not both: a row's period starts from a field or ends at an event`)
			continue
		case t.Clock == "" && t.Event == "":
			c.errorf(tp, `missing "clock" (the field that starts the period) or "event" (what ends retention for a person)`)
			continue
		}
		if !hasPK {
			c.errorf(tp, "collection %q has no primary key: a sweep addresses rows by key", col.Name)
			continue
		}
		if t.Clock != "" {
			f, ok := col.Field(t.Clock)
			if !ok {
				c.errorf(tp+".clock", "clock %q is not a field of collection %q", t.Clock, col.Name)
				continue
			}
			if f.DataType != "" && f.DataType != "date" && f.DataType != "datetime" {
				c.errorf(tp+".clock", "clock %q is %s: want a date or datetime field", t.Clock, f.DataType)
			}
		}
		after := ""
		if m != nil {
			r, ok := retentionRule(m, t.Rule)
			if !ok {
				msg := fmt.Sprintf("unknown retention rule %q", t.Rule)
				var ids []string
				for _, r := range m.Retention {
					ids = append(ids, r.ID)
				}
				if s := closest(t.Rule, ids); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				c.errorf(tp+".rule", "%s", msg)
				continue
			}
			if !c.clockFits(tp, t, r) {
				continue
			}
			after = r.After
		}
		if after == "" && t.Action == "" {
			continue // the action is the rule's: checked with the manifest
		}
		action := col.RetentionAction(t, after)
		if after != "" && !slices.Contains(allowedActions[after], action) {
			c.errorf(tp+".action", "rule %q says %s when retention ends: action %q does not (want %v)", t.Rule, after, action, allowedActions[after])
			continue
		}
		switch action {
		case ActionErase:
			c.checkRetentionErase(cp, tp, col, t)
		case ActionAnonymise:
			c.checkAnonymise(cp, tp, col)
		}
	}
}

// allowedActions are the actions a sweep may take under a rule, by what
// the rule says happens when retention ends. Restriction keeps the row
// and erases what it no longer needs.
var allowedActions = map[string][]string{
	"delete":    {ActionDelete, ActionErase},
	"anonymise": {ActionAnonymise},
	"restrict":  {ActionErase},
}

// clockFits reports whether the target starts the rule's period the way
// the rule counts it.
func (c *checker) clockFits(tp string, t RetentionTarget, r manifest.Retention) bool {
	switch {
	case r.Period == nil && r.Until == "legal_minimum":
		c.errorf(tp+".rule", "rule %q keeps data for the legal minimum without stating it: no sweep can enforce that; give the rule a period", r.ID)
	case r.Period == nil && t.Event == "":
		c.errorf(tp+".clock", "rule %q has no period: it ends when %s; bind it with event: %s", r.ID, r.Until, r.Until)
	case r.Period == nil && t.Event != r.Until:
		c.errorf(tp+".event", "rule %q ends at %s, not %s", r.ID, r.Until, t.Event)
	case r.Period != nil && r.From == EventAccountDeletion && t.Event != EventAccountDeletion:
		c.errorf(tp, "rule %q counts its period from the account's deletion: bind it with event: %s", r.ID, EventAccountDeletion)
	case r.Period != nil && r.From != EventAccountDeletion && t.Clock == "":
		c.errorf(tp+".event", "rule %q counts %d %s from %s: name the field that records it with clock", r.ID, r.Period.Count, r.Period.Unit, r.From)
	default:
		return true
	}
	return false
}

// checkRetentionErase reports fields a sweep could not erase under t. A
// sweep by clock finds the rows still to erase in the database itself, so
// every erased field must have an erased form a query can recognise:
// NULL or a fixed value. Erasing by event follows one person's rows and
// recognises what it already erased as a rights erasure does; only a
// random value, which has no erased form, is refused.
func (c *checker) checkRetentionErase(cp, tp string, col Collection, t RetentionTarget) {
	erased := 0
	for fi, f := range col.Fields {
		if len(f.Categories) == 0 {
			continue
		}
		s := f.Erasure().Strategy
		if s != EraseKeep {
			erased++
		}
		switch {
		case s == EraseRandom:
			c.errorf(fmt.Sprintf("%s.fields[%d].erase", cp, fi), "field %q is erased with random, which a retention sweep cannot tell from a live value: use null or fixed", f.Name)
		case t.Clock != "" && s != EraseNull && s != EraseFixed && s != EraseKeep:
			c.errorf(fmt.Sprintf("%s.fields[%d].erase", cp, fi), "field %q is erased with %s: a sweep by clock finds rows still to erase by their fields, so use null or fixed (or delete the rows)", f.Name, s)
		}
	}
	if erased == 0 {
		c.errorf(tp, "action erase changes nothing in collection %q: no field with a category is erased", col.Name)
	}
}

// checkAnonymise reports an anonymisation that would leave rows linkable
// to a person, or generalise what is not a date.
func (c *checker) checkAnonymise(cp, tp string, col Collection) {
	dropped := 0
	for fi, f := range col.Fields {
		fp := fmt.Sprintf("%s.fields[%d].anonymise", cp, fi)
		a := f.Anonymisation()
		switch {
		case a == AnonymiseDrop:
			dropped++
			if f.PrimaryKey {
				c.errorf(fp, "primary key %q cannot be dropped: it locates the row", f.Name)
			}
		case !f.PrimaryKey && (f.Identity != "" || len(f.References) > 0):
			c.errorf(fp, "field %q identifies a person or leads to one: anonymisation must drop it", f.Name)
		case generalisingDate[a] && f.DataType != "" && f.DataType != "date" && f.DataType != "datetime":
			c.errorf(fp, "field %q is %s: only dates and times are generalised to a %s", f.Name, f.DataType, a)
		}
	}
	if dropped == 0 {
		c.errorf(tp, "anonymising collection %q drops no field: the rows would still relate to a person", col.Name)
	}
}

// retentionRule returns the manifest's retention rule with id.
func retentionRule(m *manifest.Manifest, id string) (manifest.Retention, bool) {
	for _, r := range m.Retention {
		if r.ID == id {
			return r, true
		}
	}
	return manifest.Retention{}, false
}

// RetentionCoverage reports every retention rule of m that no collection
// is bound to, at the rule in the manifest, and every collection of
// personal data bound to no rule, at the collection: what the policy says
// is kept for a time and nothing would end, and what is kept with no
// time at all.
func (d *Dataset) RetentionCoverage(m *manifest.Manifest) Problems {
	bound := map[string]bool{}
	c := &checker{d: d}
	for si, s := range d.Datastores {
		for ci, col := range s.Collections {
			for _, t := range col.Retention {
				bound[t.Rule] = true
			}
			if col.Personal() && len(col.Retention) == 0 {
				c.errorf(fmt.Sprintf("datastores[%d].collections[%d].name", si, ci),
					"collection %q holds personal data but no retention rule is bound to it", col.Name)
			}
		}
	}
	ps := c.problems
	for i, r := range m.Retention {
		if !bound[r.ID] {
			ps = append(ps, m.ProblemAt(fmt.Sprintf("retention[%d]", i),
				"retention rule %q is bound to no collection of %s: nothing would end it", r.ID, d.File))
		}
	}
	return ps
}
