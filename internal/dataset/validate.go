package dataset

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/custos-privacy/custos/internal/manifest"
)

// Validate checks the dataset against the manifest: every category is one the
// manifest knows (built-in or its own), and everything Parse checks besides,
// for datasets built in code or imported. The result is in file order; nil means valid.
func (d *Dataset) Validate(m *manifest.Manifest) Problems {
	ps := d.check(m)
	if len(ps) == 0 {
		return nil
	}
	return finish(ps)
}

// checker collects problems at the positions the walker recorded.
type checker struct {
	d        *Dataset
	problems Problems
}

func (c *checker) errorf(path, format string, args ...any) {
	c.problems = append(c.problems, Problem{File: c.d.File, Pos: c.d.pos.lookup(path), Message: fmt.Sprintf(format, args...)})
}

// node is a collection in the reference graph.
type node struct{ store, coll string }

func (n node) String() string { return n.store + "." + n.coll }

// check runs every rule; m == nil skips those that need the manifest.
func (d *Dataset) check(m *manifest.Manifest) Problems {
	c := &checker{d: d}
	var categoryIDs []string
	if m != nil {
		for _, cat := range manifest.BuiltinVocabulary().Categories {
			categoryIDs = append(categoryIDs, cat.ID)
		}
		for _, cat := range m.Categories {
			categoryIDs = append(categoryIDs, cat.ID)
		}
	}
	// fields by collection, for references.
	fields := map[node]map[string]bool{}
	byName := map[node]map[string]Field{}
	stores := map[string]bool{}
	for si, s := range d.Datastores {
		sp := fmt.Sprintf("datastores[%d]", si)
		if stores[s.ID] {
			c.errorf(sp+".id", "duplicate datastore %q", s.ID)
		}
		stores[s.ID] = true
		if s.DSN != "" && DSNHasPassword(s.DSN) {
			c.errorf(sp+".dsn", `inline "dsn" contains a password: use "dsn_env" or "dsn_file"`)
		}
		for ci, col := range s.Collections {
			cp := fmt.Sprintf("%s.collections[%d]", sp, ci)
			k := node{s.ID, col.Name}
			if fields[k] != nil {
				c.errorf(cp+".name", "duplicate collection %q in datastore %q", col.Name, s.ID)
				continue
			}
			fields[k] = map[string]bool{}
			byName[k] = map[string]Field{}
			for fi, f := range col.Fields {
				byName[k][f.Name] = f
				if fields[k][f.Name] {
					c.errorf(fmt.Sprintf("%s.fields[%d].name", cp, fi), "duplicate field %q in collection %q", f.Name, col.Name)
				}
				fields[k][f.Name] = true
			}
		}
	}

	edges := map[node][]node{}
	var seeds []node
	personal := false
	for si, s := range d.Datastores {
		sp := fmt.Sprintf("datastores[%d]", si)
		for ci, col := range s.Collections {
			cp := fmt.Sprintf("%s.collections[%d]", sp, ci)
			here := node{s.ID, col.Name}
			hasPK := false
			for fi, f := range col.Fields {
				fp := fmt.Sprintf("%s.fields[%d]", cp, fi)
				hasPK = hasPK || f.PrimaryKey
				if len(f.Categories) > 0 {
					personal = true
				}
				if f.Identity != "" {
					seeds = append(seeds, here)
					if !identityRE.MatchString(f.Identity) {
						c.errorf(fp+".identity", "invalid identity %q: want email, phone, user_id or a lower-case name", truncate(f.Identity, 40))
					}
				}
				if m != nil {
					for i, id := range f.Categories {
						if _, ok := m.Category(id); !ok {
							msg := fmt.Sprintf("unknown category %q", id)
							if s := closest(id, categoryIDs); s != "" {
								msg += fmt.Sprintf(" (did you mean %q?)", s)
							}
							c.errorf(fmt.Sprintf("%s.categories[%d]", fp, i), "%s", msg)
						}
					}
				}
				c.checkErase(fp, f, col.DeleteRow)
				c.checkCorrect(fp, s.ID, f, func(store string, r Reference) (Field, bool) {
					if r.Datastore != "" {
						store = r.Datastore
					}
					t, ok := byName[node{store, r.Collection}][r.Field]
					return t, ok
				})
				for ri, r := range f.References {
					rp := fmt.Sprintf("%s.references[%d]", fp, ri)
					target, ok := c.checkReference(rp, s.ID, r, stores, fields)
					if !ok {
						continue
					}
					switch r.Direction {
					case DirectionTo:
						edges[here] = append(edges[here], target)
					case DirectionFrom:
						edges[target] = append(edges[target], here)
					default:
						edges[here] = append(edges[here], target)
						edges[target] = append(edges[target], here)
					}
				}
			}
			c.checkRestrictFlag(cp, col, hasPK)
			c.checkHeldFor(cp, col, hasPK)
			if col.DeleteRow && !hasPK {
				c.errorf(cp+".delete_row", "collection %q deletes whole rows but has no primary key", col.Name)
			}
			c.checkRetention(cp, col, hasPK, m)
		}
	}
	if personal && len(seeds) == 0 {
		c.errorf("datastores", "no field is an identity: no person's data can be found")
		return c.problems
	}
	reached := map[node]bool{}
	for queue := seeds; len(queue) > 0; queue = queue[1:] {
		n := queue[0]
		if reached[n] {
			continue
		}
		reached[n] = true
		queue = append(queue, edges[n]...)
	}
	for si, s := range d.Datastores {
		for ci, col := range s.Collections {
			if col.Personal() && !reached[node{s.ID, col.Name}] && fields[node{s.ID, col.Name}] != nil {
				c.errorf(fmt.Sprintf("datastores[%d].collections[%d].name", si, ci), "collection %q holds personal data but no identity reaches it", col.Name)
			}
		}
	}
	return c.problems
}

