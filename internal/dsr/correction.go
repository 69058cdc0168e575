package dsr

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/execute"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
)

// A correction request's keys say what is corrected where:
//
//   - birth_date and age_band are Custos's own records of the subject;
//   - a vault field's name is that field of the vault;
//   - a category (basic.name, basic.email…) is every correctable field that
//     holds it in the organisation's databases, as the dataset marks them;
//   - anything else is passed to the operator, unless a dataset is in use:
//     then it is refused, since nothing would carry it out.
//
// The values are personal data: kept sealed with the request, checked
// against each field's format, never quoted in errors, logs or audit entries.

// Corrector is an executor that corrects data held outside Custos.
type Corrector interface {
	Executor
	// CheckCorrection reports whether key names data the executor
	// corrects, and whether value fits it. An error is a fault that says
	// why without quoting value.
	CheckCorrection(key, value string) (corrects bool, err error)
	// CorrectionKeys lists the keys the executor corrects.
	CorrectionKeys() []string
	// PreviewCorrection is what completing the correction would change,
	// without writing.
	PreviewCorrection(ctx context.Context, subjectID string, values map[string]string) ([]execute.Correction, error)
}

// ownCorrectionKeys are the subject's records in Custos itself.
var ownCorrectionKeys = []string{"birth_date", "age_band"}

// correctors are the executors that correct data outside Custos.
func (s *Service) correctors() []Corrector {
	var out []Corrector
	for _, ex := range s.opt.Executors {
		if c, ok := ex.(Corrector); ok {
			out = append(out, c)
		}
	}
	return out
}

// checkCorrection checks a correction request's keys and values at intake.
func (s *Service) checkCorrection(m *manifest.Manifest, d Details) error {
	cs := s.correctors()
	keys := make([]string, 0, len(d.Correction))
	for k := range d.Correction {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if slices.Contains(ownCorrectionKeys, k) {
			continue
		}
		if _, ok := m.VaultField(k); ok && s.opt.Vault != nil {
			continue
		}
		claimed := false
		for _, c := range cs {
			ok, err := c.CheckCorrection(k, d.Correction[k])
			if err != nil {
				return err
			}
			claimed = claimed || ok
		}
		if !claimed && len(cs) > 0 {
			return fault.New(fault.Invalid, "unknown_correction_field", "nothing here corrects %s: name a category the dataset marks correctable", quoteKey(k)).
				At("details.correction").Allowing(s.correctionKeys(m))
		}
	}
	return nil
}

// correctionKeys lists every key a correction request may name.
func (s *Service) correctionKeys(m *manifest.Manifest) []string {
	keys := slices.Clone(ownCorrectionKeys)
	if s.opt.Vault != nil {
		keys = append(keys, m.VaultFields()...)
	}
	for _, c := range s.correctors() {
		keys = append(keys, c.CorrectionKeys()...)
	}
	sort.Strings(keys)
	return slices.Compact(keys)
}

// correctedElsewhere reports whether an executor corrects key.
func (s *Service) correctedElsewhere(key, value string) bool {
	for _, c := range s.correctors() {
		if ok, err := c.CheckCorrection(key, value); ok && err == nil {
			return true
		}
	}
	return false
}

// keyRE is what a correction key looks like: a record, vault field or
// category name.
var keyRE = regexp.MustCompile(`^[a-z][a-z0-9_.]{0,63}$`)

// quoteKey names an unknown key in a message when it looks like one; a key
// is the requester's text, and anything else might be a value typed in
// the wrong place.
func quoteKey(k string) string {
	if keyRE.MatchString(k) {
		return strconv.Quote(k)
	}
	return "a key"
}

// CorrectionPreview is what completing a correction request would change.
type CorrectionPreview struct {
	// Datastores are the rows and fields the correction rewrites in the
	// organisation's databases, with the new values masked.
	Datastores []execute.Correction `json:"datastores"`
	// Custos are the keys corrected in Custos's own records and the vault.
	Custos []string `json:"custos"`
	// Operator are the keys nothing here corrects: the operator does.
	Operator []string `json:"operator"`
}

