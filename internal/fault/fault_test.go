package fault

import "testing"

func TestStatus(t *testing.T) {
	for k, want := range map[Kind]int{Internal: 500, Invalid: 422, BadRequest: 400, NotFound: 404, Conflict: 409,
		Unauthorized: 401, Forbidden: 403, TooLarge: 413, TooMany: 429, Unavailable: 503, Kind(99): 500} {
		if got := Status(k); got != want {
			t.Errorf("Status(%d) = %d, want %d", k, got, want)
		}
	}
}
