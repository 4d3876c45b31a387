package anomaly

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// t4Series returns n samples of a few generators: random ISNs at random
// times, a 4.4BSD step + clock with jitter, a counter whose samples share
// capture times (equal τ, which theilSen leaves out of its pairs), and a
// lattice of 64000 with random multiples.
func t4Series(r *rand.Rand, kind, n int) ([]uint32, []int64) {
	xs, ns := make([]uint32, n), make([]int64, n)
	var x uint32 = r.Uint32()
	var t int64 = 1e18
	for i := range n {
		switch kind {
		case 0:
			x = r.Uint32()
			t += r.Int64N(2e9)
		case 1:
			dt := r.Int64N(1e9)
			t += dt
			x += 64000 + uint32(dt/1e9*128000) + uint32(r.IntN(3))
		case 2:
			if r.IntN(3) == 0 {
				t += r.Int64N(1e6)
			}
			x += 1 + uint32(r.IntN(2))
		case 3:
			t += r.Int64N(5e8)
			x += 64000 * uint32(1+r.IntN(4))
		}
		xs[i], ns[i] = x, t
	}
	return xs, ns
}

// TestRunT4Incremental checks that runT4, whose Theil–Sen slopes slide
// with the window, decides exactly as the version that recomputed them for
// every prediction (runT4Ref, theilSen per step): same bits, p-values and
// predictor counts, bit for bit.
func TestRunT4Incremental(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for kind := range 4 {
		for _, n := range []int{4, 5, 7, 33, 34, 35, 100, 300} {
			for _, w := range []int{3, 4, 8, 32} {
				xs, ns := t4Series(r, kind, n)
				got, want := runT4(xs, ns, w), runT4Ref(xs, ns, w)
				if !reflect.DeepEqual(got, want) && !sameT4(got, want) {
					t.Fatalf("kind %d n %d w %d: runT4 = %+v, want %+v", kind, n, w, got, want)
				}
			}
		}
	}
}

// sameT4 compares with NaN equal to NaN (reflect.DeepEqual says NaN ≠ NaN).
func sameT4(a, b t4) bool {
	eq := func(x, y []float64) bool {
		return slices.EqualFunc(x, y, func(p, q float64) bool { return p == q || math.IsNaN(p) && math.IsNaN(q) })
	}
	return a.m == b.m && eq(a.bits, b.bits) && eq(a.logP, b.logP) && a.hist == b.hist &&
		(a.logComb == b.logComb || math.IsNaN(a.logComb) && math.IsNaN(b.logComb)) &&
		(a.hEst == b.hEst || math.IsNaN(a.hEst) && math.IsNaN(b.hEst)) && a.hits == b.hits && a.g == b.g
}

func BenchmarkRunT4(b *testing.B) {
	xs, ns := t4Series(rand.New(rand.NewPCG(1, 1)), 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		runT4(xs, ns, defaultWindow)
	}
}

func BenchmarkRunT4Ref(b *testing.B) {
	xs, ns := t4Series(rand.New(rand.NewPCG(1, 1)), 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		runT4Ref(xs, ns, defaultWindow)
	}
}

// runT4Ref is runT4 as it was before the slopes slid with the window
// (commit bd0bb1b): the reference TestRunT4Incremental holds it to.
func runT4Ref(xs []uint32, ns []int64, w int) t4 {
	var r t4
	n := len(xs)
	if n < minT4Samples {
		return r
	}
	// d_i = uint32(x_i − x_{i−1}): forward distance, so a series crossing
	// 2^32 is no different from any other (anomalies.md §0).
	d := make([]uint32, n)
	tau := make([]float64, n) // seconds, at least 1 µs
	for i := 1; i < n; i++ {
		d[i] = xs[i] - xs[i-1]
		tau[i] = max(float64(ns[i]-ns[i-1])/1e9, 1e-6)
	}
	buf := make([]float64, 0, w*(w-1)/2)
	gHits := map[uint32]int{}
	r.m = n - 3
	r.bits = make([]float64, 0, r.m)
	r.logP = make([]float64, 0, r.m)
	var s float64
	for j := 3; j < n; j++ {
		D, T := d[max(1, j-w):j], tau[max(1, j-w):j]
		prev := xs[j-1]
		var pred [4]uint32
		var valid [4]bool
		// P0 last value: constant and near-constant generators.
		pred[PredLast], valid[PredLast] = prev, true
		// P1 per-connection step: +1, +64000 (4.4BSD), lwIP's += ticks.
		buf = buf[:0]
		for _, v := range D {
			buf = append(buf, float64(v))
		}
		pred[PredStep], valid[PredStep] = prev+roundU32(median(buf)), true
		// P2 clock: x̂ = x_{j−1} + round(r̂·τ_j), valid only while the
		// advance is below 2^31 (beyond, the wrap count is ambiguous).
		buf = buf[:0]
		for i, v := range D {
			buf = append(buf, float64(v)/T[i])
		}
		if adv := median(buf) * tau[j]; adv < two31 {
			pred[PredClock], valid[PredClock] = prev+roundU32(adv), true
		}
		// P3 step + clock (4.4BSD: +64000 per connection and +128000/s).
		if len(D) >= 3 {
			a, b := theilSen(D, T, buf)
			if adv := a + b*tau[j]; adv >= 0 && adv < two31 {
				pred[PredStepClock], valid[PredStepClock] = prev+roundU32(adv), true
			}
		}
		// k* = argmin |e_k|; ties go to the simpler predictor (lower
		// index): with evenly spaced samples P1, P2 and P3 predict the
		// same value, and a per-connection step is the plainer account.
		K, kBest, eBest := 0, -1, int64(math.MaxInt64)
		for k := range pred {
			if !valid[k] {
				continue
			}
			K++
			e := int64(int32(xs[j] - pred[k])) // signed residual
			if e < 0 {
				e = -e
			}
			if e < eBest {
				kBest, eBest = k, e
			}
		}
		if kBest < 0 {
			// No valid predictor: count as p_j = 1, b_j = 32 (§3.4).
			r.bits = append(r.bits, 32)
			r.logP = append(r.logP, 0)
			continue
		}
		r.hist[kBest]++
		// Lattice: g = gcd of the non-zero increments seen so far (gcd
		// skips zeros); a hit means this increment is on it too. g comes
		// from earlier samples only, so the 1/g factor is honest.
		var g uint32
		for _, v := range D {
			g = gcd(g, v)
		}
		geff := 1.0
		lattice := g >= 64 && d[j]%g == 0
		if lattice {
			geff = float64(g)
			r.hits++
			gHits[g]++
		}
		// b_j: bits an attacker must still guess.
		r.bits = append(r.bits, math.Log2(1+2*float64(eBest)/geff))
		// p_j = min(1, K(2|e|+1)/2^32) · (1/g on the lattice): Bonferroni
		// over the K predictors.
		lp := min(0, math.Log(float64(K))+math.Log(2*float64(eBest)+1)-ln2p32)
		if lattice {
			lp -= math.Log(float64(g))
		}
		r.logP = append(r.logP, lp)
		s -= lp
	}
	r.logComb = logFisher(s, r.m)
	r.hEst = median(slices.Clone(r.bits))
	for g, c := range gHits {
		if c > gHits[r.g] || (c == gHits[r.g] && g > r.g) {
			r.g = g
		}
	}
	return r
}
