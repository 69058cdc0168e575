package dataset

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// fidesCategories maps Fides (fideslang) data categories onto Custos built-in
// category ids (internal/manifest/builtin.yaml); FIDES.md explains each choice.
// A key ending in ".*" covers that category and everything under it; other keys
// match exactly. An empty value means "not personal data" (the field gets no
// category). A Fides category matched by no key is a problem, never dropped.
var fidesCategories = map[string]string{
	"system.*": "", // system.operations, system.authentication: not about a person

	"user":                      "other",
	"user.name.*":               "basic.name",
	"user.contact":              "basic",
	"user.contact.email":        "basic.email",
	"user.contact.phone_number": "basic.phone",
	"user.contact.fax_number":   "basic.phone",
	"user.contact.address.*":    "basic.address",
	"user.contact.url":          "basic.profile",
	"user.contact.organization": "work.employer",

	"user.unique_id.*":       "account.id",
	"user.account.*":         "account.id",
	"user.authorization.*":   "account.credentials",
	"user.credentials.*":     "account.credentials",
	"user.device":            "device",
	"user.device.device_id":  "device.id",
	"user.device.cookie_id":  "account.cookie_id",
	"user.device.ip_address": "account.ip_address",
	"user.device.telemetry":  "device.hardware",
	"user.sensor":            "device.sensors",
	"user.telemetry":         "device.hardware",

	"user.financial":              "financial",
	"user.financial.bank_account": "financial.bank_account",
	"user.financial.credit_card":  "financial.bank_account",
	"user.payment.*":              "financial.payment",

	"user.demographic":                    "basic.profile",
	"user.demographic.date_of_birth":      "basic.birth_date",
	"user.demographic.age_range":          "basic.birth_date",
	"user.demographic.gender":             "basic.gender",
	"user.demographic.language":           "basic.language",
	"user.demographic.profile":            "basic.profile",
	"user.demographic.marital_status":     "other.marital",
	"user.demographic.religious_belief":   "other.religion",
	"user.demographic.sexual_orientation": "other.sexual_orientation",

	"user.government_id": "identity",
	"user.government_id.national_identification_number": "identity.id_card",
	"user.government_id.passport_number":                "identity.passport",
	"user.government_id.drivers_license_number":         "identity.driving_licence",

	"user.biometric.*":           "biometric",
	"user.biometric.fingerprint": "biometric.fingerprint",
	"user.biometric.voice":       "biometric.voiceprint",
	"user.biometric.retinal":     "biometric.iris",
	"user.health_and_medical.*":  "health.records",

	"user.location":           "location",
	"user.location.precise":   "location.precise",
	"user.location.imprecise": "location.coarse",

	"user.behavior.*":                "usage",
	"user.behavior.browsing_history": "usage.browsing",
	"user.behavior.search_history":   "usage.search",
	"user.behavior.purchase_history": "financial.orders",
	"user.content.*":                 "usage.content",
	"user.content.self_image":        "other.images",
	"user.criminal_history.*":        "other.criminal",
	"user.childrens":                 "other.minor",
	"user.workplace":                 "work.employer",
	"user.job_title":                 "work.title",
	"user.social.*":                  "contacts.friends",
}

// FidesCategory returns the Custos category for a Fides data category: "" and
// true for categories that are not personal data, false for unknown ones.
func FidesCategory(fides string) (string, bool) {
	if id, ok := fidesCategories[fides]; ok && !strings.HasSuffix(fides, ".*") {
		return id, true
	}
	for c := fides; c != ""; {
		if id, ok := fidesCategories[c+".*"]; ok {
			return id, true
		}
		i := strings.LastIndex(c, ".")
		if i < 0 {
			break
		}
		c = c[:i]
	}
	return "", false
}

// fidesIdentities renames Fides identity types to Custos ones; others are kept as custom identities.
var fidesIdentities = map[string]string{"phone_number": IdentityPhone, "external_id": IdentityUserID}

// fidesTypes maps Fides data_type values onto Custos ones.
var fidesTypes = map[string]string{
	"string": "string", "object_id": "string", "integer": "integer", "float": "float",
	"boolean": "boolean", "date": "date", "object": "json", "no_op": "",
}

