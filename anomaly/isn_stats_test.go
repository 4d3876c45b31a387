package anomaly

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{2, 1}, 1.5},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 4, 1, 1}, 2.5},
		{[]float64{7, 7, 7, 7, 7}, 7},
		{[]float64{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, 4.5},
	}
	for _, tt := range tests {
		if got := median(slices.Clone(tt.in)); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if got := median(nil); !math.IsNaN(got) {
		t.Errorf("median(nil) = %v, want NaN", got)
	}
	// Against sorting, on random and tie-heavy input.
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		v := make([]float64, 1+r.IntN(60))
		for i := range v {
			v[i] = float64(r.IntN(1 + len(v)/3))
		}
		s := slices.Sorted(slices.Values(v))
		want := s[len(s)/2]
		if len(s)%2 == 0 {
			want = (s[len(s)/2-1] + s[len(s)/2]) / 2
		}
		if got := median(slices.Clone(v)); got != want {
			t.Fatalf("median(%v) = %v, want %v", v, got, want)
		}
	}
}

func TestLogFisher(t *testing.T) {
	tests := []struct {
		s    float64
		m    int
		want float64 // p_comb
	}{
		{0, 3, 1},
		{5, 1, math.Exp(-5)},
		{5, 2, math.Exp(-5) * 6},
		{10, 3, math.Exp(-10) * (1 + 10 + 50)},
	}
	for _, tt := range tests {
		if got := math.Exp(logFisher(tt.s, tt.m)); math.Abs(got-tt.want) > 1e-12*max(1, tt.want) {
			t.Errorf("exp(logFisher(%v, %d)) = %v, want %v", tt.s, tt.m, got, tt.want)
		}
	}
	// Large s stays finite: ln p ≈ −s + (m−1)ln s − ln (m−1)!.
	if got := logFisher(20000, 1000); math.IsInf(got, 0) || got > -10000 {
		t.Errorf("logFisher(20000, 1000) = %v, want a finite value below -10000", got)
	}
}

func TestLogPoissonTail(t *testing.T) {
	tests := []struct {
		r      int
		lambda float64
		want   float64 // P(X ≥ r)
	}{
		{0, 1, 1},
		{1, 1, 1 - math.Exp(-1)},
		{2, 1, 1 - 2*math.Exp(-1)},
		// Tiny λ: P(X ≥ 1) ≈ λ, where 1 − e^{−λ} would cancel.
		{1, 1e-12, 1e-12},
		{2, 1e-6, 0.5e-12},
	}
	for _, tt := range tests {
		if got := math.Exp(logPoissonTail(tt.r, tt.lambda)); math.Abs(got-tt.want) > 1e-6*tt.want {
			t.Errorf("exp(logPoissonTail(%d, %v)) = %v, want %v", tt.r, tt.lambda, got, tt.want)
		}
	}
}

func TestTheilSen(t *testing.T) {
	tests := []struct {
		name string
		d    []uint32
		tau  []float64
		a, b float64
	}{
		// 4.4BSD: +64000 per connection, +128000 per second.
		{"step and clock", []uint32{64000 + 12800, 64000 + 64000, 64000 + 25600, 64000 + 128000}, []float64{0.1, 0.5, 0.2, 1}, 64000, 128000},
		{"equal times", []uint32{5, 9, 7}, []float64{0.1, 0.1, 0.1}, 7, 0},
		// One outlier does not move the fit.
		{"outlier", []uint32{100, 200, 300, 400, 4000000000}, []float64{1, 2, 3, 4, 5}, 0, 100},
	}
	for _, tt := range tests {
		a, b := theilSen(tt.d, tt.tau, nil)
		if math.Abs(a-tt.a) > 1e-6 || math.Abs(b-tt.b) > 1e-6 {
			t.Errorf("theilSen(%s) = %v, %v, want %v, %v", tt.name, a, b, tt.a, tt.b)
		}
	}
}
