package fault

import (
	"slices"
	"testing"
)

func TestStatus(t *testing.T) {
	for k, want := range map[Kind]int{Internal: 500, Invalid: 422, BadRequest: 400, NotFound: 404, Conflict: 409,
		Unauthorized: 401, Forbidden: 403, TooLarge: 413, TooMany: 429, Unavailable: 503, Gone: 410, Kind(99): 500} {
		if got := Status(k); got != want {
			t.Errorf("Status(%d) = %d, want %d", k, got, want)
		}
	}
}

func TestAllowing(t *testing.T) {
	many := make([]string, 25)
	for i := range many {
		many[i] = string(rune('a' + i))
	}
	for _, tc := range []struct {
		name    string
		values  []string
		message string
		allowed []string
	}{
		{"none", nil, "bad", nil},
		{"few", []string{"CN", "EU"}, "bad: want one of CN, EU", []string{"CN", "EU"}},
		{"bounded", many, "bad: want one of a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t (and 5 more)", many[:MaxAllowed]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := New(Invalid, "unknown_thing", "bad").At("thing")
			e := base.Allowing(tc.values)
			if e.Message != tc.message {
				t.Errorf("message %q, want %q", e.Message, tc.message)
			}
			if !slices.Equal(e.Allowed, tc.allowed) || e.Field != "thing" || e.Code != "unknown_thing" {
				t.Errorf("got %+v, want allowed %v on field thing", e, tc.allowed)
			}
			if base.Message != "bad" || base.Allowed != nil {
				t.Errorf("Allowing changed the original: %+v", base)
			}
		})
	}
}
