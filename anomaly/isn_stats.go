package anomaly

import (
	"math"
	"slices"
)

// median returns the median of v (the mean of the two middle values for an
// even count; NaN for none). It reorders v: callers pass scratch. It
// selects rather than sorts (Hoare's quickselect, expected O(n)): Findings
// takes a Theil–Sen median of up to Window²/2 slopes per prediction.
func median(v []float64) float64 {
	n := len(v)
	if n == 0 {
		return math.NaN()
	}
	hi := selectKth(v, n/2)
	if n%2 == 1 {
		return hi
	}
	// v[:n/2] now holds the smaller half; its maximum is the lower middle.
	return (slices.Max(v[:n/2]) + hi) / 2
}

// selectKth reorders v so that v[k] is the k-th smallest (0-based), every
// element before it ≤ v[k] and every one after ≥ v[k], and returns v[k].
func selectKth(v []float64, k int) float64 {
	lo, hi := 0, len(v)-1
	for lo < hi {
		// Median-of-three pivot keeps sorted and reversed input linear.
		mid := lo + (hi-lo)/2
		if v[mid] < v[lo] {
			v[mid], v[lo] = v[lo], v[mid]
		}
		if v[hi] < v[lo] {
			v[hi], v[lo] = v[lo], v[hi]
		}
		if v[hi] < v[mid] {
			v[hi], v[mid] = v[mid], v[hi]
		}
		p := v[mid]
		i, j := lo, hi
		for i <= j {
			for v[i] < p {
				i++
			}
			for v[j] > p {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}

// logSumExp returns log(Σ exp(l)) without overflow.
func logSumExp(l []float64) float64 {
	m := math.Inf(-1)
	for _, x := range l {
		m = max(m, x)
	}
	if math.IsInf(m, -1) {
		return m
	}
	var s float64
	for _, x := range l {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}

// logFisher returns ln p_comb for Fisher's method over m independent
// p-values whose −ln sum is s: under the null S is Gamma(m, 1), so
// p_comb = P(Gamma(m,1) ≥ s) = e^{−s} Σ_{k<m} s^k/k! (exact for integer m;
// anomalies.md §3.2). It is computed in logs because s reaches 10^4 for a
// host with a thousand trivially predictable samples.
func logFisher(s float64, m int) float64 {
	if m <= 0 || s <= 0 {
		return 0
	}
	terms := make([]float64, m)
	ls := math.Log(s)
	for k := range m {
		lg, _ := math.Lgamma(float64(k + 1))
		terms[k] = float64(k)*ls - lg
	}
	return min(0, -s+logSumExp(terms))
}

// logPoissonTail returns ln P(X ≥ r) for X ~ Poisson(λ), summing the tail
// directly: 1 − CDF cancels to zero for the λ ≈ 10^-4 of a birthday test.
func logPoissonTail(r int, lambda float64) float64 {
	if r <= 0 {
		return 0
	}
	if lambda <= 0 {
		return math.Inf(-1)
	}
	ll := math.Log(lambda)
	var terms []float64
	for k := r; k < r+1000; k++ {
		lg, _ := math.Lgamma(float64(k + 1))
		t := -lambda + float64(k)*ll - lg
		terms = append(terms, t)
		// Past the mode the terms shrink geometrically; stop once they
		// no longer move the sum.
		if float64(k) > lambda && t < terms[0]-50 {
			break
		}
	}
	return min(0, logSumExp(terms))
}

// logChoose returns ln C(n, k).
func logChoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}
