package ids

import (
	"regexp"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	shape := regexp.MustCompile(`^x_[0-9a-v]{26}$`)
	a := New("x_")
	time.Sleep(2 * time.Millisecond)
	b := New("x_")
	if !shape.MatchString(a) || !shape.MatchString(b) {
		t.Fatalf("ids %q, %q do not have the expected shape", a, b)
	}
	if !(a < b) {
		t.Errorf("a later id does not sort after an earlier one: %q, %q", a, b)
	}
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		id := New("x_")
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}
