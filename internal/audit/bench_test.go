package audit

import (
	"testing"
	"time"
)

// BenchmarkSum is the hash of one entry, the CPU floor of verification:
// alone (Sum) and as verification computes it, one Hasher for every entry.
func BenchmarkSum(b *testing.B) {
	e := NewEntry(time.Now(), Actor{ID: "key_bench", Role: "admin", Place: "10.0.0.1 host-1"}, "subject.read", "subject:u-1042", "analytics", "", `{"fields":3}`)
	for _, bc := range []struct {
		name string
		key  []byte
	}{{"hmac", []byte("0123456789abcdef0123456789abcdef")}, {"sha256", nil}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Sum(bc.key, Genesis, &e)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
		b.Run(bc.name+"/reused", func(b *testing.B) {
			b.ReportAllocs()
			var h Hasher
			var buf []byte
			for b.Loop() {
				buf = AppendEntry(buf[:0], Genesis, &e)
				h.Sum(bc.key, buf)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
