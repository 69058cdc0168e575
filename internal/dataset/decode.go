package dataset

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Keys of the Custos dataset format, in the order they are documented.
var (
	rootKeys       = []string{"custos_dataset", "datastores"}
	datastoreKeys  = []string{"id", "kind", "description", "dsn", "dsn_env", "dsn_file", "collections"}
	collectionKeys = []string{"name", "description", "delete_row", "restrict_flag", "held_for", "retention", "fields"}
	fieldKeys      = []string{"name", "description", "primary_key", "data_type", "categories", "identity", "erase", "anonymise", "correct", "references"}
	referenceKeys  = []string{"datastore", "collection", "field", "direction"}
)

var (
	kinds      = []string{KindPostgres, KindMySQL, KindSQLite}
	directions = []string{DirectionTo, DirectionFrom, DirectionBoth}
	// dataTypes are the column types erasure cares about; anything else is "json".
	dataTypes  = []string{"string", "integer", "float", "boolean", "date", "datetime", "bytes", "json"}
	identityRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	envRE      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Parse decodes a Custos dataset file and checks everything that does not
// need the manifest (see Validate for the rest). name is used in problem
// positions. On failure the error is Problems listing everything found, in file order.
func Parse(name string, data []byte) (*Dataset, error) {
	w := newWalker(name)
	d := &Dataset{File: name}
	if n := w.root(data, "dataset"); n != nil {
		w.dataset(n, d)
	}
	d.pos = w.pos
	problems := w.problems
	if len(problems) == 0 {
		problems = d.check(nil)
	}
	if len(problems) > 0 {
		return nil, finish(problems)
	}
	return d, nil
}

func (w *walker) dataset(n *yaml.Node, d *Dataset) {
	m := w.mapping(n, rootKeys, rootKeys)
	if e, ok := m["custos_dataset"]; ok {
		if e.val.Kind != yaml.ScalarNode || e.val.ShortTag() != "!!int" {
			w.errorf(e.val, "want an integer, got %s", describe(e.val))
		} else if e.val.Value != fmt.Sprint(Format) {
			w.errorf(e.val, "unsupported dataset format %s: this build reads format %d", e.val.Value, Format)
		}
	}
	if e, ok := m["datastores"]; ok {
		w.record("datastores", e.key)
		items := w.list(e.val)
		if len(items) == 0 && !w.tooBig && e.val.Kind == yaml.SequenceNode {
			w.errorf(e.val, `"datastores" needs at least one entry`)
		}
		for i, item := range items {
			path := fmt.Sprintf("datastores[%d]", i)
			w.record(path, item)
			d.Datastores = append(d.Datastores, w.datastore(item, path))
		}
	}
}

func (w *walker) datastore(n *yaml.Node, path string) Datastore {
	var s Datastore
	m := w.mapping(n, datastoreKeys, []string{"id", "kind", "collections"})
	w.fieldString(m, "id", path, &s.ID)
	if e, ok := m["kind"]; ok {
		w.record(path+".kind", e.val)
		s.Kind, _ = w.enum(e.val, kinds...)
	}
	var sources []entry
	for _, k := range []string{"dsn", "dsn_env", "dsn_file"} {
		if e, ok := m[k]; ok {
			sources = append(sources, e)
		}
	}
	switch {
	case len(sources) > 1:
		w.errorf(sources[1].key, "%q and %q both give the connection: keep one", sources[0].key.Value, sources[1].key.Value)
	case len(sources) == 0 && m != nil:
		w.errorf(n, `missing connection: give "dsn_env" or "dsn_file"`)
	}
	if e, ok := m["dsn"]; ok {
		if v, ok := w.str(e.val); ok {
			if DSNHasPassword(v) {
				// The value is a secret: never echo it.
				w.errorf(e.val, `inline "dsn" contains a password: use "dsn_env" or "dsn_file"`)
			} else {
				s.DSN = v
			}
		}
	}
	if e, ok := m["dsn_env"]; ok {
		if v, ok := w.str(e.val); ok {
			if !envRE.MatchString(v) {
				w.errorf(e.val, "invalid environment variable name %q", truncate(v, 40))
			}
			s.DSNEnv = v
		}
	}
	if e, ok := m["dsn_file"]; ok {
		if v, ok := w.str(e.val); ok {
			if v == "" {
				w.errorf(e.val, `"dsn_file" is empty`)
			}
			s.DSNFile = v
		}
	}
	if e, ok := m["description"]; ok {
		w.str(e.val)
	}
	if e, ok := m["collections"]; ok {
		items := w.list(e.val)
		if len(items) == 0 && e.val.Kind == yaml.SequenceNode {
			w.errorf(e.val, `"collections" needs at least one entry`)
		}
		for i, item := range items {
			p := fmt.Sprintf("%s.collections[%d]", path, i)
			w.record(p, item)
			s.Collections = append(s.Collections, w.collection(item, p))
		}
	}
	return s
}

func (w *walker) collection(n *yaml.Node, path string) Collection {
	var c Collection
	m := w.mapping(n, collectionKeys, []string{"name", "fields"})
	w.fieldString(m, "name", path, &c.Name)
	if e, ok := m["delete_row"]; ok {
		w.record(path+".delete_row", e.val)
		c.DeleteRow = w.boolean(e.val)
	}
	if e, ok := m["description"]; ok {
		w.str(e.val)
	}
	w.fieldString(m, "restrict_flag", path, &c.RestrictFlag)
	w.fieldString(m, "held_for", path, &c.HeldFor)
	if e, ok := m["retention"]; ok {
		w.record(path+".retention", e.val)
		for i, item := range w.list(e.val) {
			p := fmt.Sprintf("%s.retention[%d]", path, i)
			w.record(p, item)
			c.Retention = append(c.Retention, w.retentionTarget(item, p))
		}
	}
	if e, ok := m["fields"]; ok {
		items := w.list(e.val)
		if len(items) == 0 && e.val.Kind == yaml.SequenceNode {
			w.errorf(e.val, `"fields" needs at least one entry`)
		}
		for i, item := range items {
			p := fmt.Sprintf("%s.fields[%d]", path, i)
			w.record(p, item)
			c.Fields = append(c.Fields, w.field(item, p))
		}
	}
	return c
}

func (w *walker) field(n *yaml.Node, path string) Field {
	var f Field
	m := w.mapping(n, fieldKeys, []string{"name"})
	w.fieldString(m, "name", path, &f.Name)
	if e, ok := m["description"]; ok {
		w.str(e.val)
	}
	if e, ok := m["primary_key"]; ok {
		w.record(path+".primary_key", e.val)
		f.PrimaryKey = w.boolean(e.val)
	}
	if e, ok := m["data_type"]; ok {
		w.record(path+".data_type", e.val)
		f.DataType, _ = w.enum(e.val, dataTypes...)
	}
	if e, ok := m["categories"]; ok {
		w.record(path+".categories", e.val)
		f.Categories = w.strings(e.val, path+".categories")
	}
	if e, ok := m["identity"]; ok {
		w.record(path+".identity", e.val)
		if v, ok := w.str(e.val); ok {
			if identityRE.MatchString(v) {
				f.Identity = v
			} else {
				w.errorf(e.val, "invalid identity %q: want email, phone, user_id or a lower-case name", truncate(v, 40))
			}
		}
	}
	if e, ok := m["erase"]; ok {
		w.record(path+".erase", e.val)
		if isNull(e.val) {
			f.Erase = Erase{Strategy: EraseNull} // `erase: null` reads as YAML null
		} else if v, ok := w.str(e.val); ok {
			er, err := ParseErase(v)
			if err != nil {
				w.errorf(e.val, "%s", err)
			}
			f.Erase = er
		}
	}
	if e, ok := m["anonymise"]; ok {
		w.record(path+".anonymise", e.val)
		f.Anonymise, _ = w.enum(e.val, anonymisations...)
	}
	if e, ok := m["correct"]; ok {
		w.record(path+".correct", e.val)
		f.Correct = w.correct(e.val)
	}
	if e, ok := m["references"]; ok {
		items := []*yaml.Node{e.val}
		if e.val.Kind == yaml.SequenceNode {
			items = w.list(e.val)
		}
		for _, item := range items {
			p := fmt.Sprintf("%s.references[%d]", path, len(f.References))
			w.record(p, item)
			if r, ok := w.reference(item, p); ok {
				f.References = append(f.References, r)
			}
		}
	}
	return f
}

func (w *walker) retentionTarget(n *yaml.Node, path string) RetentionTarget {
	var t RetentionTarget
	m := w.mapping(n, retentionKeys, retentionNeeded)
	w.fieldString(m, "rule", path, &t.Rule)
	w.fieldString(m, "clock", path, &t.Clock)
	if e, ok := m["event"]; ok {
		w.record(path+".event", e.val)
		t.Event, _ = w.enum(e.val, events...)
	}
	if e, ok := m["action"]; ok {
		w.record(path+".action", e.val)
		t.Action, _ = w.enum(e.val, actions...)
	}
	return t
}

func (w *walker) reference(n *yaml.Node, path string) (Reference, bool) {
	r := Reference{Direction: DirectionBoth}
	m := w.mapping(n, referenceKeys, []string{"collection", "field"})
	if m == nil {
		return r, false
	}
	w.fieldString(m, "datastore", path, &r.Datastore)
	w.fieldString(m, "collection", path, &r.Collection)
	w.fieldString(m, "field", path, &r.Field)
	if e, ok := m["direction"]; ok {
		w.record(path+".direction", e.val)
		if v, ok := w.enum(e.val, directions...); ok {
			r.Direction = v
		}
	}
	return r, r.Collection != "" && r.Field != ""
}

// fieldString reads m[key] as a non-empty string into dst.
func (w *walker) fieldString(m map[string]entry, key, path string, dst *string) {
	e, ok := m[key]
	if !ok {
		return
	}
	w.record(path+"."+key, e.val)
	if v, ok := w.str(e.val); ok {
		if strings.TrimSpace(v) == "" {
			w.errorf(e.val, "%q is empty", key)
			return
		}
		*dst = v
	}
}

// DSNHasPassword reports whether a connection string carries a password, in
// any of the forms PostgreSQL, MySQL and SQLite drivers accept.
func DSNHasPassword(dsn string) bool {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		if u.User != nil {
			if _, ok := u.User.Password(); ok {
				return true
			}
		}
		for k := range u.Query() {
			if isPasswordKey(k) {
				return true
			}
		}
	}
	// libpq key=value form: host=db password=secret
	for _, f := range strings.Fields(dsn) {
		if k, _, ok := strings.Cut(f, "="); ok && isPasswordKey(k) {
			return true
		}
	}
	// go-sql-driver/mysql form: user:secret@tcp(host)/db
	if !strings.Contains(dsn, "://") {
		if at := strings.LastIndex(dsn, "@"); at > 0 && strings.Contains(dsn[:at], ":") {
			return true
		}
	}
	// query parameters without a scheme: shop.db?password=secret
	if _, q, ok := strings.Cut(dsn, "?"); ok {
		if vs, err := url.ParseQuery(q); err == nil {
			for k := range vs {
				if isPasswordKey(k) {
					return true
				}
			}
		}
	}
	return false
}

func isPasswordKey(k string) bool {
	switch strings.ToLower(strings.TrimSpace(k)) {
	case "password", "pass", "pwd", "passwd", "sslpassword", "_auth_pass":
		return true
	}
	return false
}
