package manifest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// The vault keeps values the manifest declares under vault; this file
// answers what a value may be read for and by whom, and checks the
// declarations.

// Mask kinds: how a read that is not allowed in clear shows a vault value.
const (
	MaskPhone    = "phone"
	MaskEmail    = "email"
	MaskIDNumber = "id_number"
	MaskName     = "name"
	MaskLast4    = "last4"
	MaskHidden   = "hidden"
)

// vaultFieldRE is the shape of a vault field's name: it is a path segment
// of the API and appears in the audit trail.
var vaultFieldRE = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// ValidVaultField reports whether name is shaped like a vault field's name.
func ValidVaultField(name string) bool { return vaultFieldRE.MatchString(name) }

// VaultField returns the vault declaration of a field.
func (m *Manifest) VaultField(name string) (VaultField, bool) {
	for _, f := range m.Vault {
		if f.Field == name {
			return f, true
		}
	}
	return VaultField{}, false
}

// VaultFields lists the declared vault fields, in manifest order.
func (m *Manifest) VaultFields() []string {
	out := make([]string, len(m.Vault))
	for i, f := range m.Vault {
		out[i] = f.Field
	}
	return out
}

// CollectedFor lists the purposes services collect category for, in
// manifest order without repeats: what a value of that category may be
// used for.
func (m *Manifest) CollectedFor(category string) []string {
	var out []string
	for _, s := range m.Services {
		for _, c := range s.Collects {
			if !slices.Contains(c.Categories, category) {
				continue
			}
			for _, p := range c.Purposes {
				if !slices.Contains(out, p) {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// ClearFor reports whether a caller in role reads the field in clear when
// it reads it for purpose.
func (f VaultField) ClearFor(purpose, role string) bool {
	for _, c := range f.Clear {
		if c.Purpose == purpose && slices.Contains(c.Roles, role) {
			return true
		}
	}
	return false
}

// checkVault: every field is named once and well; its category is known
// and collected by a service; the purposes it is read in clear for are
// among those the category is collected for. Roles and masks are checked
// by the decoder (enumerations).
func (v *validator) checkVault() {
	seen := map[string]bool{}
	for i, f := range v.m.Vault {
		base := fmt.Sprintf("vault[%d]", i)
		switch {
		case f.Field == "":
		case !ValidVaultField(f.Field):
			v.errorf(base+".field", "invalid vault field %q: use 1 to 64 lower-case letters, digits and _", f.Field)
		case seen[f.Field]:
			v.errorf(base+".field", "vault field %q is declared twice", f.Field)
		}
		seen[f.Field] = true
		if !v.ref("category", base+".category", f.Category) {
			continue
		}
		collected := v.m.CollectedFor(f.Category)
		if len(collected) == 0 {
			v.errorf(base+".category", "category %q is collected by no service: the vault keeps only what services[].collects declares", f.Category)
			continue
		}
		purposes := map[string]bool{}
		for j, c := range f.Clear {
			path := fmt.Sprintf("%s.clear[%d].purpose", base, j)
			if purposes[c.Purpose] {
				v.errorf(path, "purpose %q is listed twice: give all its roles in one entry", c.Purpose)
				continue
			}
			purposes[c.Purpose] = true
			if c.Purpose == "" || !v.ref("purpose", path, c.Purpose) {
				continue
			}
			if !slices.Contains(collected, c.Purpose) {
				v.errorf(path, "category %q is not collected for purpose %q: want one of %s", f.Category, c.Purpose, strings.Join(collected, ", "))
			}
		}
	}
}
