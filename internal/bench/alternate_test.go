package bench

import (
	"math"
	"testing"
	"time"
)

func TestCompare(t *testing.T) {
	b := func(n int64, secs float64, cpu time.Duration) Burst { return Burst{Count: n, Seconds: secs, CPU: cpu} }
	for _, tc := range []struct {
		name string
		a, b []Burst
		want Comparison
	}{
		{
			name: "alike",
			a:    []Burst{b(100, 1, 10*time.Millisecond), b(200, 1, 20*time.Millisecond)},
			b:    []Burst{b(100, 1, 10*time.Millisecond), b(200, 1, 20*time.Millisecond)},
			want: Comparison{PerSec: [2]float64{150, 150}, CPU: [2]time.Duration{100 * time.Microsecond, 100 * time.Microsecond},
				Ratios: []float64{1, 1}, Throughput: 1, Median: 1, Low: 1, High: 1, CPURatio: 1},
		},
		{
			// The machine slows down between rounds: the overall ratio is
			// still b's share, and so is every round's.
			name: "drift",
			a:    []Burst{b(1000, 1, 500*time.Millisecond), b(500, 1, 500*time.Millisecond), b(800, 1, 400*time.Millisecond)},
			b:    []Burst{b(900, 1, 500*time.Millisecond), b(450, 1, 500*time.Millisecond), b(720, 1, 400*time.Millisecond)},
			want: Comparison{PerSec: [2]float64{2300.0 / 3, 2070.0 / 3}, CPU: [2]time.Duration{608695, 676328},
				Ratios: []float64{0.9, 0.9, 0.9}, Throughput: 0.9, Median: 0.9, Low: 0.9, High: 0.9, CPURatio: 608695.0 / 676328},
		},
		{
			name: "even rounds take the middle two",
			a:    []Burst{b(100, 1, 0), b(100, 1, 0), b(100, 1, 0), b(100, 1, 0)},
			b:    []Burst{b(50, 1, 0), b(80, 1, 0), b(100, 1, 0), b(120, 1, 0)},
			want: Comparison{PerSec: [2]float64{100, 87.5}, Ratios: []float64{0.5, 0.8, 1, 1.2}, Throughput: 0.875, Median: 0.9, Low: 0.5, High: 1.2},
		},
		{
			name: "a round with nothing on a is left out of the ratios",
			a:    []Burst{b(0, 1, 0), b(100, 2, 0)},
			b:    []Burst{b(10, 1, 0), b(100, 2, 0)},
			want: Comparison{PerSec: [2]float64{100.0 / 3, 110.0 / 3}, Ratios: []float64{1}, Throughput: 1.1, Median: 1, Low: 1, High: 1},
		},
		{name: "nothing", want: Comparison{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Compare(tc.a, tc.b)
			near := func(x, y float64) bool { return math.Abs(x-y) < 1e-6 }
			ok := near(got.PerSec[0], tc.want.PerSec[0]) && near(got.PerSec[1], tc.want.PerSec[1]) &&
				got.CPU == tc.want.CPU && near(got.Throughput, tc.want.Throughput) && near(got.Median, tc.want.Median) &&
				near(got.Low, tc.want.Low) && near(got.High, tc.want.High) && near(got.CPURatio, tc.want.CPURatio) &&
				len(got.Ratios) == len(tc.want.Ratios)
			for i := range got.Ratios {
				ok = ok && i < len(tc.want.Ratios) && near(got.Ratios[i], tc.want.Ratios[i])
			}
			if !ok {
				t.Errorf("Compare = %+v\nwant      %+v", got, tc.want)
			}
		})
	}
}