var (
	fidesRootKeys       = []string{"dataset"}
	fidesDatasetKeys    = []string{"fides_key", "name", "description", "organization_fides_key", "tags", "meta", "data_categories", "data_qualifier", "retention", "joint_controller", "third_country_transfers", "fides_meta", "collections"}
	fidesCollectionKeys = []string{"name", "description", "data_categories", "data_qualifier", "retention", "fields", "fides_meta"}
	fidesFieldKeys      = []string{"name", "description", "data_categories", "data_qualifier", "retention", "fides_meta", "fields", "tags"}
	fidesFieldMetaKeys  = []string{"references", "identity", "primary_key", "data_type", "length", "return_all_elements", "read_only", "custom_request_field", "masking_strategy_override"}
	fidesReferenceKeys  = []string{"dataset", "field", "direction"}
	fidesMaskingKeys    = []string{"strategy", "configuration"}
)

// ParseFides reads a Fides (fideslang) dataset file: each dataset becomes a
// datastore named by its fides_key, with no kind or connection (Fides keeps
// those elsewhere; set them before use). Categories go through fidesCategories;
// fields with personal data are erased with null, as Fides' null_rewrite
// masking does, unless masking_strategy_override says otherwise. The result is
// checked as Parse checks a Custos file.
func ParseFides(name string, data []byte) (*Dataset, error) {
	w := newWalker(name)
	d := &Dataset{File: name}
	if n := w.root(data, "Fides dataset file"); n != nil {
		m := w.mapping(n, fidesRootKeys, fidesRootKeys)
		if e, ok := m["dataset"]; ok {
			w.record("datastores", e.key)
			for i, item := range w.list(e.val) {
				path := fmt.Sprintf("datastores[%d]", i)
				w.record(path, item)
				d.Datastores = append(d.Datastores, w.fidesDataset(item, path))
			}
		}
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

func (w *walker) fidesDataset(n *yaml.Node, path string) Datastore {
	var s Datastore
	m := w.mapping(n, fidesDatasetKeys, []string{"fides_key", "collections"})
	w.fieldString(m, "fides_key", path+".id", &s.ID)
	if e, ok := m["fides_key"]; ok {
		w.record(path+".id", e.val)
	}
	if e, ok := m["collections"]; ok {
		for i, item := range w.list(e.val) {
			p := fmt.Sprintf("%s.collections[%d]", path, i)
			w.record(p, item)
			var c Collection
			cm := w.mapping(item, fidesCollectionKeys, []string{"name", "fields"})
			w.fieldString(cm, "name", p, &c.Name)
			if e, ok := cm["fields"]; ok {
				w.fidesFields(e.val, p, "", s.ID, &c.Fields, 0)
			}
			s.Collections = append(s.Collections, c)
		}
	}
	return s
}

// fidesFields appends the fields under n to out, flattening nested fields into dotted names.
func (w *walker) fidesFields(n *yaml.Node, collPath, prefix, store string, out *[]Field, depth int) {
	if depth > maxDepth {
		w.errorf(n, "nesting too deep")
		return
	}
	for _, item := range w.list(n) {
		path := fmt.Sprintf("%s.fields[%d]", collPath, len(*out))
		w.record(path, item)
		m := w.mapping(item, fidesFieldKeys, []string{"name"})
		var f Field
		w.fieldString(m, "name", path, &f.Name)
		if f.Name == "" {
			continue
		}
		f.Name = prefix + f.Name
		if e, ok := m["data_categories"]; ok {
			w.record(path+".categories", e.val)
			for _, item := range w.list(e.val) {
				fc, ok := w.str(item)
				if !ok {
					continue
				}
				id, known := FidesCategory(fc)
				switch {
				case !known:
					w.errorf(item, "Fides data category %q has no Custos category: add it to the mapping or change the dataset", truncate(fc, 60))
				case id != "" && !contains(f.Categories, id):
					w.record(fmt.Sprintf("%s.categories[%d]", path, len(f.Categories)), item)
					f.Categories = append(f.Categories, id)
				}
			}
		}
		readOnly := false
		if e, ok := m["fides_meta"]; ok && !isNull(e.val) {
			readOnly = w.fidesMeta(e.val, path, store, &f)
		}
		switch {
		case f.Erase.Strategy != "":
		case readOnly || f.PrimaryKey || len(f.Categories) == 0:
			f.Erase = Erase{Strategy: EraseKeep}
		default:
			f.Erase = Erase{Strategy: EraseNull}
		}
		if e, ok := m["fields"]; ok && !isNull(e.val) {
			// An object holds its sub-fields; they are listed in its place.
			w.fidesFields(e.val, collPath, f.Name+".", store, out, depth+1)
			continue
		}
		*out = append(*out, f)
	}
}

// fidesMeta reads a field's fides_meta into f and reports whether the field is read-only.
func (w *walker) fidesMeta(n *yaml.Node, path, store string, f *Field) bool {
	m := w.mapping(n, fidesFieldMetaKeys, nil)
	if e, ok := m["primary_key"]; ok {
		w.record(path+".primary_key", e.val)
		f.PrimaryKey = w.boolean(e.val)
	}
	if e, ok := m["identity"]; ok {
		w.record(path+".identity", e.val)
		if v, ok := w.str(e.val); ok {
			if r, ok := fidesIdentities[v]; ok {
				v = r
			}
			if identityRE.MatchString(v) {
				f.Identity = v
			} else {
				w.errorf(e.val, "invalid identity %q: want a lower-case name", truncate(v, 40))
			}
		}
	}
	if e, ok := m["data_type"]; ok {
		w.record(path+".data_type", e.val)
		if v, ok := w.str(e.val); ok {
			base := strings.TrimSuffix(v, "[]")
			t, known := fidesTypes[base]
			switch {
			case !known:
				w.errorf(e.val, "unknown Fides data_type %q", truncate(v, 40))
			case base != v:
				f.DataType = "json" // arrays are stored as one value
			default:
				f.DataType = t
			}
		}
	}
	readOnly := false
	if e, ok := m["read_only"]; ok {
		readOnly = w.boolean(e.val)
	}
	if e, ok := m["masking_strategy_override"]; ok {
		w.record(path+".erase", e.val)
		f.Erase = w.fidesMasking(e.val)
	}
	if e, ok := m["references"]; ok {
		for _, item := range w.list(e.val) {
			p := fmt.Sprintf("%s.references[%d]", path, len(f.References))
			w.record(p, item)
			rm := w.mapping(item, fidesReferenceKeys, []string{"dataset", "field"})
			r := Reference{Direction: DirectionBoth}
			var ds string
			w.fieldString(rm, "dataset", p+".datastore", &ds)
			if e, ok := rm["dataset"]; ok {
				w.record(p+".datastore", e.val)
			}
			if e, ok := rm["field"]; ok {
				w.record(p+".field", e.val)
				w.record(p+".collection", e.val)
				if v, ok := w.str(e.val); ok {
					coll, fld, found := strings.Cut(v, ".")
					if !found || coll == "" || fld == "" {
						w.errorf(e.val, "reference field %q: want collection.field", truncate(v, 60))
					} else {
						r.Collection, r.Field = coll, fld
					}
				}
			}
			if e, ok := rm["direction"]; ok && !isNull(e.val) {
				w.record(p+".direction", e.val)
				if v, ok := w.enum(e.val, DirectionTo, DirectionFrom); ok {
					r.Direction = v
				}
			}
			if ds != store {
				r.Datastore = ds
			}
			if ds != "" && r.Collection != "" {
				f.References = append(f.References, r)
			}
		}
	}
	return readOnly
}

// fidesMasking turns a Fides masking strategy into an erase strategy.
func (w *walker) fidesMasking(n *yaml.Node) Erase {
	m := w.mapping(n, fidesMaskingKeys, []string{"strategy"})
	e, ok := m["strategy"]
	if !ok {
		return Erase{}
	}
	s, ok := w.str(e.val)
	if !ok {
		return Erase{}
	}
	switch s {
	case "null_rewrite":
		return Erase{Strategy: EraseNull}
	case "random_string_rewrite":
		return Erase{Strategy: EraseRandom}
	case "hash":
		return Erase{Strategy: EraseHash}
	case "hmac":
		return Erase{Strategy: EraseHMAC}
	case "string_rewrite":
		var value, suffix string
		if c, ok := m["configuration"]; ok {
			cm := w.mapping(c.val, []string{"rewrite_value", "format_preservation"}, []string{"rewrite_value"})
			if rv, ok := cm["rewrite_value"]; ok {
				value, _ = w.str(rv.val)
			}
			if fp, ok := cm["format_preservation"]; ok {
				fm := w.mapping(fp.val, []string{"suffix"}, nil)
				if sv, ok := fm["suffix"]; ok {
					suffix, _ = w.str(sv.val)
				}
			}
		} else {
			w.errorf(n, `masking strategy "string_rewrite" needs a configuration with rewrite_value`)
		}
		// Fides appends the format-preservation suffix to the rewritten value.
		return Erase{Strategy: EraseFixed, Value: value + suffix}
	}
	w.errorf(e.val, "Fides masking strategy %q has no Custos erase strategy: want null_rewrite, string_rewrite, random_string_rewrite, hash or hmac", truncate(s, 40))
	return Erase{}
}