// PreviewCorrection is the dry run of a correction request: per datastore
// and collection, how many rows and which fields would change. The values
// are shown masked. Any other request previews as nothing to change.
func (s *Service) PreviewCorrection(ctx context.Context, a consent.Actor, id string) (CorrectionPreview, error) {
	r, err := s.load(ctx, id)
	if err != nil {
		return CorrectionPreview{}, err
	}
	out := CorrectionPreview{Datastores: []execute.Correction{}, Custos: []string{}, Operator: []string{}}
	if r.Kind != "correction" || r.SubjectID == "" {
		// Nothing to correct; a dry run is harmless in any state, and
		// one of a closed request shows what is left to change.
		return out, nil
	}
	d, err := s.details(ctx, r)
	if err != nil {
		return CorrectionPreview{}, err
	}
	m, err := s.policy()
	if err != nil {
		return CorrectionPreview{}, err
	}
	for k, v := range d.Correction {
		_, vault := m.VaultField(k)
		switch {
		case slices.Contains(ownCorrectionKeys, k) || vault && s.opt.Vault != nil:
			out.Custos = append(out.Custos, k)
		case !s.correctedElsewhere(k, v):
			out.Operator = append(out.Operator, k)
		}
	}
	sort.Strings(out.Custos)
	sort.Strings(out.Operator)
	for _, c := range s.correctors() {
		cs, err := c.PreviewCorrection(ctx, r.SubjectID, d.Correction)
		if err != nil {
			return CorrectionPreview{}, err
		}
		out.Datastores = append(out.Datastores, cs...)
	}
	return out, nil
}

// details opens a request's sealed particulars.
func (s *Service) details(ctx context.Context, r *store.Request) (Details, error) {
	var d Details
	if len(r.Details) == 0 {
		return d, nil
	}
	raw, err := s.opt.Keys.Open(ctx, keystore.Request(r.ID), r.Details, keystore.RequestAD(r.ID))
	if err != nil {
		return d, err
	}
	json.Unmarshal(raw, &d)
	return d, nil
}

// correctionAudit is what the audit trail keeps of a correction in the
// organisation's databases: counts and field names, never values.
func correctionAudit(cs []execute.Correction) map[string]any {
	type coll struct {
		Collection string   `json:"collection"`
		Rows       int      `json:"rows"`
		Fields     []string `json:"fields"`
	}
	type ds struct {
		Datastore   string `json:"datastore"`
		Collections []coll `json:"collections"`
	}
	var out []ds
	for _, c := range cs {
		d := ds{Datastore: c.Datastore, Collections: []coll{}}
		for _, cc := range c.Collections {
			x := coll{Collection: cc.Collection, Rows: cc.Rows, Fields: []string{}}
			for _, f := range cc.Fields {
				x.Fields = append(x.Fields, f.Field)
			}
			d.Collections = append(d.Collections, x)
		}
		out = append(out, d)
	}
	return map[string]any{"datastores": out}
}

// correctionFault turns an execute or dataset refusal of a value into the
// fault a caller sees, naming the key only.
func correctionFault(key string, err error) error {
	if errors.Is(err, dataset.ErrInvalidCorrection) {
		return fault.New(fault.Invalid, "invalid_correction_value", "the corrected value for %q is not valid: %s", key, reason(err)).At("details.correction")
	}
	if errors.Is(err, execute.ErrCorrectionConflict) {
		return fault.New(fault.Invalid, "invalid_correction_value", "two corrected values would be written into one field").At("details.correction")
	}
	return err
}

// reason is the why of an ErrInvalidCorrection, which never quotes the value.
func reason(err error) string {
	msg, sep := err.Error(), dataset.ErrInvalidCorrection.Error()+": "
	if j := strings.LastIndex(msg, sep); j >= 0 {
		return msg[j+len(sep):]
	}
	return "it does not fit the field"
}

// correctedCategories names the categories a correction changes: Custos's
// own birth date and age band are the date of birth, a vault field is its
// category, and any other key that is a category of the policy is itself.
// Keys that are none of these (passed to the operator) name nothing.
func correctedCategories(m *manifest.Manifest, d Details) []string {
	var out []string
	add := func(c string) {
		if c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	for k := range d.Correction {
		switch {
		case slices.Contains(ownCorrectionKeys, k):
			add("basic.birth_date")
		default:
			if f, ok := m.VaultField(k); ok {
				add(f.Category)
			} else if _, ok := m.Category(k); ok {
				add(k)
			}
		}
	}
	slices.Sort(out)
	return out
}

// overlap is what of have changed touches, the narrower of each pair: the
// same category, one within the other (a recipient of basic is told of
// basic.email), or the other way round.
func overlap(have, changed []string) []string {
	var out []string
	add := func(c string) {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	for _, h := range have {
		for _, c := range changed {
			switch {
			case h == c || strings.HasPrefix(h, c+"."):
				add(h)
			case strings.HasPrefix(c, h+"."):
				add(c)
			}
		}
	}
	return out
}
