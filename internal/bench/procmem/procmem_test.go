package procmem

import (
	"os"
	"testing"
)

func TestStatus(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc here")
	}
	rss, hwm := Status("VmRSS"), Status("VmHWM")
	if rss == 0 || hwm < rss {
		t.Errorf("VmRSS %d, VmHWM %d: want a resident set, and a peak at least as large", rss, hwm)
	}
	if n := Status("NoSuchField"); n != 0 {
		t.Errorf("NoSuchField = %d, want 0", n)
	}
}
