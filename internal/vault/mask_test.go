package vault

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/manifest"
)

// Every mask kind the manifest takes has its normal form and its mask
// here, and no other.
func TestEveryMaskKind(t *testing.T) {
	f, _ := reflect.TypeFor[manifest.VaultField]().FieldByName("Mask")
	enum := strings.Split(f.Tag.Get("enum"), ",")
	var have []string
	for k := range kinds {
		have = append(have, k)
	}
	slices.Sort(enum)
	slices.Sort(have)
	if !slices.Equal(enum, have) {
		t.Errorf("mask kinds: the manifest takes %v, the vault knows %v", enum, have)
	}
}

func TestNormaliseAndMask(t *testing.T) {
	for _, tc := range []struct {
		mask, given, kept, masked string
	}{
		{manifest.MaskPhone, "+86 138-0013-8000", "+8613800138000", "+86138****8000"},
		{manifest.MaskPhone, "13800138000", "+8613800138000", "+86138****8000"},
		{manifest.MaskEmail, " Li.Na@Example.COM", "li.na@example.com", "l***@example.com"},
		{manifest.MaskIDNumber, "1101 0519 9003 0712 3x", "11010519900307123X", "1****************X"},
		{manifest.MaskIDNumber, "A12-345", "A12345", "***"},
		{manifest.MaskName, "  Li   Na ", "Li Na", "L**"},
		{manifest.MaskName, "张三", "张三", "张**"},
		{manifest.MaskLast4, "6222 0212 3456 7890", "6222 0212 3456 7890", "****7890"},
		{manifest.MaskLast4, "1234567", "1234567", "****"},
		{manifest.MaskHidden, " a secret ", "a secret", "***"},
	} {
		t.Run(tc.mask+"/"+tc.given, func(t *testing.T) {
			kept, err := normalise(tc.mask, tc.given)
			if err != nil || kept != tc.kept {
				t.Fatalf("normalise = %q, %v; want %q", kept, err, tc.kept)
			}
			if got := Mask(tc.mask, kept); got != tc.masked {
				t.Errorf("Mask = %q, want %q", got, tc.masked)
			}
		})
	}
}

// Values that cannot be kept are refused with a code, naming the field
// "value" and never quoting it.
func TestNormaliseRefuses(t *testing.T) {
	for _, tc := range []struct {
		mask, given, code string
	}{
		{manifest.MaskPhone, "call me maybe", "invalid_value"},
		{manifest.MaskEmail, "li.na.example.com", "invalid_value"},
		{manifest.MaskEmail, "  ", "value_required"},
		{manifest.MaskName, " \t ", "invalid_text"},
		{manifest.MaskHidden, "", "value_required"},
		{manifest.MaskHidden, "a\x00b", "invalid_text"},
		{manifest.MaskLast4, strings.Repeat("9", maxValueBytes+1), "invalid_value"},
	} {
		_, err := normalise(tc.mask, tc.given)
		fe, ok := fault.As(err)
		if !ok || fe.Code != tc.code || fe.Field != "value" || fe.Kind != fault.Invalid {
			t.Errorf("normalise(%s, %q) = %v, want 422 %s on value", tc.mask, tc.given, err, tc.code)
			continue
		}
		if strings.TrimSpace(tc.given) != "" && strings.Contains(fe.Message, strings.TrimSpace(tc.given)) {
			t.Errorf("the error %q quotes the value", fe.Message)
		}
	}
}

// A token is the value's for its field and deployment: another field,
// another key or another value gives another one.
func TestToken(t *testing.T) {
	hasher := func(b byte) *identity.Hasher {
		h, err := identity.NewHasher(slices.Repeat([]byte{b}, 32))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	a, b := hasher(1), hasher(2)
	base := token(a, nil, "email", "li.na@example.com")
	if !strings.HasPrefix(base, "vt_") || len(base) != 3+32 || strings.ToLower(base) != base {
		t.Errorf("token %q: want vt_ and 32 lower-case base32 characters", base)
	}
	if again := token(hasher(1), nil, "email", "li.na@example.com"); again != base {
		t.Errorf("the same value gives %q and %q", base, again)
	}
	for name, other := range map[string]string{
		"another field":  token(a, nil, "backup_email", "li.na@example.com"),
		"another key":    token(b, nil, "email", "li.na@example.com"),
		"another value":  token(a, nil, "email", "li.na@example.org"),
		"field in value": token(a, nil, "emai", "l\x00i.na@example.com"),
	} {
		if other == base {
			t.Errorf("%s gives the same token", name)
		}
	}
}

// TestRetoken: a stored token moved under a rotated key equals the token a
// value written after the rotation gets, and changes.
func TestRetoken(t *testing.T) {
	h, err := identity.NewHasher(slices.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	k2, k3 := slices.Repeat([]byte{2}, 32), slices.Repeat([]byte{3}, 32)
	stored := token(h, nil, "mobile_number", "+8613800138000")
	moved, err := Retoken(k2, stored)
	if err != nil {
		t.Fatal(err)
	}
	if moved == stored {
		t.Error("Retoken left the token as it was")
	}
	if want := token(h, [][]byte{k2}, "mobile_number", "+8613800138000"); moved != want {
		t.Errorf("moved token %q, a value written after the rotation %q", moved, want)
	}
	twice, _ := Retoken(k3, moved)
	if want := token(h, [][]byte{k2, k3}, "mobile_number", "+8613800138000"); twice != want {
		t.Errorf("after two rotations %q, want %q", twice, want)
	}
	for _, bad := range []string{"", "vt_", "vt_!!!!", stored[3:], "vt_" + strings.Repeat("a", 30)} {
		if _, err := Retoken(k2, bad); err == nil {
			t.Errorf("Retoken(%q) accepted", bad)
		}
	}
}
