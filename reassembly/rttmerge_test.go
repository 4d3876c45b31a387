package reassembly

import (
	"testing"
	"time"
)

// TestRTTMerge: a rollup's merged histogram answers percentiles over the
// samples of every connection it merged, whatever form each one's histogram
// has.
func TestRTTMerge(t *testing.T) {
	var a, b, many, r RTT
	for range 10 {
		a.add(time.Millisecond)
		b.add(100 * time.Millisecond)
	}
	for i := range 40 { // spread over many buckets
		many.add(time.Duration(1<<(i%30)) * time.Microsecond)
	}
	r.Merge(&a)
	r.Merge(&b)
	if r.Samples != 20 || r.Min != time.Millisecond || r.Max != 100*time.Millisecond {
		t.Fatalf("Merge: samples %d, min %v, max %v; want 20, 1ms, 100ms", r.Samples, r.Min, r.Max)
	}
	if r.hist != nil {
		t.Error("two connections' RTTs in two buckets made the rollup's histogram dense (1 KiB)")
	}
	if q := r.Quantile(0.25); q < 900*time.Microsecond || q > 1100*time.Microsecond {
		t.Errorf("Quantile(0.25) = %v, want about 1ms", q)
	}
	if q := r.Quantile(0.75); q < 90*time.Millisecond || q > 110*time.Millisecond {
		t.Errorf("Quantile(0.75) = %v, want about 100ms", q)
	}
	r.Merge(&many)
	var want RTT
	for _, x := range []*RTT{&a, &b, &many} {
		want.Merge(x)
	}
	for _, q := range []float64{0.1, 0.5, 0.9, 0.99} {
		if got, w := r.Quantile(q), want.Quantile(q); got != w {
			t.Errorf("Quantile(%v) = %v after merging in turn, %v merged at once", q, got, w)
		}
	}
	var empty RTT
	r.Merge(&empty)
	if r.Samples != 60 {
		t.Errorf("merging no samples changed the count to %d", r.Samples)
	}
}