// checkReference reports a reference to something that does not exist and
// returns the collection it points to.
func (c *checker) checkReference(path, store string, r Reference, stores map[string]bool, fields map[node]map[string]bool) (node, bool) {
	if r.Datastore != "" {
		if !stores[r.Datastore] {
			c.errorf(path+".datastore", "reference to unknown datastore %q", r.Datastore)
			return node{}, false
		}
		store = r.Datastore
	}
	target := node{store, r.Collection}
	fs, ok := fields[target]
	if !ok {
		msg := fmt.Sprintf("reference to unknown collection %q", target)
		var names []string
		for n := range fields {
			if n.store == store {
				names = append(names, n.coll)
			}
		}
		sort.Strings(names)
		if s := closest(r.Collection, names); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		c.errorf(path+".collection", "%s", msg)
		return node{}, false
	}
	if !fs[r.Field] {
		msg := fmt.Sprintf("reference to unknown field %q", target.String()+"."+r.Field)
		var names []string
		for n := range fs {
			names = append(names, n)
		}
		sort.Strings(names)
		if s := closest(r.Field, names); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		c.errorf(path+".field", "%s", msg)
		return node{}, false
	}
	switch r.Direction {
	case DirectionTo, DirectionFrom, DirectionBoth:
	default:
		c.errorf(path+".direction", "unknown direction %q: want to, from or both", r.Direction)
		return node{}, false
	}
	return target, true
}

// checkErase reports a strategy the field cannot take.
func (c *checker) checkErase(path string, f Field, deleteRow bool) {
	e := f.Erase
	if e.Strategy == "" || deleteRow {
		return
	}
	path += ".erase"
	if _, err := ParseErase(e.String()); err != nil {
		c.errorf(path, "%s", err)
		return
	}
	if f.PrimaryKey && e.Strategy != EraseKeep {
		c.errorf(path, "primary key %q cannot be erased with %q: it locates the row (use keep, or delete_row on the collection)", f.Name, e.Strategy)
		return
	}
	switch e.Strategy {
	case EraseMask, EraseHash, EraseHMAC:
		if f.DataType != "" && f.DataType != "string" {
			c.errorf(path, "erase %q needs a string field, %q is %s", e.Strategy, f.Name, f.DataType)
		}
	case EraseRandom:
		if f.DataType == "json" || f.DataType == "boolean" {
			c.errorf(path, "erase %q cannot make a random %s for %q", e.Strategy, f.DataType, f.Name)
		}
	case EraseFixed:
		if !fitsType(e.Value, f.DataType) {
			c.errorf(path, "fixed value %q is not a valid %s for %q", truncate(e.Value, 40), f.DataType, f.Name)
		}
	}
}

func fitsType(v, dataType string) bool {
	var err error
	switch dataType {
	case "integer":
		_, err = strconv.ParseInt(v, 10, 64)
	case "float":
		_, err = strconv.ParseFloat(v, 64)
	case "boolean":
		_, err = strconv.ParseBool(v)
	}
	return err == nil
}
