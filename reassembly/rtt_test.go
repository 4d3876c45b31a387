package reassembly

import (
	"testing"
)

// TestRTTSparseDense checks that the sparse histogram gives the quantiles
// the dense one does, before and after it turns dense.
func TestRTTSparseDense(t *testing.T) {
	for _, spread := range []int{1, 5, rttSparseMax, rttSparseMax + 1, 200} {
		var r RTT
		var dense rttHist
		for i := 0; i < 3*spread; i++ {
			d := rttBucketMid((i * 7919) % spread) // spread distinct buckets
			r.add(d)
			dense[rttBucket(d)]++
		}
		ref := RTT{Samples: r.Samples, Min: r.Min, Max: r.Max, hist: &dense}
		before := r
		for _, q := range []float64{0.01, 0.25, 0.5, 0.9, 0.99, 1} {
			if got, want := r.Quantile(q), ref.Quantile(q); got != want {
				t.Errorf("spread %d: Quantile(%v) = %v, want %v", spread, q, got, want)
			}
		}
		if r != before {
			t.Errorf("spread %d: Quantile changed the RTT", spread)
		}
		// One bucket stays in the run, with no histogram at all.
		wantSparse := spread > 1 && spread <= rttSparseMax
		if wantDense := spread > rttSparseMax; (r.hist != nil) != wantDense || (r.sparse != nil) != wantSparse {
			t.Errorf("spread %d: dense %v, sparse %v; want %v, %v", spread, r.hist != nil, r.sparse != nil, wantDense, wantSparse)
		}
	}
}
